"""Running one assignment for one round: the probes its test type needs, turned into result rows for the API."""

import time
from urllib.parse import urlsplit

from .probes import split_host_port
from .probes.dns import dns_probe
from .probes.http import http_probe
from .probes.icmp import icmp_burst
from .probes.tcp import tcp_burst

NET_FIELDS = ("loss", "minLatency", "avgLatency", "maxLatency", "jitter", "serverIp", "errorType", "errorDetails")
# Network measurements that http-server and dns-server tests take toward their target.
SIDE_PROBES, SIDE_SPACING_MS = 10, 50


def _row(kind: str, a: dict, round_id: int, date: float, fields: dict) -> dict:
    return {"kind": kind, "testId": a["testId"], "roundId": round_id, "date": date, **fields}


def _net(a: dict, round_id: int, date: float, burst: dict, server: str) -> dict:
    return _row("net", a, round_id, date, {"server": server, **{k: burst[k] for k in NET_FIELDS}})


def run_assignment(a: dict, round_id: int, date: float | None = None) -> list[dict]:
    """Measure and return the rows of this round (net, http and dns kinds as the test type needs)."""
    date = time.time() if date is None else date
    kind = a["type"]
    if kind == "agent-to-server":
        server = f"{a['server']}:{a['port']}" if a.get("port") else a["server"]
        if a.get("protocol") == "ICMP":
            burst = icmp_burst(a["server"], a["probeCount"], a["probeSpacing"])
        else:
            burst = tcp_burst(a["server"], a["port"], a["probeCount"], a["probeSpacing"])
        return [_net(a, round_id, date, burst, server)]
    rows = []
    if kind == "http-server":
        fields = http_probe(
            a["url"],
            time_limit_s=a.get("httpTimeLimit", 5),
            follow_redirects=a.get("followRedirects", True),
            max_redirects=a.get("maxRedirects", 10),
            verify=a.get("verifyCertificate", True),
            headers=dict(h.split(":", 1) for h in a.get("headers") or [] if isinstance(h, str) and ":" in h),
        )
        rows.append(_row("http", a, round_id, date, fields))
        parts = urlsplit(a["url"])
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    else:
        for i, server in enumerate(a["dnsServers"], start=1):
            fields = dns_probe(
                a["domain"], server, a.get("dnsTransportProtocol", "UDP"), a.get("recursiveQueries", True)
            )
            rows.append(_row("dns", a, round_id, date, {"serverId": i, **fields}))
        host, port = split_host_port(a["dnsServers"][0], 53)
    if a.get("networkMeasurements", True):
        rows.append(_net(a, round_id, date, tcp_burst(host, port, SIDE_PROBES, SIDE_SPACING_MS), f"{host}:{port}"))
    return rows


def overrun_rows(a: dict, round_id: int, date: float) -> list[dict]:
    """What a round records when its test did not finish within the round: an error, never made-up numbers."""
    details = f"the test did not finish within its round ({a['interval']} s)"
    error = {"errorType": "Timeout", "errorDetails": details}
    if a["type"] == "http-server":
        return [_row("http", a, round_id, date, error)]
    if a["type"] == "dns-server":
        return [
            _row("dns", a, round_id, date, {"server": s, "serverId": i, **error})
            for i, s in enumerate(a["dnsServers"], 1)
        ]
    return [_row("net", a, round_id, date, {"server": f"{a['server']}:{a['port']}", **error})]
