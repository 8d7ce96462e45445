"""Probes: real measurements with real sockets. Each returns a dict of v6 result fields (times in ms)."""

import socket


class ResolveError(OSError):
    pass


def resolve(host: str, port: int) -> tuple[int, tuple]:
    """(address family, sockaddr) of the first address of host; raises ResolveError naming the host."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolveError(f"cannot resolve {host}: {exc}") from None
    if not infos:
        raise ResolveError(f"cannot resolve {host}: no address")
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


def split_host_port(target: str, default_port: int) -> tuple[str, int]:
    """'host:port', '[v6]:port', 'v6addr' or 'host' → (host, port)."""
    target = target.strip()
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else default_port
    if target.count(":") == 1:
        host, port = target.split(":")
        return host, int(port) if port.isdigit() else default_port
    return target, default_port


def summarize(latencies: list[float], sent: int) -> dict:
    """loss %, min/avg/max latency and jitter (ms) of a burst. Latencies are in send order, lost probes left out.

    Jitter is the mean absolute difference between the latencies of consecutive answered probes (the
    inter-packet delay variation of RFC 3393, averaged without smoothing), as iputils and icmplib report it."""
    loss = round(100.0 * (sent - len(latencies)) / sent, 3) if sent else None
    if not latencies:
        return {"loss": loss, "minLatency": None, "avgLatency": None, "maxLatency": None, "jitter": None}
    diffs = [abs(b - a) for a, b in zip(latencies, latencies[1:], strict=False)]
    return {
        "loss": loss,
        "minLatency": round(min(latencies), 3),
        "avgLatency": round(sum(latencies) / len(latencies), 3),
        "maxLatency": round(max(latencies), 3),
        "jitter": round(sum(diffs) / len(diffs), 3) if diffs else 0.0,
    }
