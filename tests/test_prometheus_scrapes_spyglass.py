"""Debian's real Prometheus scrapes spyglass: started on loopback with a scrape job on the live server's /metrics
(Bearer token, every second), data in a temporary directory, nothing but loopback configured; the values read back
through Prometheus' HTTP query API are the stored rounds."""

import shutil
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest

from spyglass.monitoring.models import HttpResult, NetResult
from tests.agent_helpers import wait_for
from tests.conftest import make_agent, make_test
from tests.smtp import free_port
from tests.test_prometheus_metrics import TOKEN, current_round, store

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def prometheus(tmp_path, live_server, settings):
    """Prometheus scraping the live server; yields its base URL. Stopped by PID."""
    settings.METRICS_TOKEN = TOKEN
    binary = shutil.which("prometheus")
    assert binary, "Debian's prometheus is needed (scripts/test.sh installs it: apt-get install prometheus)"
    target = urlsplit(live_server.url)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1m\n"
        "scrape_configs:\n"
        "  - job_name: spyglass\n"
        "    metrics_path: /metrics\n"
        "    authorization:\n      type: Bearer\n      credentials_file: " + str(tmp_path / "token") + "\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{target.port}']\n"
    )
    (tmp_path / "token").write_text(TOKEN)
    port = free_port()
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115  closed below
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},  # no proxy settings: it talks to loopback only
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def query(prometheus, metric) -> dict[tuple[str, str], float]:
    """(test name, agent) → the metric's latest value in each series. Through last_over_time, which passes over
    the staleness marker a scrape that timed out on a busy machine leaves."""
    expression = f"last_over_time({metric}[5m])"
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": expression}, timeout=10).json()
    assert answer["status"] == "success", answer
    return {(r["metric"]["test_name"], r["metric"]["agent"]): float(r["value"][1]) for r in answer["data"]["result"]}


def scraped(prometheus):
    """Prometheus' spyglass target once it has been scraped, healthy."""
    try:
        response = httpx.get(f"{prometheus}/api/v1/targets", timeout=5)
    except httpx.TransportError:
        return None
    if response.status_code != 200:  # starting: Prometheus answers 503 "Service Unavailable" in plain text
        return None
    answer = response.json()
    targets = answer["data"]["activeTargets"]
    return targets[0] if targets and targets[0]["health"] == "up" else None


def test_prometheus_reads_the_stored_rounds_from_metrics(cast, prometheus):
    last = current_round()
    edge = make_test(cast.owner, "agent-to-server", name='edge "west"')
    shop = make_test(cast.owner, "http-server", name="shop")
    agents = [make_agent(cast.owner, "Frankfurt"), make_agent(cast.owner, "Tokyo")]
    for n, agent in enumerate(agents):
        store("net", edge, agent, last - 60, server="example.com:443", loss=50.0, max_latency=999.0, jitter=9.0)
        store("net", edge, agent, last, server="example.com:443", loss=n * 2.5, max_latency=20.5 + n, jitter=1.25)
        store(
            "http", shop, agent, last, response_code=200, response_time=120.0 + n, error_type="None" if n else "Connect"
        )

    target = wait_for(lambda: scraped(prometheus), timeout=60, step=0.25)
    assert target["scrapeUrl"].endswith("/metrics") and target["lastError"] == ""

    def latest_values():
        return query(prometheus, "spyglass_network_latency_seconds")

    latencies = wait_for(lambda: len(latest_values()) == 2 and latest_values(), timeout=30, step=0.25)
    for row in NetResult.objects.filter(round_id=last).select_related("test", "agent"):
        key = (row.test.name, row.agent.name)
        assert latencies[key] == pytest.approx(row.max_latency / 1000)
        assert query(prometheus, "spyglass_network_loss_percent")[key] == row.loss
        assert query(prometheus, "spyglass_network_jitter_milliseconds")[key] == row.jitter
        assert query(prometheus, "spyglass_net_round_timestamp_seconds")[key] == last
    availability = query(prometheus, "spyglass_http_server_request_availability_percent")
    durations = query(prometheus, "spyglass_http_client_request_duration_seconds")
    for row in HttpResult.objects.select_related("test", "agent"):
        key = (row.test.name, row.agent.name)
        assert availability[key] == (100.0 if row.error_type == "None" else 0.0)
        assert durations[key] == pytest.approx(row.response_time / 1000)

    # The server's own health: each scrape is counted once answered (so seen by the next one), and the count grows.
    answered = wait_for(lambda: query_total(prometheus), timeout=30, step=0.25)
    wait_for(lambda: query_total(prometheus) > answered, timeout=30, step=0.25)
    stored = httpx.get(
        f"{prometheus}/api/v1/query", params={"query": "last_over_time(spyglass_rounds_stored_total[5m])"}, timeout=10
    )
    assert {r["metric"]["kind"]: float(r["value"][1]) for r in stored.json()["data"]["result"]} == {"net": 4, "http": 2}


def query_total(prometheus) -> float:
    answer = httpx.get(
        f"{prometheus}/api/v1/query",
        params={"query": 'sum(last_over_time(spyglass_http_requests_total{code="200"}[5m]))'},
        timeout=10,
    ).json()
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0
