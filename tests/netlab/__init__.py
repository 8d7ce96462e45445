"""An emulated network link for accuracy tests (this kernel has no netem).

A TUN device in the root namespace (198.18.0.1) and one moved into a namespace of its own (198.18.0.2), with a relay
process forwarding IP packets between the two file descriptors, holding each for a set delay and dropping a set
fraction. 198.18.0.0/15 is set aside for network benchmarks; nothing is sent anywhere else."""

import fcntl
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT_IP, NS_IP = "198.18.0.1", "198.18.0.2"
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
LOCK = "/tmp/spyglass-netlab.lock"


def realtime(priority: int = 10) -> None:
    """Put the calling thread on the real-time FIFO scheduler (root only), so that on a busy machine the relay, the
    servers and the measuring thread are not kept waiting by other processes: what is measured is the link."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, AttributeError, OSError):
        pass


def normal() -> None:
    try:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except (PermissionError, AttributeError, OSError):
        pass


@pytest.fixture(autouse=True)
def measuring_thread_not_starved():
    """Imported by a test module of the emulated networks: each of its tests measures on a real-time thread."""
    realtime()
    yield
    normal()


class NetlabUnavailable(Exception):
    """Namespaces or TUN cannot be made here; the message says why."""


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode:
        raise NetlabUnavailable(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")


def _tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd


def start_relay(fd_a: int, fd_b: int, delay_ms: float, loss: float, seed: int) -> subprocess.Popen:
    """Start tests/netlab/relay.py between two TUN file descriptors (packets from A are delayed and dropped)."""
    relay = subprocess.Popen(
        [sys.executable, str(HERE / "relay.py"), str(fd_a), str(fd_b), str(delay_ms), str(loss), str(seed)],
        pass_fds=(fd_a, fd_b),
        stdout=subprocess.PIPE,
        text=True,
    )
    # Packets sent before the relay runs would wait for it and look slow: start measuring once it is ready.
    if relay.stdout.readline().strip() != "ready":
        raise NetlabUnavailable("the relay did not start")
    return relay


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Netlab:
    def __init__(self):
        tag = str(os.getpid())[-6:]
        self.ns, self.tun_a, self.tun_b = f"sgns{tag}", f"sga{tag}", f"sgb{tag}"
        self.fds: list[int] = []
        self.relay: subprocess.Popen | None = None
        self.servers: list[subprocess.Popen] = []
        self.lock = None

    def up(self) -> "Netlab":
        if os.geteuid() != 0:
            raise NetlabUnavailable("needs root to create network namespaces and TUN devices")
        if not Path("/dev/net/tun").exists():
            raise NetlabUnavailable("/dev/net/tun does not exist")
        self.lock = open(LOCK, "w")  # one emulated link per machine at a time: the addresses are fixed
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            self.fds = [_tun(self.tun_a), _tun(self.tun_b)]
        except OSError as exc:
            self.down()
            raise NetlabUnavailable(f"cannot create a TUN device: {exc}") from None
        try:
            _ip("netns", "add", self.ns)
            _ip("link", "set", self.tun_b, "netns", self.ns)
            _ip("addr", "add", ROOT_IP, "peer", NS_IP, "dev", self.tun_a)
            _ip("link", "set", self.tun_a, "up")
            _ip("-n", self.ns, "addr", "add", NS_IP, "peer", ROOT_IP, "dev", self.tun_b)
            _ip("-n", self.ns, "link", "set", self.tun_b, "up")
            _ip("-n", self.ns, "link", "set", "lo", "up")
        except NetlabUnavailable:
            self.down()
            raise
        return self

    def shape(self, delay_ms: float, loss: float = 0.0, seed: int = 1) -> None:
        """(Re)start the relay: packets from the root side wait delay_ms and a fraction `loss` of them is dropped.

        Only the forward direction is shaped, so a round trip (a TCP handshake, an echo) takes delay_ms more."""
        self.stop_relay()
        self.relay = start_relay(*self.fds, delay_ms, loss, seed)

    def stop_relay(self) -> None:
        stop_process(self.relay)
        self.relay = None

    def serve(self, *args: str) -> subprocess.Popen:
        """Run tests/netlab/server.py inside the namespace; returns once it says it is ready."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, sys.executable, str(HERE / "server.py"), NS_IP, *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        if proc.stdout.readline().strip() != "ready":
            proc.kill()
            raise NetlabUnavailable("the server in the namespace did not start")
        self.servers.append(proc)
        return proc

    def down(self) -> None:
        for proc in self.servers:
            stop_process(proc)
        self.servers = []
        self.stop_relay()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        if self.lock:
            self.lock.close()
            self.lock = None
