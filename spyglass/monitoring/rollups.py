"""Per-round rollups of a test's results, kept by hour: what makes a timeline cost what its rounds cost, not what its
rows cost (the way TimescaleDB's continuous aggregates work).

What is stored: for each (test, kind, hour of roundIds) one RollupHour holding, for every round of the hour, exactly
what timeline.per_round computes from rows (agents reporting, errors, rows, each series' sum and count), and apart
from it the agents that reported in the hour with their first and last round there. A window's timeline is the
rounds of its hours' rollups: 168 rows for 7 days, whatever the number of agents.

How it stays right — the invalidation log is the one every write of results already keeps: each write bumps its
hours' ResultHour version in the writing transaction (results.bump_hours; retention's purge, and a trigger when an
agent is deleted, bump too), which costs the upload nothing more. A rollup is read only while its version equals the
hour's; a stale or missing one is computed again from the hour's rows on the next read and stored (so the first
read after a write pays for its hours only, and `refresh` lets the worker do it beforehand). Replacing a row,
deleting an agent, retention: each bumps the hour, so nothing computed before is read again.

Snapshots (frozen at `frozen_at`, their replaced rows copied): an hour whose latest write (ResultHour.written_at) is
not after the freeze shows the snapshot exactly what the live rollup holds — no row of it was written or replaced
later, so it has no copies either; the other hours (usually the last one or two of a window ending at the freeze)
are computed from the rows through the snapshot's scope. Scopes limited to some agents read, of the hours the rollups
hold, the rollups less the other agents' rows when those are fewer, else their own agents' rows (docs/benchmarks.md,
row 9, says why)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import orjson
from django.db import connection
from django.db.models import F, Max, Min
from django.utils import timezone

from spyglass.lib import replicas

from .models import ResultHour, RollupHour
from .results import HOUR
from .scope import ReadScope


@dataclass
class Rounds:
    rows: list[tuple]  # timeline.per_round's tuples, ordered by round
    agents: set[int] | None = None  # the distinct agents over the window, when asked for


def _hours(lo: int, hi: int) -> list[int]:
    return list(range(lo - lo % HOUR, hi - hi % HOUR + 1, HOUR))


def _runs(scope: ReadScope, hours) -> list[ReadScope]:
    """The scope narrowed to each run of consecutive hours among `hours`: one query each, bounded by the run. (One
    query with an OR of ranges let SQLite range its index on the window's bounds and read every row of it.)"""
    runs: list[list[int]] = []
    for hour in sorted(hours):
        if runs and runs[-1][1] + HOUR == hour:
            runs[-1][1] = hour
        else:
            runs.append([hour, hour])
    return [scope.within(a, b + HOUR - 1) for a, b in runs]


def _each(scope: ReadScope, hours, model, read: Callable) -> list:
    return [item for run in _runs(scope, hours) for item in read(run.results(model))]


def _state(scope: ReadScope, kind: str, hours: list[int], agents: bool) -> list[tuple]:
    """Every written hour among `hours`: (hour, version, changed after the scope's freeze, stored version, stored
    layout, stored rounds, stored agents when asked for), in one query. The versions are read before any row, so rollups computed from rows read
    after are stored under a version no newer than theirs: a write in between makes them stale, never wrong."""
    hour_table, rollup_table = ResultHour._meta.db_table, RollupHour._meta.db_table
    changed, params = "0", []
    if scope.frozen_at is not None:
        changed = "CASE WHEN h.written_at IS NULL OR h.written_at > %s THEN 1 ELSE 0 END"
        params.append(ResultHour._meta.get_field("written_at").get_db_prep_value(scope.frozen_at, connection))
    sql = (
        f"SELECT h.hour, h.version, {changed}, r.version, r.layout, r.data, {'r.agents' if agents else 'NULL'} "
        f"FROM {hour_table} h "
        f"LEFT JOIN {rollup_table} r ON r.test_id = h.test_id AND r.kind = %s AND r.hour = h.hour "
        f"WHERE h.test_id = %s AND h.hour >= %s AND h.hour <= %s"
    )
    with replicas.read_connection().cursor() as cur:
        cur.execute(sql, [*params, kind, scope.source_test_id, hours[0], hours[-1]])
        return cur.fetchall()


def _agents_by_hour(rows) -> list[tuple[int, int, int, int]]:
    """(hour, agent id, its first round in the hour, its last) of the rows, in one query."""
    return list(
        rows.annotate(h=F("round_id") - F("round_id") % HOUR)
        .values("h", "agent_id")
        .annotate(first=Min("round_id"), last=Max("round_id"))
        .values_list("h", "agent_id", "first", "last")
        .order_by()
    )


def _compute(test_id: int, kind: str, model, rule: Callable, layout: str, versions: dict[int, int]) -> dict:
    """The rollups of these hours from the test's rows (all agents, as written now), stored under `versions`."""
    whole = ReadScope(source_test_id=test_id)
    docs: dict[int, dict] = {hour: {"rounds": [], "agents": []} for hour in versions}
    for row in _each(whole, versions, model, lambda rows: rule(rows, kind)):
        docs[row[0] - row[0] % HOUR]["rounds"].append(row)
    for hour, agent_id, first, last in _each(whole, versions, model, _agents_by_hour):
        docs[hour]["agents"].append([agent_id, first, last])
    RollupHour.objects.bulk_create(
        [
            RollupHour(
                test_id=test_id,
                kind=kind,
                hour=hour,
                version=versions[hour],
                layout=layout,
                data=orjson.dumps(doc["rounds"]).decode(),
                agents=orjson.dumps(doc["agents"]).decode(),
            )
            for hour, doc in docs.items()
        ],
        update_conflicts=True,
        unique_fields=["test", "kind", "hour"],
        update_fields=["version", "layout", "data", "agents"],
    )
    return docs


def _from_rows(scope: ReadScope, kind: str, model, rule: Callable, agents: bool) -> Rounds:
    rows = scope.results(model)
    return Rounds(rule(rows, kind), set(rows.values_list("agent_id", flat=True).distinct()) if agents else None)


def _less(found: list[tuple], taken: list[tuple]) -> list[tuple]:
    """Per round, `found` less `taken` (per_round tuples of disjoint sets of agents): counts and sums subtract
    (agents too: the sets are disjoint); a round left with no row goes."""
    by_round = {r[0]: r for r in taken}
    out = []
    for row in found:
        minus = by_round.get(row[0])
        if minus is None:
            out.append(row)
            continue
        rest = [a - b for a, b in zip(row[1:4], minus[1:4], strict=True)]
        if rest[2] <= 0:
            continue
        for i in range(4, len(row), 2):
            count = row[i + 1] - minus[i + 1]
            rest += [((row[i] or 0.0) - (minus[i] or 0.0)) if count else None, count]
        out.append((row[0], *rest))
    return out


def rounds(scope: ReadScope, kind: str, model, rule: Callable, layout: str, agents: bool = False) -> Rounds:
    """rule(rows of the scope, kind) — timeline.per_round — from the rollups wherever they hold what the scope
    shows, from the rows elsewhere; with the distinct agents over the window when `agents`. A scope of some agents
    only reads the rollups less the other agents' rows when those are fewer, else its own agents' rows."""
    start, end = scope.start_round, scope.end_round
    if start is None or end is None or start > end:
        return _from_rows(scope, kind, model, rule, agents)
    limited = scope.agent_ids is not None
    if limited:
        agents = True  # which agents the rollups hold decides how to leave the others out
    hours = _hours(start, end)
    docs, stale, changed = {}, {}, []
    # An hour with no write counted has no rows (every write counts its hours; migration 0004 counted the older ones).
    for hour, version, after_freeze, stored, stored_layout, data, stored_agents in _state(scope, kind, hours, agents):
        if after_freeze:
            changed.append(hour)
        elif stored == version and stored_layout == layout:
            docs[hour] = {"rounds": orjson.loads(data), "agents": orjson.loads(stored_agents) if agents else None}
        else:
            stale[hour] = version
    if stale:
        docs.update(_compute(scope.source_test_id, kind, model, rule, layout, stale))
    found = [tuple(r) for hour in sorted(docs) for r in docs[hour]["rounds"] if start <= r[0] <= end]
    if limited:
        held = {a for doc in docs.values() for a, first, last in doc["agents"] if first <= end and last >= start}
        included = scope.agent_ids or frozenset()
        left_out = held - included
        if len(left_out) >= len(held & included):
            return _from_rows(scope, kind, model, rule, agents)  # reading the included agents' rows costs less
        # The rollups less the left-out agents' rows of the same hours, as written now (what the rollups hold).
        live = ReadScope(source_test_id=scope.source_test_id).within(start, end, left_out)
        found = _less(found, _each(live, docs, model, lambda rows: rule(rows, kind)))
    if changed:
        found.extend(_each(scope, changed, model, lambda rows: rule(rows, kind)))
        found.sort(key=lambda r: r[0])
    if not agents:
        return Rounds(found)
    # An agent reported inside the window when its first round in the hour is not after the window's end and its
    # last not before its start — exact unless the window cuts the hour on both sides; then, and for the hours
    # changed after the freeze, the agents are read from the rows.
    inside = [h for h in docs if start <= h or h + HOUR - 1 <= end]
    seen = {a for h in inside for a, first, last in docs[h]["agents"] if first <= end and last >= start}
    if limited:
        seen &= scope.agent_ids or frozenset()
    exact = [*(h for h in docs if h not in inside), *changed]
    if exact:
        seen |= set(_each(scope, exact, model, lambda rows: rows.values_list("agent_id", flat=True).distinct()))
    return Rounds(found, seen)


def refresh(limit: int = 500, within: int = 86400) -> int:
    """Compute the stale or missing rollups of up to `limit` hours written in the last `within` seconds — the
    worker's pass, as a continuous aggregate's refresh policy — so that the first timeline read after a write
    rarely pays for it (a read computes whatever is still stale). Returns how many hours it computed."""
    from . import timeline

    hour_table, rollup_table = ResultHour._meta.db_table, RollupHour._meta.db_table
    since = ResultHour._meta.get_field("written_at").get_db_prep_value(
        timezone.now() - timedelta(seconds=within), connection
    )
    done = 0
    for kind, model in timeline.KIND_MODEL.items():
        layout = timeline.LAYOUT[kind]
        sql = (
            f"SELECT h.test_id, h.hour, h.version FROM {hour_table} h LEFT JOIN {rollup_table} r "
            f"ON r.test_id = h.test_id AND r.kind = %s AND r.hour = h.hour "
            f"WHERE h.written_at >= %s AND (r.version IS NULL OR r.version <> h.version OR r.layout <> %s) "
            f"AND EXISTS (SELECT 1 FROM {model._meta.db_table} x WHERE x.test_id = h.test_id "
            f"AND x.round_id >= h.hour AND x.round_id < h.hour + {HOUR}) ORDER BY h.test_id, h.hour LIMIT %s"
        )
        with connection.cursor() as cur:
            cur.execute(sql, [kind, since, layout, limit - done])
            stale = cur.fetchall()
        by_test: dict[int, dict[int, int]] = {}
        for test_id, hour, version in stale:
            by_test.setdefault(test_id, {})[hour] = version
        for test_id, versions in by_test.items():
            _compute(test_id, kind, model, timeline.per_round, layout, versions)
        done += len(stale)
        if done >= limit:
            break
    return done
