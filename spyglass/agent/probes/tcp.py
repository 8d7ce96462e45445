"""agent-to-server over TCP: a burst of connection handshakes, timed from connect() to the kernel's answer.

All probes of a burst run in one thread on one selector, launched every `spacing_ms` whatever the answers, so a
slow or lost probe never delays the next one."""

import errno
import selectors
import socket
import struct
import time

from . import ResolveError, resolve, summarize

# struct tcp_info: 8 bytes of u8 fields, then u32 fields; tcpi_total_retrans is the 24th u32 (offset 100).
_TCP_INFO_LEN = 104
_TOTAL_RETRANS_OFFSET = 100
_LINGER_RESET = struct.pack("ii", 1, 0)


def _syn_was_retransmitted(sock: socket.socket) -> bool:
    """True when the kernel had to resend the SYN: the first handshake attempt was lost."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    except OSError:
        return False
    if len(info) < _TCP_INFO_LEN:
        return False
    return struct.unpack_from("I", info, _TOTAL_RETRANS_OFFSET)[0] > 0


def tcp_burst(host: str, port: int, count: int = 20, spacing_ms: float = 50, timeout_s: float = 3.0) -> dict:
    """Measure `count` TCP handshakes to host:port. Returns v6 network fields plus serverIp and errorType."""
    try:
        family, sockaddr = resolve(host, port)
    except ResolveError as exc:
        return {**summarize([], count), "loss": 100.0, "serverIp": "", "errorType": "DNS", "errorDetails": str(exc)}
    sel = selectors.DefaultSelector()
    latencies: dict[int, float] = {}
    refused = 0
    pending: dict[socket.socket, tuple[int, int]] = {}  # socket → (index, start ns)
    begin = time.perf_counter()
    launched = 0
    spacing = spacing_ms / 1000.0
    try:
        while launched < count or pending:
            now = time.perf_counter()
            while launched < count and now >= begin + launched * spacing:
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setblocking(False)
                # Close with RST: no FIN handshake and no TIME_WAIT pile-up from thousands of probes.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                start = time.perf_counter_ns()
                code = sock.connect_ex(sockaddr)
                if code in (errno.EINPROGRESS, 0):
                    pending[sock] = (launched, start)
                    sel.register(sock, selectors.EVENT_WRITE)
                else:
                    refused += code == errno.ECONNREFUSED
                    sock.close()
                launched += 1
                now = time.perf_counter()
            waits = [begin + launched * spacing - now] if launched < count else []
            if pending:
                oldest = min(start for _, start in pending.values())
                waits.append(oldest / 1e9 + timeout_s - now)
            for key, _ in sel.select(max(0.0, min(waits)) if waits else 0):
                done_ns = time.perf_counter_ns()
                sock = key.fileobj
                index, start = pending.pop(sock)
                sel.unregister(sock)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code == 0 and not _syn_was_retransmitted(sock):
                    latencies[index] = (done_ns - start) / 1e6
                refused += code == errno.ECONNREFUSED
                sock.close()
            deadline_ns = time.perf_counter_ns() - int(timeout_s * 1e9)
            for sock, (_, start) in list(pending.items()):
                if start <= deadline_ns:
                    pending.pop(sock)
                    sel.unregister(sock)
                    sock.close()
    finally:
        for sock in pending:
            sock.close()
        sel.close()
    ordered = [latencies[i] for i in sorted(latencies)]
    out = summarize(ordered, count)
    out["serverIp"] = sockaddr[0]
    out["errorType"], out["errorDetails"] = "None", ""
    if not ordered:
        out["errorType"] = "Connect"
        out["errorDetails"] = (
            f"connection refused by {sockaddr[0]}:{port}"
            if refused
            else f"no answer from {sockaddr[0]}:{port} within {timeout_s:g} s"
        )
    return out
