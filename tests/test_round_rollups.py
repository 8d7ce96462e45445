"""The per-round rollups (spyglass.monitoring.rollups) give the timeline the rows give, whatever happened to the rows:
inserts, replacement of a row, deletion of an agent, retention, a snapshot frozen before later writes, a snapshot of
some agents only. The expected timeline is computed here in Python from the rows the scope lets a reader see."""

from datetime import UTC, datetime

from spyglass.monitoring import results, timeline
from spyglass.monitoring.models import DnsResult, NetResult, RollupHour
from spyglass.monitoring.retention import purge_old_results
from spyglass.monitoring.scope import ReadScope
from spyglass.sharing.scope_provider import scope_of
from tests.conftest import make_agent, make_snapshot, make_test

HOUR = 3600
BASE = 1_795_000_000 // HOUR * HOUR  # an hour's first round
FIRST, LAST = BASE + 1200, BASE + 3 * HOUR + 1800  # three and a half hours of rounds, cut inside hours
COLUMNS = {"loss": "loss", "latency": "avg_latency", "jitter": "jitter", "resolution_time": "resolution_time"}


def _net(test, agent, round_id, shift=0.0, error=False) -> dict:
    # Binary fractions only, so sums are exact in any order and the expected averages are the database's.
    step = (round_id - FIRST) // 60
    return {
        "test_id": test.id,
        "agent_id": agent.id,
        "round_id": round_id,
        "date": datetime.fromtimestamp(round_id, tz=UTC),
        "loss": 100.0 if error else float((step + agent.id) % 3) * 12.5,
        "avg_latency": None if error else 10.0 + agent.id * 1.5 + (step % 7) * 0.25 + shift,
        "jitter": None if step % 5 == 0 else 0.5 * (agent.id % 4),
        "error_type": "Connect" if error else "None",
        "error_details": "refused" if error else "",
    }


def _write(test, agents, rounds, shift=0.0):
    rows = [_net(test, a, r, shift, error=(r // 60 + a.id) % 11 == 0) for r in rounds for a in agents]
    results.upsert("net", rows)


def _expected(scope: ReadScope, kind: str, model, keys) -> dict:
    """Per round from the rows the scope shows: the agents, the errors and each series' average."""
    by_round: dict[int, list[dict]] = {}
    for row in scope.results(model).values():
        by_round.setdefault(row["round_id"], []).append(row)
    rounds = sorted(by_round)
    out = {"rounds": rounds, "agents": [], "errors": [], **{k: [] for k in keys}}
    for r in rounds:
        rows = by_round[r]
        out["agents"].append(len({x["agent_id"] for x in rows}))
        failed = [x for x in rows if x["error_type"] != "None" or (kind == "net" and (x["loss"] or 0) >= 100)]
        out["errors"].append(len(failed))
        for key in keys:
            values = [x[COLUMNS[key]] for x in rows if x[COLUMNS[key]] is not None]
            out[key].append(round(sum(values) / len(values), 3) if values else None)
    return out


def _shown(scope: ReadScope, test) -> dict:
    views = timeline.views_for(test)
    got = timeline.timelines(scope, views)
    first = got[views[0].key]
    out = {"rounds": first.rounds, "agents": first.agents, "errors": first.errors}
    for view in views:
        for series, values in zip(view.series, got[view.key].values, strict=True):
            out[series.key] = values
    return out


def assert_rollups_match_rows(scope: ReadScope, test, kind="net"):
    model = {"net": NetResult, "dns": DnsResult}[kind]
    keys = [s.key for s in timeline.KIND_SERIES[kind]]
    expected = _expected(scope, kind, model, keys)
    assert expected["rounds"], "the scope shows rows"
    assert _shown(scope, test) == expected  # the first read: rollups computed where missing, and stored
    assert _shown(scope, test) == expected  # read again from what was stored
    totals = timeline.window_totals(scope, kind)
    seen = scope.results(model)
    assert totals["agents"] == seen.values("agent_id").distinct().count()
    assert totals["rows"] == seen.count()
    return expected


def _live(test, start=FIRST + 300, end=LAST - 300) -> ReadScope:
    return ReadScope(source_test_id=test.id).within(start, end)


def test_rollups_equal_rows_after_inserts_replacements_agent_deletion_and_retention(cast):
    test = make_test(cast.owner, name="edge")
    agents = [make_agent(cast.owner, f"A{i}") for i in range(4)]
    rounds = range(FIRST, LAST + 1, 60)
    _write(test, agents, rounds)
    # Agents that reported only in the parts of the first and last hours the window leaves out: not counted.
    early, tail = make_agent(cast.owner, "Early"), make_agent(cast.owner, "Tail")
    _write(test, [early], range(FIRST, FIRST + 300, 60))
    _write(test, [tail], range(LAST - 240, LAST + 1, 60))
    before = assert_rollups_match_rows(_live(test), test)
    assert timeline.window_totals(_live(test), "net")["agents"] == 4
    assert timeline.window_totals(_live(test, FIRST, LAST), "net")["agents"] == 6
    assert RollupHour.objects.filter(test=test, kind="net").count() == 4  # one per hour of the window

    # Replacing rows (the same keys written again) in one hour: that hour is computed again, the rest read.
    _write(test, agents[:2], range(BASE + HOUR, BASE + HOUR + 600, 60), shift=40.0)
    after = assert_rollups_match_rows(_live(test), test)
    assert after["latency"] != before["latency"]

    agents[3].delete()  # its rows go with it: no write of results counted that
    assert max(assert_rollups_match_rows(_live(test), test)["agents"]) == 3

    purge_old_results(now=BASE + 2 * HOUR + 86400, days=1)  # keeps the rounds from the third hour on
    kept = assert_rollups_match_rows(_live(test, FIRST, LAST), test)
    assert kept["rounds"][0] == BASE + 2 * HOUR


def test_a_snapshot_shows_its_frozen_window_after_later_writes_while_the_live_page_shows_them(cast):
    test = make_test(cast.owner, name="edge")
    agents = [make_agent(cast.owner, f"A{i}") for i in range(3)]
    _write(test, agents, range(FIRST, BASE + 3 * HOUR, 60))
    assert_rollups_match_rows(_live(test, FIRST, LAST), test)  # the live rollups exist before the freeze
    snapshot = make_snapshot(cast.owner, test, hours=2, anchor=BASE + 2 * HOUR + 1800, position="ending")
    frozen = scope_of(snapshot)
    shown = assert_rollups_match_rows(frozen, test)

    late = make_agent(cast.owner, "Late")
    _write(test, agents[:1], range(BASE + HOUR, BASE + HOUR + 300, 60), shift=90.0)  # replaced: copied first
    _write(test, [late], range(BASE + 2 * HOUR, BASE + 2 * HOUR + 600, 60))  # first written after the freeze
    _write(test, agents, range(BASE + 3 * HOUR, LAST + 1, 60))  # after the window
    frozen = scope_of(snapshot)  # now with the copies
    assert frozen.copies_test_id is not None
    assert assert_rollups_match_rows(frozen, test) == shown
    assert timeline.window_totals(frozen, "net")["agents"] == 3
    live = assert_rollups_match_rows(_live(test, frozen.start_round, frozen.end_round), test)
    assert live != shown and max(live["agents"]) == 4


def test_a_snapshot_of_some_agents_shows_only_theirs_whether_read_from_their_rows_or_the_rollups_less_the_others(
    cast,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    test = make_test(cast.owner, name="edge")
    agents = [make_agent(cast.owner, f"A{i}") for i in range(4)]
    _write(test, agents, range(FIRST, LAST + 1, 60))
    assert_rollups_match_rows(_live(test), test)
    anchor = BASE + 2 * HOUR + 1800
    half = make_snapshot(cast.owner, test, hours=2, anchor=anchor, agent_ids=[agents[0].id, agents[2].id])
    most = make_snapshot(cast.owner, test, hours=2, anchor=anchor, agent_ids=[a.id for a in agents[:3]])
    # Written after both froze: a replaced row (copied first) of an included agent, in an hour the rollups hold.
    _write(test, agents[:1], range(BASE + HOUR + 600, BASE + HOUR + 900, 60), shift=50.0)
    shown = assert_rollups_match_rows(scope_of(half), test)
    assert max(shown["agents"]) == 2 and timeline.window_totals(scope_of(half), "net")["agents"] == 2
    with CaptureQueriesContext(connection) as queries:
        shown = assert_rollups_match_rows(scope_of(most), test)
    assert max(shown["agents"]) == 3 and timeline.window_totals(scope_of(most), "net")["agents"] == 3
    # Three of four agents: the rollups less the fourth's rows, not the three's rows.
    left_out = [q["sql"] for q in queries if "COUNT(DISTINCT" in q["sql"] and f"IN ({agents[3].id})" in q["sql"]]
    assert left_out, [q["sql"] for q in queries if "COUNT(DISTINCT" in q["sql"]]


def test_dns_rounds_count_agents_once_whatever_their_servers(cast):
    test = make_test(cast.owner, "dns-server", name="resolver")
    agents = [make_agent(cast.owner, f"A{i}") for i in range(3)]
    rows = []
    for r in range(FIRST, FIRST + 2 * HOUR, 60):
        for a in agents:
            for server_id, server in enumerate(("ns1.example.net", "ns2.example.net")):
                failed = (r // 60 + a.id + server_id) % 7 == 0
                rows.append(
                    {
                        "test_id": test.id,
                        "agent_id": a.id,
                        "round_id": r,
                        "date": datetime.fromtimestamp(r, tz=UTC),
                        "server": server,
                        "server_id": server_id,
                        "resolution_time": None if failed else 5.0 + a.id * 0.5 + server_id * 0.25,
                        "error_type": "Timeout" if failed else "None",
                        "error_details": "",
                    }
                )
    results.upsert("dns", rows)
    scope = _live(test, FIRST, FIRST + 2 * HOUR)
    views = timeline.views_for(test)
    got = timeline.timelines(scope, views)
    again = timeline.timelines(scope, views)
    assert got == again and set(got["availability"].agents) == {3}
    errors = [
        sum(1 for x in rows if x["round_id"] == r and x["error_type"] != "None") for r in got["availability"].rounds
    ]
    assert got["availability"].errors == errors
    assert got["availability"].values[0] == [round(100.0 * (6 - e) / 6, 3) for e in errors]


def test_the_workers_refresh_computes_the_hours_just_written_so_a_read_touches_no_row(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from spyglass.worker import refresh_rollups

    test = make_test(cast.owner, name="edge")
    agents = [make_agent(cast.owner, f"A{i}") for i in range(3)]
    _write(test, agents, range(FIRST, LAST + 1, 60))
    assert refresh_rollups() == 4  # the four hours written
    assert refresh_rollups() == 0
    with CaptureQueriesContext(connection) as queries:
        shown = _shown(_live(test), test)
    assert [q["sql"] for q in queries if "netresult" in q["sql"]] == []
    assert shown == _expected(_live(test), "net", NetResult, [s.key for s in timeline.KIND_SERIES["net"]])
