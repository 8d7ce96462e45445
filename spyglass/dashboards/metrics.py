"""What a widget can show: metrics per test type, periods, and the one aggregate query per widget."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Avg, Case, F, FloatField, Value, When
from django.db.models.functions import Mod

from spyglass.lib.timefmt import format_v6_date
from spyglass.monitoring import catalogue, timeline
from spyglass.monitoring.scope import ReadScope


@dataclass(frozen=True)
class Metric:
    model: type
    value: object  # column name or expression averaged across agents
    unit: str
    test_types: tuple[str, ...]
    kind: str  # the kind of result rows (net, http, dns) it averages
    # Where the per-round rollups (timeline.per_round's tuples) keep this value's sum and count: a widget's points
    # are those rollups summed per step, as a test's results page and share page read them.
    at: int


def _success():
    """100 for a round without error, 0 for one with: averaged, the share of agents that succeeded."""
    return Case(When(error_type="None", then=Value(100.0)), default=Value(0.0), output_field=FloatField())


def _at(kind: str, value) -> int:
    """The place of the sum of `value` in timeline.per_round's tuples of the kind (its count follows it)."""
    wanted = str(F(value) if isinstance(value, str) else value)
    for i, s in enumerate(timeline.KIND_SERIES[kind]):
        if str(s.value) == wanted:
            return timeline.FIXED + 2 * i
    raise LookupError(f"the {kind} rollups keep no sum of {wanted}")


def _field(kind: str, name: str) -> Metric:
    """A result field averaged across agents: its table, column, unit and test types from the field catalogue."""
    described = catalogue.kind(kind)
    field = catalogue.by_name(kind)[name]
    return Metric(described.model, field.column, field.unit, described.fits, kind, _at(kind, field.column))


def _availability(kind: str) -> Metric:
    described = catalogue.kind(kind)
    return Metric(described.model, _success(), "%", described.fits, kind, _at(kind, _success()))


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


def _point(point: int, value) -> dict:
    # The database computes `round_id - round_id % step` as a float on some engines: a roundId is an integer.
    return {
        "roundId": int(point),
        "date": format_v6_date(datetime.fromtimestamp(int(point), UTC)),
        "value": None if value is None else round(value, 3),
    }


def _window(test, period: int, now: int, scope: ReadScope) -> tuple[int, ReadScope | None]:
    step = step_for(test.interval, period)
    start, end = scope.clamp(now - period, now)
    return step, (None if start > end else scope.within(start, end))


def series(test, metric: str, period: int, now: int, scope: ReadScope, shared=None) -> tuple[int, list[dict]]:
    """The metric averaged across agents per round (or per step of rounds) over the period before `now`, within
    what the reader's scope allows: the sums and counts of the per-round rollups (timeline.rounds_of, which reads
    the hour rollups wherever they hold what the scope shows — a frozen scope's too — and rows elsewhere) added up
    per step, so a week costs what its rounds cost, not its rows. `shared` (a dict the caller keeps for one page):
    widgets of the same test, kind and window read those rollups once."""
    step, points, _ = _series(test, metric, period, now, scope, False, shared)
    return step, points


def series_and_agents(
    test, metric: str, period: int, now: int, scope: ReadScope, shared=None
) -> tuple[int, list[dict], set]:
    """series(), and the agents that reported in its window (kept by the same rollups)."""
    return _series(test, metric, period, now, scope, True, shared)


def _series(test, metric, period, now, scope, agents: bool, shared) -> tuple[int, list[dict], set]:
    spec = METRICS[metric]
    step, window = _window(test, period, now, scope)
    if window is None:
        return step, [], set()
    sums: dict[int, list[float]] = {}
    shared = {} if shared is None else shared
    key = (window, spec.kind, agents)
    if key not in shared:
        shared[key] = timeline.rounds_of(window, spec.kind, agents=agents)
    found = shared[key]
    for row in found.rows:
        point = row[0] - row[0] % step
        total = sums.setdefault(point, [0.0, 0])
        total[0] += row[spec.at] or 0.0
        total[1] += row[spec.at + 1]
    points = [_point(p, t[0] / t[1] if t[1] else None) for p, t in sorted(sums.items())]
    return step, points, found.agents or set()


def series_by_agent(test, metric: str, period: int, now: int, scope: ReadScope) -> dict[int, list[dict]]:
    """The metric per agent, per round (or step), over the same window as `series`: {agent id: points}. One SQL
    statement over the window's rows (the downloads and the API's widget data, never the page)."""
    spec = METRICS[metric]
    step, window = _window(test, period, now, scope)
    if window is None:
        return {}
    value = F(spec.value) if isinstance(spec.value, str) else spec.value
    found = (
        window.results(spec.model)
        .annotate(point=F("round_id") - Mod(F("round_id"), step))
        .values("agent_id", "point")
        .annotate(value=Avg(value))
        .order_by("agent_id", "point")
        .values_list("agent_id", "point", "value")
    )
    out: dict[int, list[dict]] = {}
    for agent_id, point, v in found:
        out.setdefault(agent_id, []).append(_point(point, v))
    return out
