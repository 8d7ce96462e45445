"""Running one assignment for one round: the probes its test type needs, turned into result rows for the API."""

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from .probes import split_host_port
from .probes.dns import dns_probe
from .probes.http import http_probe
from .probes.icmp import icmp_burst
from .probes.rdns import reverse_names
from .probes.tcp import tcp_burst
from .probes.trace import raw_socket_problem, trace

NET_FIELDS = ("loss", "minLatency", "avgLatency", "maxLatency", "jitter", "serverIp", "errorType", "errorDetails")
# Network measurements that http-server and dns-server tests take toward their target.
SIDE_PROBES, SIDE_SPACING_MS = 10, 50
DEFAULT_PATH_TRACES = 3  # an assignment without numPathTraces (an older server) gets ThousandEyes' default
MAX_PATH_TRACES = 10  # the server takes traceIndex 0..9
# The traces of a round share this part of the interval (they run beside the other probes), and end this long before
# the round does at the latest: a round's run must end within its round (a late start leaves less).
TRACE_SHARE, TRACE_MARGIN_S = 0.4, 3.0
PATH_FIELDS = ("serverIp", "sourceIp", "protocol", "reached", "hops", "errorDetails")


def _row(kind: str, a: dict, round_id: int, date: float, fields: dict) -> dict:
    return {"kind": kind, "testId": a["testId"], "roundId": round_id, "date": date, **fields}


def _net(a: dict, round_id: int, date: float, burst: dict, server: str) -> dict:
    return _row("net", a, round_id, date, {"server": server, **{k: burst[k] for k in NET_FIELDS}})


def path_traces(a: dict, host: str, port: int, protocol: str, round_end_s: float = float("inf")) -> list[dict]:
    """The round's `numPathTraces` traces toward host:port, one after the other within TRACE_SHARE of the interval
    and before round_end_s (seconds from now) less a margin, hop names filled in. None when the test asks for none
    or this agent cannot trace (its heartbeat says why)."""
    count = a.get("numPathTraces")
    count = DEFAULT_PATH_TRACES if count is None else min(int(count), MAX_PATH_TRACES)
    if count <= 0 or raw_socket_problem():
        return []
    deadline = time.monotonic() + min(a.get("interval", 60) * TRACE_SHARE, round_end_s - TRACE_MARGIN_S)
    traces = []
    for _ in range(count):
        left = deadline - time.monotonic()
        try:
            if left <= 0.5:
                raise TimeoutError("no time left in the round for this trace")
            traces.append(trace(host, port, protocol, time_limit_s=left))
        except Exception as exc:  # a tracing bug must not cost the round's other measurements
            traces.append({"protocol": protocol, "reached": False, "hops": [], "errorDetails": f"{exc}"[:300]})
    addresses = {h["ipAddress"] for t in traces for h in t["hops"] if h["ipAddress"]}
    names = reverse_names(addresses) if addresses else {}
    for t in traces:
        for h in t["hops"]:
            h["rdns"] = names.get(h["ipAddress"], "") if h["ipAddress"] else ""
    return traces


def _path_rows(a: dict, round_id: int, date: float, traces: list[dict], server: str) -> list[dict]:
    return [
        _row("path", a, round_id, date, {"traceIndex": i, "server": server, **{k: t.get(k, "") for k in PATH_FIELDS}})
        for i, t in enumerate(traces)
    ]


def run_assignment(a: dict, round_id: int, date: float | None = None) -> list[dict]:
    """Measure and return the rows of this round (net, http, dns and path kinds as the test type needs). Path traces
    run in a thread of their own beside the other probes."""
    date = time.time() if date is None else date
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trace") as tracer:
        return _measure(a, round_id, date, tracer)


def _measure(a: dict, round_id: int, date: float, tracer: ThreadPoolExecutor) -> list[dict]:
    kind = a["type"]
    round_end_s = round_id + a.get("interval", 60) - date  # date: when the round's run started, on the round's clock
    if kind == "agent-to-server":
        server = f"{a['server']}:{a['port']}" if a.get("port") else a["server"]
        protocol = "ICMP" if a.get("protocol") == "ICMP" else "TCP"
        traces = tracer.submit(path_traces, a, a["server"], a.get("port") or 0, protocol, round_end_s)
        if protocol == "ICMP":
            burst = icmp_burst(a["server"], a["probeCount"], a["probeSpacing"])
        else:
            burst = tcp_burst(a["server"], a["port"], a["probeCount"], a["probeSpacing"])
        return [_net(a, round_id, date, burst, server), *_path_rows(a, round_id, date, traces.result(), server)]
    if kind == "http-server":
        parts = urlsplit(a["url"])
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    else:
        host, port = split_host_port(a["dnsServers"][0], 53)
    side = a.get("networkMeasurements", True)
    traces = tracer.submit(path_traces, a, host, port, "TCP", round_end_s) if side else None
    rows = []
    if kind == "http-server":
        fields = http_probe(
            a["url"],
            time_limit_s=a.get("httpTimeLimit", 5),
            follow_redirects=a.get("followRedirects", True),
            max_redirects=a.get("maxRedirects", 10),
            verify=a.get("verifyCertificate", True),
            headers=dict(h.split(":", 1) for h in a.get("headers") or [] if isinstance(h, str) and ":" in h),
            desired_status=str(a.get("desiredStatusCode") or ""),
            content_regex=a.get("contentRegex") or "",
        )
        rows.append(_row("http", a, round_id, date, fields))
    else:
        for i, server in enumerate(a["dnsServers"], start=1):
            fields = dns_probe(
                a["domain"], server, a.get("dnsTransportProtocol", "UDP"), a.get("recursiveQueries", True)
            )
            rows.append(_row("dns", a, round_id, date, {"serverId": i, **fields}))
    if traces is not None:
        rows.append(_net(a, round_id, date, tcp_burst(host, port, SIDE_PROBES, SIDE_SPACING_MS), f"{host}:{port}"))
        rows.extend(_path_rows(a, round_id, date, traces.result(), f"{host}:{port}"))
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
