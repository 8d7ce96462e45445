"""What a widget can show: metrics per test type, periods, and the one aggregate query per widget."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Avg, Case, F, FloatField, Value, When
from django.db.models.functions import Mod

from spyglass.lib.timefmt import format_v6_date
from spyglass.monitoring import catalogue
from spyglass.monitoring.scope import ReadScope


@dataclass(frozen=True)
class Metric:
    model: type
    value: object  # column name or expression averaged across agents
    unit: str
    test_types: tuple[str, ...]


def _success():
    """100 for a round without error, 0 for one with: averaged, the share of agents that succeeded."""
    return Case(When(error_type="None", then=Value(100.0)), default=Value(0.0), output_field=FloatField())


def _field(kind: str, name: str) -> Metric:
    """A result field averaged across agents: its table, column, unit and test types from the field catalogue."""
    described = catalogue.kind(kind)
    field = catalogue.by_name(kind)[name]
    return Metric(described.model, field.column, field.unit, described.fits)


def _availability(kind: str) -> Metric:
    described = catalogue.kind(kind)
    return Metric(described.model, _success(), "%", described.fits)


METRICS = {
    "loss": _field("net", "loss"),
    "latency": _field("net", "avgLatency"),
    "jitter": _field("net", "jitter"),
    "availability": _availability("http"),
    "responseTime": _field("http", "responseTime"),
    "totalTime": _field("http", "totalTime"),
    "throughput": _field("http", "throughput"),
    "resolutionTime": _field("dns", "resolutionTime"),
    "dnsAvailability": _availability("dns"),
}
PERIODS = (3600, 6 * 3600, 12 * 3600, 24 * 3600, 7 * 24 * 3600)
# A small timeline needs no more points than this; longer periods average consecutive rounds together.
MAX_POINTS = 360


def step_for(interval: int, period: int) -> int:
    """Seconds per point: the test interval, or a multiple of it when the period would give too many points."""
    return max(interval, math.ceil(period / MAX_POINTS / interval) * interval)


def series(test, metric: str, period: int, now: int, scope: ReadScope) -> tuple[int, list[dict]]:
    """The metric averaged across agents per round (or per step of rounds) over the period before `now`, within
    what the reader's scope allows. One SQL statement."""
    spec = METRICS[metric]
    step = step_for(test.interval, period)
    start, end = scope.clamp(now - period, now)
    if start > end:
        return step, []
    # Through the scope's own filter: a frozen scope (a dashboard snapshot's widget) reads rows as they were.
    rows = scope.within(start, end).results(spec.model)
    value = F(spec.value) if isinstance(spec.value, str) else spec.value
    points = (
        rows.annotate(point=F("round_id") - Mod(F("round_id"), step))
        .values("point")
        .annotate(value=Avg(value))
        .order_by("point")
        .values_list("point", "value")
    )
    return step, [
        {
            # The database computes `round_id - round_id % step` as a float on some engines: a roundId is an integer.
            "roundId": int(point),
            "date": format_v6_date(datetime.fromtimestamp(int(point), UTC)),
            "value": None if v is None else round(v, 3),
        }
        for point, v in points
    ]
