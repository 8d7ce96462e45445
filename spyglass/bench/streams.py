"""Bench row 14: how fast a stream's backlog drains. A test's history (the agents × hours of the run) is stored
through results.upsert, the agent API's writer, then pushed by the worker's step (spyglass.streams.push) to an
OTLP/HTTP receiver on loopback that decodes every request, as a Collector would. The ratio is rounds pushed per
second ÷ rounds stored per second: above 1 a backlog drains faster than rounds arrive."""

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .data import own_organization
from .rows import row


class _Receiver:
    """OTLP/HTTP on 127.0.0.1: decodes each request and counts its data points."""

    def __init__(self):
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        receiver = self
        self.points = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportMetricsServiceRequest.FromString(body)
                receiver.points += sum(
                    len(m.gauge.data_points)
                    for rm in request.resource_metrics
                    for sm in rm.scope_metrics
                    for m in sm.metrics
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/metrics"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _history(test, agents, rounds) -> list[dict]:
    from datetime import UTC, datetime

    return [
        {
            "test_id": test.id,
            "agent_id": agent.id,
            "round_id": r,
            "date": datetime.fromtimestamp(r + 1.5, UTC),
            "server_ip": "203.0.113.10",
            "server": "bench.example.com",
            "loss": 0.0,
            "min_latency": 20.0 + i % 7,
            "avg_latency": 21.0 + i % 7,
            "max_latency": 23.5 + i % 7,
            "jitter": 0.4,
            "error_type": "None",
            "error_details": "",
        }
        for r in rounds
        for i, agent in enumerate(agents)
    ]


@row(
    14,
    "stream backlog drain: rounds pushed per second to an OTLP/HTTP receiver on loopback (decoding every request) ÷ "
    "rounds stored per second through the agent API's writer, same test (agents × hours of the run)",
    ">= 5",
    missed="met on PostgreSQL; on SQLite reading the rows back (a Python tuple per row from sqlite3) alone takes "
    "about as long as storing them, one set-based statement per 2,000 rows; agents at 60 s add a round a minute per "
    "test, so a real backlog drains far faster than it grows (detail)",
)
def stream_drain(data):
    from django.conf import settings
    from django.db.models import F
    from django.test import override_settings

    from spyglass.lib.addresses import parse_networks
    from spyglass.lib.rounds import round_of
    from spyglass.monitoring import results
    from spyglass.monitoring.models import Agent, NetResult
    from spyglass.streams import push, send, services

    tenant = own_organization("streams", tests=1)
    (test,) = tenant.tests
    org_id = tenant.access.account_group.organization_id
    agents = [Agent.objects.create(organization_id=org_id, name=f"stream agent {i}") for i in range(data.agents)]
    end = round_of(time.time(), 60) - 3600
    rounds = list(range(end - data.hours * 3600 + 60, end + 1, 60))
    rows = _history(test, agents, rounds)
    start = time.perf_counter()
    for i in range(0, len(rows), 2000):  # as agents upload: a batch at a time
        results.upsert("net", rows[i : i + 2000])
    stored = time.perf_counter() - start
    # The rows of a backlog were recorded when their rounds ended (untimed).
    NetResult.objects.filter(test=test).update(recorded_at=F("date"))
    receiver = _Receiver()
    send._tls(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))  # what a running worker has loaded
    import httpx  # noqa: F401

    try:
        with override_settings(
            STREAM_ALLOW_HTTP=True,
            STREAM_ALLOWED_NETWORKS=parse_networks("127.0.0.1/32"),
            STREAM_TIMEOUT_SECONDS=max(settings.STREAM_TIMEOUT_SECONDS, 30),
        ):
            services.create_stream(
                tenant.access,
                {"endpointType": "http", "streamEndpointUrl": receiver.url, "testMatch": [{"id": str(test.id)}]},
            )
            start = time.perf_counter()
            pushed = 0
            while True:
                counts = push.push_due()
                pushed += counts["rounds"]
                if not counts["batches"] or counts["failed"]:
                    break
            seconds = time.perf_counter() - start
    finally:
        receiver.stop()
    expected_points = 3 * len(rows)
    if pushed != len(rounds) or receiver.points != expected_points:
        return 0.0, f"pushed {pushed} of {len(rounds)} rounds, {receiver.points} of {expected_points} data points"
    ratio = (pushed / seconds) / (len(rounds) / stored)
    return ratio, (
        f"{pushed / seconds:.0f} rounds/s pushed ({receiver.points / seconds:.0f} data points/s) vs "
        f"{len(rounds) / stored:.0f} rounds/s stored; {len(agents)} agents × {len(rounds)} rounds; against the "
        f"agents' own rate (a round a minute) the backlog drains {pushed / seconds * 60:.0f}× faster than it grows"
    )
