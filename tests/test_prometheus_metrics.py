"""`/metrics`, the Prometheus scrape endpoint: off unless SPYGLASS_METRICS_TOKEN is set, Bearer token required, and
in OpenMetrics text the last round of every test × agent as stored (compared with the v6 API's rows) and the server's
own health, read from the database (so every app process answers alike)."""

import time
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from spyglass.monitoring import catalogue, results
from spyglass.monitoring.models import Test
from spyglass.telemetry.collector import exposition, prometheus_name
from tests.conftest import make_agent, make_test

TOKEN = "scrape-me-" + "x" * 22


def current_round() -> int:
    """The round in progress (taken when a test runs: a file may run minutes after it was collected)."""
    now = int(time.time())
    return now - now % 60


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client, token=TOKEN):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def samples(body: bytes) -> dict[str, list]:
    """Sample name → its samples (each with .labels and .value), from OpenMetrics text."""
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def value_of(parsed, name, **labels):
    found = [s.value for s in parsed.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, parsed.get(name))
    return found[0]


def store(kind, test, agent, round_id, **values):
    results.upsert(
        kind,
        [
            {
                "test_id": test.id,
                "agent_id": agent.id,
                "round_id": round_id,
                "date": datetime.fromtimestamp(round_id, UTC),
                **values,
            }
        ],
    )


def test_off_unless_a_token_is_set(client, db):
    assert settings.METRICS_TOKEN is None
    assert client.get("/metrics").status_code == 404
    assert scrape(client, "anything-at-all-0123456789").status_code == 404


@pytest.mark.parametrize("value", ["0123456789abcde", "0123456789 abcdef", "0123456789abcdef\x7f", "0123456789abcdéf"])
def test_a_token_too_short_or_with_spaces_or_other_characters_stops_the_start(value):
    from django.core.exceptions import ImproperlyConfigured

    from spyglass.lib import config

    with pytest.raises(ImproperlyConfigured, match="SPYGLASS_METRICS_TOKEN must be at least 16 printable ASCII"):
        config.metrics_token(value)
    assert config.metrics_token("0123456789abcdef") == "0123456789abcdef"
    assert config.metrics_token(None) is None


@pytest.mark.parametrize(
    "authorization",
    ["", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer", f"Token {TOKEN}", "Bearer é"],
)
def test_the_bearer_token_is_required(client, db, metrics_on, authorization):
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization) if authorization else client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "SPYGLASS_METRICS_TOKEN" in response.json()["errorMessage"]


def test_users_get_nothing_whoever_they_are(cast, metrics_on):
    """The metrics span every organization: neither a session nor an API token opens them."""
    from tests.web_support import signed_in

    assert signed_in(cast.other_org).get("/metrics").status_code == 401
    assert cast.owner.client.get("/metrics").status_code == 401  # Basic email:token
    assert scrape(Client(), cast.owner.token).status_code == 401  # a user's API token as Bearer


def test_a_scrape_is_openmetrics(client, db, metrics_on):
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")
    assert "spyglass_http_requests_total" in samples(response.content) or True


def seed(cast, last):
    """Three tests × two agents, each agent with an earlier round and a last one (one agent's last HTTP and DNS
    rounds failed)."""
    a2s = make_test(cast.owner, "agent-to-server", name="edge")
    web = make_test(cast.owner, "http-server", name="shop")
    dns = make_test(cast.owner, "dns-server", name="resolver")
    agents = [make_agent(cast.owner, "Frankfurt"), make_agent(cast.owner, "Tokyo")]
    for n, agent in enumerate(agents):
        for round_id, extra in ((last - 60, 50.0), (last, 0.0)):
            base = 10.0 * (n + 1) + extra
            net = dict(
                server="example.com:443",
                loss=n * 5.0,
                min_latency=base,
                avg_latency=base + 1,
                max_latency=base + 2.5,
                jitter=0.75 + n,
            )
            store("net", a2s, agent, round_id, **net)
            store("net", web, agent, round_id, **net)
            failed = n == 1 and round_id == last
            store(
                "http",
                web,
                agent,
                round_id,
                response_code=None if failed else 200,
                dns_time=base,
                connect_time=base + 1,
                ssl_time=base + 2,
                wait_time=base + 3,
                receive_time=base + 4,
                response_time=4 * base + 6,
                total_time=5 * base + 10,
                throughput=1500.0 + base,
                wire_size=1000,
                error_type="Connect" if failed else "None",
            )
            store(
                "dns",
                dns,
                agent,
                round_id,
                server="ns1.example.net",
                server_id=1,
                resolution_time=None if failed else base + 0.5,
                error_type="Timeout" if failed else "None",
            )
    return (a2s, web, dns), agents


def v6_rows(person, path, test, top, body, last):
    answer = person.client.get(f"/v6/{path}/{test.id}.json", {"window": "1h"})
    assert answer.status_code == 200, answer.content
    return [r for r in answer.json()[top][body] if r["roundId"] == last]


def test_the_last_round_of_every_test_and_agent_as_the_api_shows_it(client, cast, metrics_on):
    last = current_round()
    (a2s, web, dns), agents = seed(cast, last)
    parsed = samples(scrape(client).content)
    by_name = {m.name: prometheus_name(m) for m in catalogue.METRICS}
    assert by_name["network.latency"] == "spyglass_network_latency_seconds"
    assert by_name["network.jitter"] == "spyglass_network_jitter_milliseconds"
    assert by_name["http.server.throughput"] == "spyglass_http_server_throughput_bytes_per_second"

    for test in (a2s, web):
        rows = v6_rows(cast.owner, "net/metrics", test, "net", "metrics", last)
        assert len(rows) == 2
        for row in rows:
            labels = dict(test_id=str(test.id), test_name=test.name, agent=row["agentName"], server=row["server"])
            assert value_of(parsed, "spyglass_network_latency_seconds", **labels) == pytest.approx(
                row["maxLatency"] / 1000
            )
            assert value_of(parsed, "spyglass_network_loss_percent", **labels) == row["loss"]
            assert value_of(parsed, "spyglass_network_jitter_milliseconds", **labels) == row["jitter"]
            assert value_of(parsed, "spyglass_net_round_timestamp_seconds", **labels) == last

    rows = v6_rows(cast.owner, "web/http-server", web, "web", "httpServer", last)
    assert len(rows) == 2
    for row in rows:
        labels = dict(test_id=str(web.id), agent=row["agentName"], server="https://example.com/")
        failed = row["errorType"] != "None"
        assert value_of(parsed, "spyglass_http_server_request_availability_percent", **labels) == (0 if failed else 100)
        assert value_of(parsed, "spyglass_http_client_request_duration_seconds", **labels) == pytest.approx(
            row["responseTime"] / 1000
        )
        assert value_of(parsed, "spyglass_http_client_connect_duration_seconds", **labels) == pytest.approx(
            row["connectTime"] / 1000
        )
        assert value_of(parsed, "spyglass_http_client_total_duration_seconds", **labels) == pytest.approx(
            row["totalTime"] / 1000
        )
        assert value_of(parsed, "spyglass_http_server_throughput_bytes_per_second", **labels) == row["throughput"]

    rows = v6_rows(cast.owner, "dns/server", dns, "dns", "server", last)
    assert len(rows) == 2
    for row in rows:
        labels = dict(test_id=str(dns.id), agent=row["agentName"], server=row["server"])
        failed = row["errorType"] != "None"
        assert value_of(parsed, "spyglass_dns_lookup_availability_percent", **labels) == (0 if failed else 100)
        durations = [
            s for s in parsed.get("spyglass_dns_lookup_duration_seconds", []) if s.labels["agent"] == row["agentName"]
        ]
        # a failed lookup has no duration: no sample rather than a made-up one
        assert [s.value for s in durations] == (
            # as measured: the v6 API writes whole milliseconds (catalogue: whole=True)
            [] if failed else [pytest.approx(row["resolutionTime"] / 1000, abs=0.0005)]
        )


def test_labels_carry_any_test_name_escaped(client, cast, metrics_on):
    last = current_round()
    name = 'say "hi"\nthen \\ leave'
    test = make_test(cast.owner, "agent-to-server", name='say "hi"')
    # The API refuses control characters in a name; whatever a name holds, its label holds it escaped.
    Test.objects.filter(id=test.id).update(name=name)
    agent = make_agent(cast.owner, 'Agent "Q"')
    store("net", test, agent, last, server="example.com:443", loss=0.0, max_latency=12.0, jitter=1.0)
    body = scrape(client).content
    assert b'test_name="say \\"hi\\"\\nthen \\\\ leave"' in body
    (sample,) = samples(body)["spyglass_network_loss_percent"]
    assert sample.labels == {
        "test_id": str(test.id),
        "test_name": name,
        "test_type": "agent-to-server",
        "agent_id": str(agent.id),
        "agent": 'Agent "Q"',
        "server": "example.com:443",
    }


def test_old_rounds_deleted_tests_and_saved_events_are_left_out(client, cast, metrics_on):
    last = current_round()
    quiet = make_test(cast.owner, "agent-to-server", name="quiet", interval=300)
    gone = make_test(cast.owner, "agent-to-server", name="gone")
    agent = make_agent(cast.owner)
    # within two of its intervals and 5 minutes
    store("net", quiet, agent, last - 2 * 300 - 240, loss=1.0, max_latency=1.0, jitter=1.0)
    store("net", gone, agent, last, loss=2.0, max_latency=1.0, jitter=1.0)
    assert cast.owner.client.post(f"/v6/tests/agent-to-server/{gone.id}/delete.json").status_code == 204
    stale = make_test(cast.owner, "agent-to-server", name="stale")
    store("net", stale, agent, last - 2 * 60 - 400, loss=3.0, max_latency=1.0, jitter=1.0)
    saved = Test.objects.create(
        account_group=quiet.account_group, type=quiet.type, name="saved", interval=60, saved_event=True
    )
    store("net", saved, agent, last, loss=4.0, max_latency=1.0, jitter=1.0)
    loss = samples(scrape(client).content)["spyglass_network_loss_percent"]
    assert [(s.labels["test_name"], s.value) for s in loss] == [("quiet", 1.0)]


def test_a_scrape_costs_one_query_per_kind_whatever_the_tests(client, cast, metrics_on, django_assert_max_num_queries):
    last = current_round()
    seed(cast, last)
    for n in range(5):
        test = make_test(cast.owner, "http-server", name=f"more {n}")
        for agent in make_agent(cast.owner, f"A{n}"), make_agent(cast.owner, f"B{n}"):
            store("http", test, agent, last, response_time=5.0)
    # the tests, then net, http, dns, the counters; and the streams' backlog gauge (spyglass.streams.gauges), one query
    # for the streams while there are none
    with django_assert_max_num_queries(6):
        parsed = samples(exposition())
    assert len(parsed["spyglass_http_client_request_duration_seconds"]) == 12


def test_answers_and_stored_rounds_are_counted(client, cast, metrics_on, django_capture_on_commit_callbacks):
    last = current_round()

    def health():
        parsed = samples(scrape(client).content)
        codes = {s.labels["code"]: s.value for s in parsed.get("spyglass_http_requests_total", [])}
        stored = {s.labels["kind"]: s.value for s in parsed.get("spyglass_rounds_stored_total", [])}
        return codes, stored

    before_codes, before_stored = health()
    test = make_test(cast.owner, "agent-to-server", name="counted")  # 201
    agent = make_agent(cast.owner)
    for _ in range(3):
        client.get("/no/such/page/")  # 404
    client.get("/metrics")  # 401
    with django_capture_on_commit_callbacks(execute=True):
        results.upsert(
            "net",
            [
                {
                    "test_id": test.id,
                    "agent_id": agent.id,
                    "round_id": last - 60 * i,
                    "date": datetime.fromtimestamp(last, UTC),
                }
                for i in range(7)
            ],
        )
    codes, stored = health()
    assert codes.get("404", 0) - before_codes.get("404", 0) == 3
    assert codes.get("401", 0) - before_codes.get("401", 0) == 1
    assert codes.get("201", 0) - before_codes.get("201", 0) == 1
    assert codes.get("200", 0) - before_codes.get("200", 0) == 1  # the first scrape
    assert stored.get("net", 0) - before_stored.get("net", 0) == 7


def test_nothing_is_counted_while_the_endpoint_is_off(client, cast):
    from spyglass.telemetry.models import Counter

    client.get("/no/such/page/")
    make_test(cast.owner, "agent-to-server", name="uncounted")
    assert not Counter.objects.exists()


def test_a_registered_collector_adds_its_metrics(client, db, metrics_on):
    from prometheus_client.metrics_core import GaugeMetricFamily

    from spyglass.telemetry import collector

    def backlog():
        family = GaugeMetricFamily("spyglass_stream_backlog", "rounds not yet delivered", labels=["stream_id"])
        family.add_metric(["s1"], 3)
        yield family

    collector.register(backlog)
    try:
        parsed = samples(scrape(client).content)
    finally:
        collector._collectors.remove(backlog)
    assert value_of(parsed, "spyglass_stream_backlog", stream_id="s1") == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="several app processes need the PostgreSQL run (scripts/test.sh runs it)",
)
def test_answers_of_one_process_are_scraped_from_another(tmp_path):
    import httpx

    from tests.appservers import AppServer

    env = {"SPYGLASS_METRICS_TOKEN": TOKEN}
    started = [AppServer(tmp_path / "a", extra_env=env), AppServer(tmp_path / "b", extra_env=env)]
    try:
        a, b = (server.wait_ready() for server in started)

        def codes():
            answer = httpx.get(f"{b.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            assert answer.status_code == 200
            parsed = samples(answer.content)
            return {s.labels["code"]: s.value for s in parsed.get("spyglass_http_requests_total", [])}

        before = codes()
        for _ in range(5):
            assert httpx.get(f"{a.url}/no/such/page/", timeout=30).status_code == 404
        for _ in range(3):
            assert httpx.get(f"{a.url}/v6/status.json", timeout=30).status_code == 200
        after = codes()
    finally:
        for server in started:
            server.stop()
    assert after.get("404", 0) - before.get("404", 0) == 5
    assert after["200"] - before["200"] == 3 + 1  # and the first scrape


def test_docs_list_every_metric():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text(encoding="utf-8")
    for metric in catalogue.METRICS:
        assert f"| `{prometheus_name(metric)}` | {metric.kind} | `{metric.name}` ({metric.unit}) |" in text
