"""The exported JSON of the three data endpoints carries each stored value exactly, typed as v6 types it, whatever
the value: nulls, whole floats, 17-digit floats, huge and tiny numbers, unicode, quotes, backslashes and control
characters. The expected rows are written here from the model instances, independently of the export code, so any
faster way of producing the rows (in Python or in SQL) has to match them — on SQLite and PostgreSQL alike."""

import math
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings

from spyglass.lib.timefmt import format_v6_date
from spyglass.monitoring import results
from spyglass.monitoring.models import DnsResult, HttpResult, NetResult
from tests.conftest import make_agent, make_test

ODD_TEXT = 'quote " backslash \\ slash / tab \t newline \n cr \r bell \x07 esc \x1b unit \x1f é 日本 🚀 \u2028 \ufeff'
FLOATS = [None, 0.0, 1.0, 0.1 + 0.2, 2 / 3, 123456789.123456789, 1e15, 12345678901234567.0, 1e300, 2.5e-7, 5e-324]

# v6 name → column, in the order of the response after agentId, agentName, countryId, date, roundId, permalink.
NET = ["serverIp", "server", "loss", "minLatency", "avgLatency", "maxLatency", "jitter"]
HTTP = [
    "serverIp",
    "responseCode",
    "numRedirects",
    "redirectTime",
    "dnsTime",
    "sslTime",
    "connectTime",
    "waitTime",
    "receiveTime",
    "wireSize",
    "responseTime",
    "throughput",
    "totalTime",
    "errorType",
    "errorDetails",
    "sslCipher",
    "sslVersion",
]
DNS = ["serverId", "server", "resolutionTime", "errorType", "errorDetails", "mappings"]
COLUMN = {
    "serverIp": "server_ip",
    "server": "server",
    "loss": "loss",
    "minLatency": "min_latency",
    "avgLatency": "avg_latency",
    "maxLatency": "max_latency",
    "jitter": "jitter",
    "responseCode": "response_code",
    "numRedirects": "num_redirects",
    "redirectTime": "redirect_time",
    "dnsTime": "dns_time",
    "sslTime": "ssl_time",
    "connectTime": "connect_time",
    "waitTime": "wait_time",
    "receiveTime": "receive_time",
    "wireSize": "wire_size",
    "responseTime": "response_time",
    "throughput": "throughput",
    "totalTime": "total_time",
    "errorType": "error_type",
    "errorDetails": "error_details",
    "sslCipher": "ssl_cipher",
    "sslVersion": "ssl_version",
    "requestHeaders": "request_headers",
    "responseHeaders": "response_headers",
    "sslCerts": "ssl_certs",
    "serverId": "server_id",
    "resolutionTime": "resolution_time",
    "mappings": "mappings",
}


def same(a, b) -> bool:
    """Equal and of the same JSON type: 1 and 1.0 differ (v6 integers stay integers, floats stay floats)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


# Timings v6 writes in whole milliseconds, as its example bodies (half up; an absurd value past 2**53 stays a float).
WHOLE = {"redirectTime", "dnsTime", "sslTime", "connectTime", "waitTime", "receiveTime", "responseTime", "totalTime"}
WHOLE |= {"resolutionTime"}


def _as_v6(name, value):
    if name in WHOLE and value is not None and value < 2**53:
        return math.floor(value + 0.5)
    return value


def expected(test, stored, names) -> list[dict]:
    return [
        {
            "agentId": r.agent_id,
            "agentName": r.agent.name,
            "countryId": r.agent.country_id,
            "date": format_v6_date(r.date),
            "roundId": r.round_id,
            "permalink": f"{settings.BASE_URL}/tests/{test.id}/?roundId={r.round_id}&agentId={r.agent_id}",
            **{name: _as_v6(name, getattr(r, COLUMN[name])) for name in names},
        }
        for r in stored
    ]


@pytest.fixture
def odd(cast):
    """Two agents with awkward names and the last len(FLOATS) rounds of a 60 s test."""
    agents = [
        make_agent(cast.owner, name='Zürich "HQ" \\ 日本 🚀', country_id="CH"),
        make_agent(cast.owner, name="tab\there, newline\nthere \x01", country_id=""),
    ]
    last = int(time.time()) // 60 * 60 - 60
    rounds = [last - 60 * i for i in range(len(FLOATS))]
    return agents, rounds


def _rows(test, agents, rounds, build):
    """Result rows of every agent in every round, each agent's floats shifted so every value meets every column."""
    rows = []
    for index, round_id in enumerate(rounds):
        for shift, agent in enumerate(agents):
            value = FLOATS[(index + shift) % len(FLOATS)]
            date = datetime.fromtimestamp(round_id + 7.9, tz=UTC)
            rows.append(
                {"test_id": test.id, "agent_id": agent.id, "round_id": round_id, "date": date, **build(value, index)}
            )
    return rows


def _export(cast, url):
    response = cast.owner.client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_net_metrics_carry_every_value_exactly(cast, odd):
    agents, rounds = odd
    test = make_test(cast.owner, "agent-to-server", interval=60)
    test.agents.add(*agents)

    def build(value, index):
        return {
            "server_ip": "2001:db8::1" if index % 2 else "",
            "server": ODD_TEXT,
            "loss": None if value is None else min(abs(value), 100.0),
            "min_latency": value,
            "avg_latency": value,
            "max_latency": FLOATS[-1 - index % len(FLOATS)],
            "jitter": 0.0,
            "error_details": ODD_TEXT,
        }

    results.upsert("net", _rows(test, agents, rounds, build))
    body = _export(cast, f"/v6/net/metrics/{test.id}.json?window=1h")
    stored = NetResult.objects.filter(test=test).select_related("agent").order_by("round_id", "agent_id")
    assert len(body["net"]["metrics"]) == len(rounds) * len(agents)
    assert same(body["net"]["metrics"], expected(test, stored, NET))


@pytest.mark.parametrize("extras", ["", "&headers=1", "&certificates=1", "&headers=1&certificates=1"])
def test_http_server_rows_carry_every_value_exactly(cast, odd, extras):
    agents, rounds = odd
    test = make_test(cast.owner, "http-server", interval=60)
    test.agents.add(*agents)
    certs = [{"subject": ODD_TEXT, "serial": 2**62, "version": 3.0, "chain": [{"ok": True, "none": None}]}]

    def build(value, index):
        return {
            "server_ip": "192.0.2.1",
            "response_code": None if index % 3 == 0 else 200 + index,
            "num_redirects": index,
            "redirect_time": value,
            "dns_time": value,
            "ssl_time": 0.0,
            "connect_time": 1.0,
            "wait_time": value,
            "receive_time": value,
            "wire_size": None if index % 2 else 2**62 - 1,
            "response_time": value,
            "throughput": 1e15,
            "total_time": value,
            "error_type": "HTTP" if index % 2 else "None",
            "error_details": ODD_TEXT,
            "ssl_cipher": "TLS_AES_128_GCM_SHA256",
            "ssl_version": "",
            "ssl_certs": certs if index % 2 else [],
            "request_headers": ODD_TEXT,
            "response_headers": 'HTTP/1.1 200 OK\r\nX-Odd: "é"\r\n',
        }

    results.upsert("http", _rows(test, agents, rounds, build))
    body = _export(cast, f"/v6/web/http-server/{test.id}.json?window=1h{extras}")
    names = HTTP + (["requestHeaders", "responseHeaders"] if "headers" in extras else [])
    names += ["sslCerts"] if "certificates" in extras else []
    stored = HttpResult.objects.filter(test=test).select_related("agent").order_by("round_id", "agent_id")
    assert len(body["web"]["httpServer"]) == len(rounds) * len(agents)
    assert same(body["web"]["httpServer"], expected(test, stored, names))


def test_dns_server_rows_carry_every_value_exactly(cast, odd):
    agents, rounds = odd
    test = make_test(cast.owner, "dns-server", interval=60)
    test.agents.add(*agents)

    def build(value, index):
        return {
            "server": f"ns{index % 2}.example.net",
            "server_id": 2**31 - 1 if index % 2 else 0,
            "resolution_time": value,
            "error_type": "None",
            "error_details": ODD_TEXT if index % 2 else "",
            "mappings": f"example.com. 192.0.2.{index} (A)\n{ODD_TEXT}",
        }

    results.upsert("dns", _rows(test, agents, rounds, build))
    body = _export(cast, f"/v6/dns/server/{test.id}.json?window=1h")
    stored = DnsResult.objects.filter(test=test).select_related("agent").order_by("round_id", "agent_id", "server")
    assert len(body["dns"]["server"]) == len(rounds) * len(agents)
    assert same(body["dns"]["server"], expected(test, stored, DNS))
