"""A multi-hop network for path-trace tests: agent ↔ r1 ↔ r2 ↔ r3 ↔ target, each a network namespace of its own.

Real kernels forward (net.ipv4.ip_forward) and answer expired TTLs with ICMP time-exceeded; r2 never does (iptables
in r2 drops its time-exceeded); the r2 → r3 link is a TUN pair with tests/netlab's relay between them, so it can
delay and drop packets (this kernel has no netem). A spare router r4 (r1 ↔ r4 ↔ r3) lets a test move r1's route.

    agent 198.19.1.2 — 198.19.1.1 r1 198.19.2.1 — 198.19.2.2 r2 198.19.3.1 ═relay═ 198.19.3.2 r3 198.19.4.1 — 198.19.4.2 target
                                 r1 198.19.5.1 — 198.19.5.2 r4 198.19.6.1 — 198.19.6.2 r3

198.18.0.0/15 is the benchmarking range; these addresses live only inside the namespaces made here (the root
namespace holds nothing but the relay's TUN file descriptors), so several labs can run side by side."""

import json
import os
import subprocess
import sys
from pathlib import Path

from . import HERE, NetlabUnavailable, _ip, _tun, start_relay, stop_process

TARGET, R1, R2, R3, R4 = "198.19.4.2", "198.19.1.1", "198.19.2.2", "198.19.3.2", "198.19.5.2"
AGENT = "198.19.1.2"
ROOT = Path(__file__).resolve().parents[2]
# Each router answers every expired probe: the kernel's default ICMP rate limits (1 per second per peer after a
# burst of 6) would otherwise show up as loss at every hop that is probed faster than that.
_ROUTER_SYSCTLS = (
    "net.ipv4.ip_forward=1",
    "net.ipv4.icmp_ratelimit=0",
    "net.ipv4.icmp_msgs_per_sec=100000",
    "net.ipv4.icmp_msgs_burst=10000",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
)


class Chain:
    def __init__(self):
        tag = str(os.getpid())[-6:]
        self.names = {role: f"sg{role}{tag}" for role in ("agent", "r1", "r2", "r3", "r4", "target")}
        self.tuns = (f"sgta{tag}", f"sgtb{tag}")
        self.fds: list[int] = []
        self.relay: subprocess.Popen | None = None
        self.servers: list[subprocess.Popen] = []

    def ns(self, role: str) -> str:
        return self.names[role]

    def up(self) -> "Chain":
        if os.geteuid() != 0:
            raise NetlabUnavailable("needs root to create network namespaces and TUN devices")
        try:
            for name in self.names.values():
                _ip("netns", "add", name)
                _ip("-n", name, "link", "set", "lo", "up")
                self.sysctl(name, *_ROUTER_SYSCTLS)
            self._veth("agent", "r1", "198.19.1.2", "198.19.1.1")
            self._veth("r1", "r2", "198.19.2.1", "198.19.2.2")
            self._veth("r3", "target", "198.19.4.1", "198.19.4.2")
            self._veth("r1", "r4", "198.19.5.1", "198.19.5.2")
            self._veth("r4", "r3", "198.19.6.1", "198.19.6.2")
            self._tun_link("r2", "r3", "198.19.3.1", "198.19.3.2")
            routes = {
                "agent": ["default via 198.19.1.1"],
                "r1": ["default via 198.19.2.2"],
                "r2": ["default via 198.19.3.2", "198.19.1.0/24 via 198.19.2.1"],
                "r3": ["default via 198.19.3.1"],
                "r4": ["default via 198.19.6.2", "198.19.1.0/24 via 198.19.5.1"],
                "target": ["default via 198.19.4.1"],
            }
            for role, lines in routes.items():
                for line in lines:
                    _ip("-n", self.ns(role), "route", "add", *line.split())
            # r2 forwards but never says that a probe expired there: the unknown hop.
            self.run("r2", "iptables", "-A", "OUTPUT", "-p", "icmp", "--icmp-type", "time-exceeded", "-j", "DROP")
        except (NetlabUnavailable, OSError) as exc:
            self.down()
            raise NetlabUnavailable(str(exc)) from None
        return self

    def sysctl(self, name: str, *settings: str) -> None:
        done = subprocess.run(["ip", "netns", "exec", name, "sysctl", "-q", "-w", *settings], capture_output=True)
        if done.returncode:
            raise NetlabUnavailable(f"sysctl in {name}: {done.stderr.decode().strip()}")

    def _veth(self, a: str, b: str, addr_a: str, addr_b: str) -> None:
        dev_a, dev_b = f"to-{b}", f"to-{a}"
        _ip("link", "add", dev_a, "netns", self.ns(a), "type", "veth", "peer", "name", dev_b, "netns", self.ns(b))
        for role, dev, addr in ((a, dev_a, addr_a), (b, dev_b, addr_b)):
            _ip("-n", self.ns(role), "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", self.ns(role), "link", "set", dev, "up")

    def _tun_link(self, a: str, b: str, addr_a: str, addr_b: str) -> None:
        self.fds = [_tun(self.tuns[0]), _tun(self.tuns[1])]
        for role, dev, addr, peer in ((a, self.tuns[0], addr_a, addr_b), (b, self.tuns[1], addr_b, addr_a)):
            _ip("link", "set", dev, "netns", self.ns(role))
            _ip("-n", self.ns(role), "addr", "add", addr, "peer", peer, "dev", dev)
            _ip("-n", self.ns(role), "link", "set", dev, "up")

    def shape(self, delay_ms: float, loss: float = 0.0, seed: int = 1) -> None:
        """Packets from r2 toward r3 wait delay_ms and a fraction `loss` of them is dropped (the way back is not
        shaped), so every hop from r3 on is delay_ms further and loses `loss` of the probes."""
        self.stop_relay()
        self.relay = start_relay(self.fds[0], self.fds[1], delay_ms, loss, seed)

    def stop_relay(self) -> None:
        stop_process(self.relay)
        self.relay = None

    def run(self, role: str, *command: str, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        done = subprocess.run(["ip", "netns", "exec", self.ns(role), *command], **kwargs)
        if done.returncode and kwargs.get("check", True):
            raise NetlabUnavailable(f"{command[0]} in {role} failed: {done.stderr.strip()}")
        return done

    def serve_target(self) -> None:
        """TCP accept-and-close on 7000, HTTP on 8000 and DNS on 53 in the target (tests/netlab/server.py)."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("target"), sys.executable, str(HERE / "server.py"), TARGET],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if proc.stdout.readline().strip() != "ready":
            proc.kill()
            raise NetlabUnavailable("the server in the target namespace did not start")
        self.servers.append(proc)

    def serve_names(self, names: dict[str, str]) -> None:
        """Reverse DNS for the agent: a PTR responder on the agent's loopback (tests/netlab/names.py), named in the
        agent namespace's own resolv.conf (`ip netns exec` puts /etc/netns/NAME/resolv.conf in place)."""
        self.resolv_conf.parent.mkdir(parents=True, exist_ok=True)
        self.resolv_conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        pairs = [f"{ip}={name}" for ip, name in names.items()]
        proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.ns("agent"),
                sys.executable,
                str(HERE / "names.py"),
                "127.0.0.1",
                "53",
                *pairs,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        if proc.stdout.readline().strip() != "ready":
            proc.kill()
            raise NetlabUnavailable("the reverse-DNS responder did not start")
        self.servers.append(proc)

    @property
    def resolv_conf(self) -> Path:
        return Path("/etc/netns") / self.ns("agent") / "resolv.conf"

    def agent_python(self, code: str, *args: str, privileged: bool = True, timeout: float = 300) -> object:
        """Run Python code in the agent's namespace (as root, or without CAP_NET_RAW); returns what it printed as
        JSON on its last line. `args` are its sys.argv[1:]."""
        drop = [] if privileged else ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw"]
        done = subprocess.run(
            ["ip", "netns", "exec", self.ns("agent"), *drop, sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if done.returncode:
            raise AssertionError(f"agent-side python failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def down(self) -> None:
        for proc in self.servers:
            stop_process(proc)
        self.servers = []
        self.stop_relay()
        for name in self.names.values():
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        if self.resolv_conf.exists():
            self.resolv_conf.unlink()
            self.resolv_conf.parent.rmdir()
        for fd in self.fds:
            os.close(fd)
        self.fds = []
