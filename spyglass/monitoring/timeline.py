"""Per-round aggregates for a test's timeline and the per-agent rows of one round.

Every read takes a ReadScope (spyglass.monitoring.scope: window, agents, freeze, copied rows), so the live results
page, a live share's view of it and a frozen snapshot all read through here and only through `scope.results(...)`.
The per-round aggregate is ONE rule (`per_round`: a GROUP BY round_id computed by the database, finished by `_values`),
whether it runs over a window's rows or comes from the hour rollups that keep it per round
(spyglass.monitoring.rollups), so a timeline costs what its rounds cost, not what its rows cost."""

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Case, Count, F, FloatField, Max, Min, Q, Sum, Value, When

from spyglass.lib import anonymize

from . import catalogue, rollups
from .models import Test
from .scope import ReadScope

KIND_MODEL: dict[str, Any] = {key: kind.model for key, kind in catalogue.kinds().items()}
# The kind of measurement that decides a test's status and its results page.
PRIMARY_KIND = catalogue.PRIMARY

# A row is an error when the probe reported one; a network row with 100 % loss is one too.
ERROR_Q = {
    "net": ~Q(error_type="None") | Q(loss__gte=100),
    "http": ~Q(error_type="None"),
    "dns": ~Q(error_type="None"),
}


def _availability():
    return Case(When(error_type="None", then=Value(100.0)), default=Value(0.0), output_field=FloatField())


@dataclass(frozen=True)
class Series:
    """One line of a timeline: per round, the average across the round's rows of `value` (rows where it is null
    left out), divided by `divisor`."""

    key: str
    label: str
    value: Any  # a Django expression over one row of the kind
    divisor: float = 1.0


@dataclass(frozen=True)
class View:
    """One way to look at a test's results: the metric(s) its timeline draws and the column its table leads with."""

    key: str
    label: str
    kind: str
    unit: str
    series: tuple[Series, ...]
    column: str  # the per-agent row's field the table leads with
    columns: tuple[str, ...] = field(default=())  # the rest of the row, in order
    stacked: bool = False  # the series are parts of a whole (phases of a request), drawn stacked
    lower_is_worse: bool = False  # the worst round or agent is the lowest (availability, throughput), not the highest


# The rest of each kind's row in the results table, in order: the field catalogue's table.
_NET_REST, _HTTP_REST, _DNS_REST = (catalogue.kind(k).table for k in ("net", "http", "dns"))
_PHASES = ("dns_time", "connect_time", "ssl_time", "wait_time", "receive_time")
PHASE_LABELS = {
    "dns_time": "DNS",
    "connect_time": "Connect",
    "ssl_time": "SSL",
    "wait_time": "Wait",
    "receive_time": "Receive",
}

NET_VIEWS = (
    View("loss", "Loss", "net", "%", (Series("loss", "Loss", F("loss")),), "loss", _NET_REST),
    View(
        "latency", "Latency", "net", "ms", (Series("latency", "Latency", F("avg_latency")),), "avg_latency", _NET_REST
    ),
    View("jitter", "Jitter", "net", "ms", (Series("jitter", "Jitter", F("jitter")),), "jitter", _NET_REST),
)
HTTP_VIEWS = (
    View(
        "availability",
        "Availability",
        "http",
        "%",
        (Series("availability", "Availability", _availability()),),
        "availability",
        _HTTP_REST,
        lower_is_worse=True,
    ),
    View(
        "response-time",
        "Response Time",
        "http",
        "ms",
        (Series("response_time", "Response Time", F("response_time")),),
        "response_time",
        _HTTP_REST,
    ),
    View(
        "throughput",
        "Throughput",
        "http",
        "kB/s",
        (Series("throughput", "Throughput", F("throughput"), 1000.0),),
        "throughput",
        _HTTP_REST,
        lower_is_worse=True,
    ),
    View(
        "phases",
        "Phase Breakdown",
        "http",
        "ms",
        tuple(Series(p, PHASE_LABELS[p], F(p)) for p in _PHASES),
        "total_time",
        (*_PHASES, *[c for c in _HTTP_REST if c not in _PHASES]),
        stacked=True,
    ),
)
DNS_VIEWS = (
    View(
        "availability",
        "Availability",
        "dns",
        "%",
        (Series("availability", "Availability", _availability()),),
        "availability",
        _DNS_REST,
        lower_is_worse=True,
    ),
    View(
        "resolution-time",
        "Resolution Time",
        "dns",
        "ms",
        (Series("resolution_time", "Resolution Time", F("resolution_time")),),
        "resolution_time",
        _DNS_REST,
    ),
)
VIEWS = {Test.AGENT_TO_SERVER: NET_VIEWS, Test.HTTP_SERVER: HTTP_VIEWS, Test.DNS_SERVER: DNS_VIEWS}

# The Path Visualization View (spyglass/results_ui/paths.py draws the selected round's path traces). Its timeline is
# the network rows' end-to-end loss, averaged across agents, as ThousandEyes' path view shows: loss is what sends
# someone to look at the path, and the graph below says where on it the loss begins.
PATH_VIEW = View("path-vis", "Path Visualization", "net", "%", (Series("loss", "Loss", F("loss")),), "loss", _NET_REST)


def _kind_series(kind: str, *extra: Series) -> tuple[Series, ...]:
    found = {s.key: s for views in VIEWS.values() for v in views if v.kind == kind for s in v.series}
    return (*found.values(), *extra)


# Every series a kind's rollups keep: its Views' and the snapshot summary's (spyglass.sharing.summary).
KIND_SERIES = {
    "net": _kind_series("net"),
    "http": _kind_series("http", Series("total_time", "Total Time", F("total_time"))),
    "dns": _kind_series("dns"),
}
# What a stored rollup was computed with: a change here makes every stored hour of the kind stale.
LAYOUT = {
    kind: hashlib.sha256(repr([(s.key, str(s.value)) for s in series] + [str(ERROR_Q[kind])]).encode()).hexdigest()
    for kind, series in KIND_SERIES.items()
}
# per_round's tuples: (round_id, agents reporting, rows with an error, rows, then each series' sum and count).
FIXED = 4


def views_for(test: Test) -> tuple[View, ...]:
    return (*VIEWS[test.type], PATH_VIEW) if test.takes_network_measurements else VIEWS[test.type]


def view_for(test: Test, key: str | None) -> View:
    """The view named `key` for this test's type; the type's first view when the key is missing or unknown."""
    views = views_for(test)
    return next((v for v in views if v.key == key), views[0])


def _rows(kind: str, scope: ReadScope):
    return scope.results(KIND_MODEL[kind])


@dataclass
class Timeline:
    """Per round: the view's series values (averaged across agents), agents reporting, rows with an error."""

    rounds: list[int]
    values: list[list[float | None]]  # one list per series, aligned with rounds
    agents: list[int]
    errors: list[int]

    def index_of(self, round_id: int | None) -> int | None:
        if round_id is None or not self.rounds:
            return None
        from bisect import bisect_left

        i = bisect_left(self.rounds, round_id)
        return i if i < len(self.rounds) and self.rounds[i] == round_id else None

    def neighbours(self, round_id: int) -> tuple[int | None, int | None]:
        from bisect import bisect_left, bisect_right

        lo, hi = bisect_left(self.rounds, round_id), bisect_right(self.rounds, round_id)
        return (self.rounds[lo - 1] if lo > 0 else None, self.rounds[hi] if hi < len(self.rounds) else None)


def timeline(scope: ReadScope, view: View) -> Timeline:
    """The view's aggregates per round over the scope's window."""
    return timelines(scope, (view,))[view.key]


def per_round(rows, kind: str) -> list[tuple]:
    """THE per-round aggregate, ONE query over `rows` (a queryset of the kind's results): per round the agents
    reporting, the rows with an error, the rows, and each series' sum and count (KIND_SERIES), ordered by round.
    The rollups store exactly this per round (spyglass.monitoring.rollups): it is computed here only."""
    sums: dict[str, Sum | Count] = {}
    for i, s in enumerate(KIND_SERIES[kind]):
        sums[f"s{i}"] = Sum(s.value)
        sums[f"c{i}"] = Count(s.value)
    error = Sum(Case(When(ERROR_Q[kind], then=Value(1)), default=Value(0)))
    grouped = (
        rows.values("round_id")
        .annotate(n=Count("agent_id", distinct=True), e=error, r=Count("id"), **sums)
        .order_by("round_id")
        .values_list("round_id", "n", "e", "r", *sums)
    )
    return [(row[0], row[1], row[2] or 0, *row[3:]) for row in grouped]


def rounds_of(scope: ReadScope, kind: str, agents: bool = False) -> rollups.Rounds:
    """per_round over the scope (window, agents, freeze, copies): from the hour rollups where they hold it."""
    return rollups.rounds(scope, kind, KIND_MODEL[kind], per_round, LAYOUT[kind], agents=agents)


def _values(rows: list[tuple], kind: str, series: Series) -> list[float | None]:
    """One series per round: its sum ÷ its count ÷ the divisor, to 3 decimals (None: no row had a value)."""
    at = FIXED + 2 * next(i for i, s in enumerate(KIND_SERIES[kind]) if s.key == series.key)
    return [None if not r[at + 1] else round(r[at] / r[at + 1] / series.divisor, 3) for r in rows]


def timelines(scope: ReadScope, views) -> dict[str, Timeline]:
    """Several views at once (a snapshot's stored document holds them all): {view key: Timeline}, one per_round read
    per kind of measurement among them. Each is what timeline(scope, view) gives alone."""
    found: dict[str, Timeline] = {}
    for kind in dict.fromkeys(v.kind for v in views):
        rows = rounds_of(scope, kind).rows
        rounds, agents, errors = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
        for v in views:
            if v.kind == kind:
                found[v.key] = Timeline(rounds, [_values(rows, kind, s) for s in v.series], agents, errors)
    return found


def window_totals(scope: ReadScope, kind: str) -> dict:
    """Over the whole window, from the same per-round aggregates summed: the rows, the rows with an error, the
    distinct agents and each series' average (by KIND_SERIES key; None without a value)."""
    found = rounds_of(scope, kind, agents=True)
    rows = found.rows
    totals: dict = {"rows": sum(r[3] for r in rows), "errors": sum(r[2] for r in rows)}
    totals["agents"] = len(found.agents or ())
    for i, s in enumerate(KIND_SERIES[kind]):
        at = FIXED + 2 * i
        total, count = sum(r[at] or 0.0 for r in rows), sum(r[at + 1] for r in rows)
        totals[s.key] = total / count / s.divisor if count else None
    return totals


AGENT_LINES = 12  # per-agent lines drawn at most (ThousandEyes' timeline stays readable up to about a dozen)


@dataclass
class AgentLines:
    """A View's metric per round for each agent, the `limit` worst agents of the window (by their average)."""

    rounds: list[int]
    agents: list[dict]  # {"id", "name", "values": aligned with rounds, None where the agent has no value}
    total: int  # agents with results in the window


def agent_lines(scope: ReadScope, view: View, limit: int = AGENT_LINES) -> AgentLines:
    """Per agent and round, the View's metric (a stacked View: its total, the table's lead column), averaged over the
    agent's rows of the round by the database: two GROUP BY queries over the scope, whatever its rows."""
    if len(view.series) == 1:
        value, divisor = view.series[0].value, view.series[0].divisor
    else:
        value, divisor = F(view.column), 1.0
    rows = _rows(view.kind, scope)
    ranked = [
        (agent_id, scope.agent_name(agent_id, name), avg)
        for agent_id, name, avg in rows.values("agent_id")
        .annotate(name=Max("agent__name"), avg=Avg(value))
        .values_list("agent_id", "name", "avg")
    ]
    # The worst first; agents without a value last, then by name.
    sign = 1 if view.lower_is_worse else -1
    ranked.sort(key=lambda a: (a[2] is None, sign * (a[2] or 0.0), a[1] or ""))
    chosen = ranked[:limit]
    by_round: dict[int, dict[int, float | None]] = {}
    for round_id, agent_id, v in (
        rows.filter(agent_id__in=[a[0] for a in chosen])
        .values("round_id", "agent_id")
        .annotate(v=Avg(value))
        .order_by("round_id")
        .values_list("round_id", "agent_id", "v")
    ):
        by_round.setdefault(round_id, {})[agent_id] = None if v is None else round(v / divisor, 3)
    rounds = sorted(by_round)
    agents = [
        {"id": agent_id, "name": name, "values": [by_round[r].get(agent_id) for r in rounds]}
        for agent_id, name, _ in sorted(
            chosen,
            key=(lambda a: anonymize.agent_rank(scope.agent_order, a[0]))
            if scope.anonymized
            else (lambda a: a[1] or ""),
        )
    ]
    return AgentLines(rounds, agents, len(ranked))


def neighbours(scope: ReadScope, kind: str, round_id: int):
    """(previous round, next round) with data in the scope: two lookups along the results' index, whatever the
    window's rows."""
    rows = _rows(kind, scope)
    previous = rows.filter(round_id__lt=round_id).aggregate(m=Max("round_id"))["m"]
    following = rows.filter(round_id__gt=round_id).aggregate(m=Min("round_id"))["m"]
    return previous, following


def latest_round(scope: ReadScope, kind: str) -> int | None:
    return _rows(kind, scope).aggregate(m=Max("round_id"))["m"]


def _row_fields(kind: str) -> tuple[str, ...]:
    """What round_rows reads: the stored columns of the kind's table and the error columns (describe_error)."""
    stored = {f.column for f in catalogue.kind(kind).fields}
    return (*[c for c in catalogue.kind(kind).table if c in stored], "error_type", "error_details")


_ROW_FIELDS = {kind: _row_fields(kind) for kind in catalogue.kinds()}


def round_rows(scope: ReadScope, kind: str, round_id: int) -> list[dict]:
    """Every agent's row of one round in the scope (one query), with the agent's name, location and country."""
    # The scope narrowed to the round, not the window's bounds plus `round_id = …`: SQLite ranges the index on the
    # window's bounds then, reading every row of the window for one round's.
    qs = _rows(kind, scope.within(round_id, round_id))
    order = ["agent__name"] + (["server"] if kind == "dns" else [])
    rows = list(
        qs.order_by(*order).values(
            "agent_id",
            "date",
            *_ROW_FIELDS[kind],
            agent_name=F("agent__name"),
            location=F("agent__location"),
            country=F("agent__country_id"),
        )
    )
    if scope.anonymized:  # pseudonyms, in their own order (the names' order would tell them apart)
        for row in rows:
            row["agent_name"], row["location"] = scope.agent_name(row["agent_id"], ""), ""
        rows.sort(key=lambda r: anonymize.agent_rank(scope.agent_order, r["agent_id"]))
    for row in rows:
        row["error"] = describe_error(kind, row)
        if kind in ("http", "dns"):
            row["availability"] = 0.0 if row["error"] else 100.0
        if kind == "http" and row["throughput"] is not None:
            row["throughput"] = row["throughput"] / 1000.0
    return rows


def describe_error(kind: str, row: dict) -> str:
    """The row's error spelled out for people ("Connect: Connection timed out"); empty when there is none."""
    error_type = row.get("error_type") or "None"
    details = (row.get("error_details") or "").strip()
    if error_type != "None":
        return f"{error_type}: {details}" if details else error_type
    if kind == "net" and row.get("loss") is not None and row["loss"] >= 100:
        return "All packets lost"
    return ""


def last_round_status(tests) -> dict[int, dict]:
    """For each test: its latest round, the agents in it and how many had an error. A constant number of queries:
    one latest-round query and one count query per kind of measurement, whatever the number of tests."""
    by_kind: dict[str, list[int]] = {}
    for test in tests:
        by_kind.setdefault(PRIMARY_KIND[test.type], []).append(test.id)
    status = {}
    for kind, ids in by_kind.items():
        model = KIND_MODEL[kind]
        latest = dict(
            model.objects.filter(test_id__in=ids)
            .values("test_id")
            .annotate(r=Max("round_id"))
            .values_list("test_id", "r")
        )
        if not latest:
            continue
        match = Q()
        for test_id, round_id in latest.items():
            match |= Q(test_id=test_id, round_id=round_id)
        counts = (
            model.objects.filter(match)
            .values("test_id")
            .annotate(n=Count("agent_id", distinct=True), e=Count("agent_id", distinct=True, filter=ERROR_Q[kind]))
            .values_list("test_id", "n", "e")
        )
        for test_id, agents, errors in counts:
            status[test_id] = {"round_id": latest[test_id], "agents": agents, "errors": errors}
    return status
