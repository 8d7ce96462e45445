"""agent-to-server in ICMP mode (`protocol: "ICMP"`): echo requests through icmplib.

Unprivileged ICMP sockets are used where the system allows them (net.ipv4.ping_group_range), raw sockets as root."""

import os

from . import ResolveError, resolve, summarize


def icmp_burst(host: str, count: int = 20, spacing_ms: float = 50, timeout_s: float = 2.0) -> dict:
    from icmplib import ping
    from icmplib.exceptions import ICMPLibError

    try:
        _, sockaddr = resolve(host, 0)
    except ResolveError as exc:
        return {**summarize([], count), "loss": 100.0, "serverIp": "", "errorType": "DNS", "errorDetails": str(exc)}
    address = sockaddr[0]
    try:
        host_result = ping(
            address, count=count, interval=spacing_ms / 1000.0, timeout=timeout_s, privileged=os.geteuid() == 0
        )
    except (ICMPLibError, OSError) as exc:
        out = summarize([], count)
        out.update(serverIp=address, errorType="Connect", errorDetails=f"ICMP not possible here: {exc}")
        return out
    out = summarize(list(host_result.rtts), count)
    out.update(serverIp=address, errorType="None", errorDetails="")
    if not host_result.rtts:
        out.update(errorType="Connect", errorDetails=f"no echo reply from {address} within {timeout_s:g} s")
    return out
