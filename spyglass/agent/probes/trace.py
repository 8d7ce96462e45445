"""Path traces: the hops toward a target, one TTL at a time, over raw sockets (they need CAP_NET_RAW).

TCP (the default) sends SYNs to the test's port, ICMP sends echo requests. A router where a probe's TTL runs out
answers with ICMP time-exceeded (that names the hop); the destination answers with SYN-ACK or RST, or an echo reply.

Paris-traceroute style, every probe of a trace belongs to one flow, so a load balancer hashing the flow sends all
of them the same way: TCP probes keep their ports and differ only in the sequence number (which routers quote back
in time-exceeded, and the destination acknowledges); ICMP probes keep their identifier and checksum and differ in
the sequence number, two payload bytes making up for it. TCP sequence numbers are consecutive, so that when several
SYNs of one flow reach the destination together, each later one falls inside the window of the half-open connection
the earlier one made, and the destination answers it with a RST naming its sequence number rather than dropping it.

All probes of a hop leave together; a hop's wait ends when all answered, at 3x the slowest answer of the hop, or
(no answer) at 10x the slowest earlier hop — traceroute's HERE and NEAR rules — never past MAX_WAIT_S or the
deadline. MAX_SILENT_RUN unknown hops in a row end the trace. Receive times are the kernel's (SO_TIMESTAMPNS), so a busy agent's scheduling does not add to RTTs.
IPv4 only for now."""

import random
import select
import socket
import statistics
import struct
import time
from collections import Counter
from dataclasses import dataclass, field

from . import ResolveError, resolve

PROBES_PER_HOP, MAX_PROBES_PER_HOP = 3, 10
MAX_HOPS = 30
MAX_WAIT_S = 2.0  # no hop is waited for longer
FIRST_WAIT_S = 1.0  # the wait of a hop with no earlier answer to scale from
MIN_NEAR_WAIT_S, MIN_HERE_WAIT_S = 0.5, 0.05
# This many unknown hops in a row end a trace: the destination (or a firewall before it) drops the probes, and
# waiting on up to 30 silent hops would spend the round's time on nothing.
MAX_SILENT_RUN = 8
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux value; Python 3.11 does not export it
_SOL_RAW, _ICMP_FILTER = 255, 1
_ECHO_REPLY, _UNREACHABLE, _ECHO_REQUEST, _TIME_EXCEEDED = 0, 3, 8, 11
_SYN, _RST, _ACK = 0x02, 0x04, 0x10
NO_RAW_SOCKETS = (
    "path traces unavailable: raw sockets need CAP_NET_RAW (run as root, setcap cap_net_raw+ep, or systemd "
    "AmbientCapabilities=CAP_NET_RAW)"
)
_raw_problem: str | None = None


def raw_socket_problem() -> str:
    """ "" when this process may open raw sockets, else why not (one line). Checked once per process."""
    global _raw_problem
    if _raw_problem is None:
        try:
            socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
            _raw_problem = ""
        except PermissionError:
            _raw_problem = NO_RAW_SOCKETS
        except OSError as exc:
            _raw_problem = f"path traces unavailable: cannot open a raw socket ({exc})"[:300]
    return _raw_problem


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@dataclass
class Hop:
    ttl: int
    sent: int = 0
    answers: list[tuple[str, float, bool]] = field(default_factory=list)  # (address, rtt ms, from the destination)
    unreachable: bool = False

    def row(self) -> dict:
        addresses = Counter(address for address, _, _ in self.answers)
        rtts = [rtt for _, rtt, _ in self.answers]
        return {
            "hop": self.ttl,
            "ipAddress": addresses.most_common(1)[0][0] if addresses else None,
            "rdns": "",
            "responseTime": round(statistics.median(rtts), 3) if rtts else None,
            "sent": self.sent,
            "lost": self.sent - len(self.answers),
        }


class _Flow:
    """One trace's sockets and probe encoding; subclasses speak TCP or ICMP."""

    def __init__(self, source: str, target: str, port: int):
        self.source, self.target, self.port = source, target, port
        self.sockets: list[socket.socket] = []
        self.listening: list[socket.socket] = []  # where answers arrive

    def _raw(self, protocol: int, icmp_types: tuple[int, ...] = ()) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, protocol)
        self.sockets.append(sock)
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        if icmp_types:  # the kernel hands this socket only these ICMP types
            mask = 0xFFFFFFFF
            for kind in icmp_types:
                mask &= ~(1 << kind)
            sock.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", mask))
        sock.setblocking(False)
        return sock

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

    def send(self, ttl: int, key: int) -> None:
        raise NotImplementedError

    def match(self, sock: socket.socket, packet: bytes) -> tuple[int, str, bool, bool] | None:
        """(probe key, answering address, from the destination, unreachable) of an answer to this flow, or None."""
        raise NotImplementedError

    def _quoted(self, packet: bytes, ihl: int, protocol: int) -> bytes | None:
        """The first 8 bytes of our probe's transport header quoted in an ICMP error, when the error is about us."""
        inner = packet[ihl + 8 :]
        if len(inner) < 28 or inner[9] != protocol or socket.inet_ntoa(inner[16:20]) != self.target:
            return None
        inner_ihl = (inner[0] & 0x0F) * 4
        quoted = inner[inner_ihl : inner_ihl + 8]
        return quoted if len(quoted) == 8 else None


class _TcpFlow(_Flow):
    def __init__(self, source: str, target: str, port: int):
        super().__init__(source, target, port)
        # A real socket holds the source port for the trace, so no connection of this machine reuses the flow.
        self.holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sockets.append(self.holder)
        self.holder.bind((source, 0))
        self.sport = self.holder.getsockname()[1]
        self.tcp = self._raw(socket.IPPROTO_TCP)
        self.tcp.connect((target, 0))  # the kernel hands this raw socket only TCP segments from the target
        self.icmp = self._raw(socket.IPPROTO_ICMP, (_UNREACHABLE, _TIME_EXCEEDED))
        self.listening = [self.tcp, self.icmp]
        self.base = random.getrandbits(31)

    def send(self, ttl: int, key: int) -> None:
        seq = (self.base + key) & 0xFFFFFFFF
        mss = struct.pack("!BBH", 2, 4, 1460)
        header = struct.pack("!HHIIBBHHH", self.sport, self.port, seq, 0, 6 << 4, _SYN, 64240, 0, 0) + mss
        pseudo = socket.inet_aton(self.source) + socket.inet_aton(self.target) + struct.pack("!BBH", 0, 6, 24)
        header = header[:16] + struct.pack("!H", checksum(pseudo + header)) + header[18:]
        self.tcp.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        self.tcp.sendto(header, (self.target, 0))

    def match(self, sock, packet):
        ihl = (packet[0] & 0x0F) * 4
        if sock is self.tcp:
            segment = packet[ihl : ihl + 14]
            if len(segment) < 14:
                return None
            sport, dport, _, ack, _, flags = struct.unpack("!HHIIBB", segment)
            if (sport, dport) != (self.port, self.sport) or not (flags & _RST or flags & (_SYN | _ACK) == _SYN | _ACK):
                return None
            return (ack - 1 - self.base) & 0xFFFFFFFF, socket.inet_ntoa(packet[12:16]), True, False
        quoted = self._quoted(packet, ihl, socket.IPPROTO_TCP)
        if quoted is None:
            return None
        sport, dport, seq = struct.unpack("!HHI", quoted)
        if (sport, dport) != (self.sport, self.port):
            return None
        address = socket.inet_ntoa(packet[12:16])
        return (seq - self.base) & 0xFFFFFFFF, address, address == self.target, packet[ihl] == _UNREACHABLE


class _IcmpFlow(_Flow):
    PAD = 28

    def __init__(self, source: str, target: str, port: int):
        super().__init__(source, target, port)
        self.icmp = self._raw(socket.IPPROTO_ICMP, (_ECHO_REPLY, _UNREACHABLE, _TIME_EXCEEDED))
        self.listening = [self.icmp]
        self.ident = random.getrandbits(16)

    def send(self, ttl: int, key: int) -> None:
        # seq + (0xFFFF - seq) is the same for every probe: the checksum, which load balancers may hash, never moves.
        seq = key & 0xFFFF
        body = struct.pack("!H", 0xFFFF - seq) + b"\0" * self.PAD
        header = struct.pack("!BBHHH", _ECHO_REQUEST, 0, 0, self.ident, seq)
        packet = header[:2] + struct.pack("!H", checksum(header + body)) + header[4:] + body
        self.icmp.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        self.icmp.sendto(packet, (self.target, 0))

    def match(self, sock, packet):
        ihl = (packet[0] & 0x0F) * 4
        address = socket.inet_ntoa(packet[12:16])
        if packet[ihl] == _ECHO_REPLY:
            ident, seq = struct.unpack("!HH", packet[ihl + 4 : ihl + 8])
            return (seq, address, True, False) if ident == self.ident and address == self.target else None
        quoted = self._quoted(packet, ihl, socket.IPPROTO_ICMP)
        if quoted is None or quoted[0] != _ECHO_REQUEST:
            return None
        ident, seq = struct.unpack("!HH", quoted[4:8])
        if ident != self.ident:
            return None
        return seq, address, address == self.target, packet[ihl] == _UNREACHABLE


def _receive(sock: socket.socket) -> tuple[bytes, int] | None:
    """(packet, kernel receive time in ns) or None when nothing is waiting."""
    try:
        packet, ancillary, _, _ = sock.recvmsg(4096, 64)
    except BlockingIOError:
        return None
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return packet, seconds * 1_000_000_000 + nanoseconds
    return packet, time.time_ns()


def source_address(target: str, port: int) -> str:
    """The address this machine sends from toward the target (a UDP connect picks the route, sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((target, port or 33434))
        return s.getsockname()[0]


def _probe_hop(flow: _Flow, hop: Hop, count: int, key0: int, near_s: float, deadline: float) -> None:
    """Send `count` probes with the hop's TTL and collect their answers into hop."""
    sent_ns: dict[int, int] = {}
    for i in range(count):
        sent_ns[key0 + i] = time.time_ns()
        flow.send(hop.ttl, key0 + i)
        hop.sent += 1
    started = time.monotonic()
    until = min(started + near_s, deadline)

    def collect(sock: socket.socket) -> None:
        nonlocal until
        while (got := _receive(sock)) is not None:
            packet, received_ns = got
            found = flow.match(sock, packet)
            if found is None or found[0] not in sent_ns:
                continue
            key, address, from_target, unreachable = found
            rtt_ms = max(0.0, (received_ns - sent_ns.pop(key)) / 1e6)
            hop.answers.append((address, rtt_ms, from_target))
            hop.unreachable |= unreachable
            slowest = max(rtt for _, rtt, _ in hop.answers) / 1000.0
            here = min(MAX_WAIT_S, max(MIN_HERE_WAIT_S, 3 * slowest))
            until = min(until, started + here, deadline)

    while sent_ns and time.monotonic() < until:
        ready, _, _ = select.select(flow.listening, [], [], max(0.0, until - time.monotonic()))
        for sock in ready:
            collect(sock)
    # Answers already queued count even when this thread was kept from reading them in time (a busy machine): their
    # round-trip times are the kernel's, so the delay in reading does not show in them.
    for sock in flow.listening:
        collect(sock)


def trace(
    host: str,
    port: int = 80,
    protocol: str = "TCP",
    probes_per_hop: int = PROBES_PER_HOP,
    max_hops: int = MAX_HOPS,
    time_limit_s: float = 30.0,
) -> dict:
    """One path trace. Returns {serverIp, sourceIp, protocol, reached, hops, errorDetails} (contract §2's fields)."""
    deadline = time.monotonic() + time_limit_s
    protocol = "ICMP" if str(protocol).upper() == "ICMP" else "TCP"
    out = {"serverIp": "", "sourceIp": "", "protocol": protocol, "reached": False, "hops": [], "errorDetails": ""}
    try:
        family, sockaddr = resolve(host, port)
    except ResolveError as exc:
        out["errorDetails"] = str(exc)
        return out
    out["serverIp"] = sockaddr[0]
    if family != socket.AF_INET:
        out["errorDetails"] = "path traces to IPv6 targets are not supported yet"
        return out
    problem = raw_socket_problem()
    if problem:
        out["errorDetails"] = problem
        return out
    count = max(1, min(MAX_PROBES_PER_HOP, probes_per_hop))
    try:
        out["sourceIp"] = source_address(sockaddr[0], port)
        flow = (_IcmpFlow if protocol == "ICMP" else _TcpFlow)(out["sourceIp"], sockaddr[0], port)
    except OSError as exc:
        out["errorDetails"] = f"cannot trace toward {sockaddr[0]}: {exc}"
        return out
    hops: list[Hop] = []
    slowest_s = 0.0
    try:
        for ttl in range(1, max(1, min(MAX_HOPS, max_hops)) + 1):
            if time.monotonic() >= deadline:
                out["errorDetails"] = f"stopped at hop {ttl} after {time_limit_s:g} s (the trace's time limit)"
                break
            hop = Hop(ttl)
            near = min(MAX_WAIT_S, max(MIN_NEAR_WAIT_S, 10 * slowest_s)) if slowest_s else FIRST_WAIT_S
            _probe_hop(flow, hop, count, (ttl - 1) * MAX_PROBES_PER_HOP, near, deadline)
            hops.append(hop)
            slowest_s = max([slowest_s] + [rtt / 1000.0 for _, rtt, _ in hop.answers])
            if any(from_target for _, _, from_target in hop.answers):
                out["reached"] = True
                break
            if hop.unreachable:
                break
            if len(hops) >= MAX_SILENT_RUN and not any(h.answers for h in hops[-MAX_SILENT_RUN:]):
                out["errorDetails"] = f"no answer from {MAX_SILENT_RUN} hops in a row: stopped at hop {ttl}"
                break
    except OSError as exc:
        out["errorDetails"] = f"trace toward {sockaddr[0]} failed: {exc}"
    finally:
        flow.close()
    out["hops"] = [hop.row() for hop in hops]
    return out
