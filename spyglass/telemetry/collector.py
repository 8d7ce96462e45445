"""What `/metrics` shows, read from the database when Prometheus scrapes: nothing is kept in a process, so every app
process answers alike.

- The last round of every test × agent (× DNS server), one series per metric of the field catalogue
  (`catalogue.METRICS`: OpenTelemetry name and unit → `prometheus_name`): one query for the tests, then one per
  kind of result.
- The server's health: answers by status and result rows written (counters.py), then whatever the rooms that
  registered a collector add (`register`).

docs/metrics.md lists the metrics."""

import functools
import operator
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest

from spyglass.monitoring import catalogue
from spyglass.monitoring.models import Test
from spyglass.monitoring.timeline import ERROR_Q

from . import counters

PREFIX = "spyglass_"
# OpenTelemetry's units as Prometheus writes them (OpenTelemetry's Prometheus compatibility: "s" → "seconds").
UNITS = {"s": "seconds", "ms": "milliseconds", "%": "percent", "By/s": "bytes_per_second", "By": "bytes"}
LABELS = ("test_id", "test_name", "test_type", "agent_id", "agent", "server")
# A test × agent whose last round began more than two of the test's intervals plus GRACE seconds ago is left out:
# an agent that stopped reporting, or a disabled test, drops out, as Prometheus expects of a series that is gone.
GRACE = 300

# More metrics: each callable returns prometheus_client metric families, read from the database when called.
_collectors: list[Callable[[], Iterable[Metric]]] = []


def register(collector: Callable[[], Iterable[Metric]]) -> None:
    """Add a collector (a room's own gauges, e.g. a stream's backlog), once; called from its AppConfig.ready."""
    if collector not in _collectors:
        _collectors.append(collector)


def prometheus_name(metric: catalogue.Metric) -> str:
    """`network.latency` in s → `spyglass_network_latency_seconds`."""
    return _base_name(metric) + "_" + UNITS[metric.unit]


def _base_name(metric: catalogue.Metric) -> str:
    return PREFIX + metric.name.replace(".", "_")


def _live_tests() -> dict[int, dict]:
    """Every test that is neither deleted nor a saved event, by id, with what its labels need (one query)."""
    tests = Test.objects.filter(deleted_date__isnull=True, saved_event=False)
    return {t["id"]: dict(t) for t in tests.values("id", "name", "type", "url", "interval")}


def _last_rounds(key: str, tests: dict[int, dict], now: int) -> list[dict]:
    """The last round of every test × agent (and DNS server) of kind `key` within the tests' grace: one query, which
    reads each test's recent rounds from the index (test, round, agent) — one range per interval, the test ids
    given as values, so that PostgreSQL and SQLite both plan index ranges rather than a scan of the table."""
    if not tests:
        return []
    model: Any = catalogue.kind(key).model
    measured = catalogue.metrics(key)
    by_interval: dict[int, list[int]] = {}
    for test in tests.values():
        by_interval.setdefault(test["interval"], []).append(test["id"])
    recent = functools.reduce(
        operator.or_,
        (Q(test_id__in=ids, round_id__gte=now - GRACE - 2 * interval) for interval, ids in sorted(by_interval.items())),
    )
    partition = [F("test_id"), F("agent_id"), *([F("server")] if key == "dns" else [])]
    failed = (
        {"failed": Case(When(ERROR_Q[key], then=Value(1)), default=Value(0), output_field=IntegerField())}
        if any(m.source == "availability" for m in measured)
        else {}
    )
    rows = (
        model.objects.filter(recent)
        .annotate(latest=Window(RowNumber(), partition_by=partition, order_by=F("round_id").desc()))
        .filter(latest=1)
        .values(
            "test_id",
            "agent_id",
            "round_id",
            *(["server"] if key != "http" else []),  # an HTTP test's server is its URL
            *(m.field.column for m in measured if m.field),
            agent_name=F("agent__name"),
            **failed,
        )
    )
    return list(rows)


def _labels(row: dict, test: dict) -> list[str]:
    server = test["url"] if "server" not in row else row["server"]
    return [str(test["id"]), test["name"], test["type"], str(row["agent_id"]), row["agent_name"], server]


class Collector:
    """The collector `/metrics` renders (prometheus_client calls `collect`)."""

    def __init__(self, now: float | None = None):
        self.now = int(time.time() if now is None else now)

    def collect(self) -> Iterable[Metric]:
        tests = _live_tests()
        for key in catalogue.kinds():
            yield from self._rounds(key, tests)
        yield from self._health()
        for collector in _collectors:
            yield from collector()

    def _rounds(self, key: str, tests: dict[int, dict]) -> Iterable[Metric]:
        measured = catalogue.metrics(key)
        if not measured:
            return
        rows = _last_rounds(key, tests, self.now)
        labels = [_labels(row, tests[row["test_id"]]) for row in rows]
        stamp = GaugeMetricFamily(
            f"{PREFIX}{key}_round_timestamp",
            f"when the last round of {catalogue.kind(key).title} began (its roundId)",
            labels=LABELS,
            unit="seconds",
        )
        for row, named in zip(rows, labels, strict=True):
            stamp.add_metric(named, row["round_id"])
        yield stamp
        for metric in measured:
            family = GaugeMetricFamily(
                _base_name(metric),
                f"{metric.description} ({metric.name}, {metric.unit}), in the last round",
                labels=LABELS,
                unit=UNITS[metric.unit],
            )
            column, scale = (metric.field.column if metric.field else None), metric.scale
            for row, named in zip(rows, labels, strict=True):
                value = (0.0 if row["failed"] else 100.0) if column is None else row[column]
                if value is not None:
                    family.add_metric(named, value * scale)
            yield family

    def _health(self) -> Iterable[Metric]:
        totals = counters.totals()
        requests = CounterMetricFamily(
            f"{PREFIX}http_requests", "answers given, by HTTP status, by every app process", labels=["code"]
        )
        rounds = CounterMetricFamily(
            f"{PREFIX}rounds_stored", "result rows written (one agent's round of a test), by kind", labels=["kind"]
        )
        for key, value in sorted(totals.items()):
            if key.startswith(counters.REQUESTS):
                requests.add_metric([key.removeprefix(counters.REQUESTS)], value)
            elif key.startswith(counters.ROUNDS):
                rounds.add_metric([key.removeprefix(counters.ROUNDS)], value)
        yield requests
        yield rounds


def exposition(now: float | None = None) -> bytes:
    """The metrics as OpenMetrics text."""
    return generate_latest(Collector(now))  # type: ignore[arg-type]  # it reads only .collect()
