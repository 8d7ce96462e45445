"""Per-round aggregates across agents, computed by the database in one query, and one round's per-agent rows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from spyglass.monitoring import results, timeline
from spyglass.monitoring.scope import ReadScope
from tests.conftest import make_agent, make_test
from tests.web_support import http_row, net_rows

R1, R2 = 1_800_000_000 - 1_800_000_000 % 60, 1_800_000_000 - 1_800_000_000 % 60 + 60


def window(test, start, end, agent_ids=None) -> ReadScope:
    return ReadScope(source_test_id=test.id).within(start, end, agent_ids)


def test_it_averages_each_round_across_agents_in_one_query_then_reads_the_stored_rollup(cast):
    test = make_test(cast.owner, name="edge")
    a, b, c = (make_agent(cast.owner, n) for n in ("A", "B", "C"))
    net_rows(test, {a: (0.0, 10.0, 1.0), b: (10.0, 20.0, 2.0), c: (20.0, 60.0, 6.0)}, R1)
    net_rows(test, {a: (0.0, 30.0, 3.0), b: (100.0, None, None)}, R2, error_agents=[b])
    view = timeline.view_for(test, "latency")
    with CaptureQueriesContext(connection) as queries:
        series = timeline.timeline(window(test, R1, R2), view)
    grouped = [q["sql"] for q in queries if "COUNT(DISTINCT" in q["sql"].upper() and "netresult" in q["sql"]]
    assert len(grouped) == 1  # the hour's per-round aggregate, computed once from its rows and stored
    with CaptureQueriesContext(connection) as queries:
        again = timeline.timeline(window(test, R1, R2), view)
    assert len(queries) == 1 and "netresult" not in queries[0]["sql"]  # read back without touching a row
    assert again == series
    assert series.rounds == [R1, R2]
    assert series.values == [[30.0, 30.0]]  # the down agent has no latency: it does not drag the average to 0
    assert series.agents == [3, 2]
    assert series.errors == [0, 1]
    loss = timeline.timeline(window(test, R1, R2), timeline.view_for(test, "loss"))
    assert loss.values == [[10.0, 50.0]]


def test_it_limits_the_timeline_to_the_window_and_the_agents_given(cast):
    test = make_test(cast.owner, name="edge")
    a, b = make_agent(cast.owner, "A"), make_agent(cast.owner, "B")
    net_rows(test, {a: (0.0, 10.0, 1.0), b: (0.0, 50.0, 1.0)}, R1)
    net_rows(test, {a: (0.0, 20.0, 1.0), b: (0.0, 60.0, 1.0)}, R2)
    view = timeline.view_for(test, "latency")
    assert timeline.timeline(window(test, R2, R2), view).rounds == [R2]
    assert timeline.timeline(window(test, R1, R2, {a.id}), view).values == [[10.0, 20.0]]
    assert [r["agent_name"] for r in timeline.round_rows(window(test, R1, R2, {b.id}), "net", R2)] == ["B"]


def test_it_computes_http_availability_and_spells_out_errors(cast):
    test = make_test(cast.owner, "http-server", name="shop")
    a, b = make_agent(cast.owner, "A"), make_agent(cast.owner, "B")
    results.upsert(
        "http",
        [
            http_row(test, a, R1, response_time=100.0, throughput=5000.0),
            http_row(
                test,
                b,
                R1,
                response_code=None,
                response_time=None,
                throughput=None,
                error_type="SSL",
                error_details="certificate has expired",
            ),
        ],
    )
    series = timeline.timeline(window(test, R1, R1), timeline.view_for(test, "availability"))
    assert series.values == [[50.0]] and series.errors == [1]
    assert timeline.timeline(window(test, R1, R1), timeline.view_for(test, "throughput")).values == [[5.0]]  # kB/s
    rows = {r["agent_name"]: r for r in timeline.round_rows(window(test, R1, R1), "http", R1)}
    assert rows["B"]["error"] == "SSL: certificate has expired" and rows["B"]["availability"] == 0.0
    assert rows["A"]["error"] == "" and rows["A"]["availability"] == 100.0


def test_it_names_the_views_of_each_test_type(cast):
    labels = {t: [v.label for v in timeline.VIEWS[t]] for t in ("agent-to-server", "http-server", "dns-server")}
    assert labels == {
        "agent-to-server": ["Loss", "Latency", "Jitter"],
        "http-server": ["Availability", "Response Time", "Throughput", "Phase Breakdown"],
        "dns-server": ["Availability", "Resolution Time"],
    }


def test_it_reports_each_tests_last_round_status_in_a_constant_number_of_queries(cast):
    tests = [make_test(cast.owner, name=f"t{i}") for i in range(4)]
    a, b = make_agent(cast.owner, "A"), make_agent(cast.owner, "B")
    for t in tests[:3]:
        net_rows(t, {a: (0.0, 10.0, 1.0), b: (0.0, 10.0, 1.0)}, R1)
        net_rows(t, {a: (0.0, 10.0, 1.0), b: (100.0, None, None)}, R2, error_agents=[b] if t is tests[0] else [])
    with CaptureQueriesContext(connection) as queries:
        status = timeline.last_round_status(tests)
    assert len(queries) == 2
    assert status[tests[0].id] == {"round_id": R2, "agents": 2, "errors": 1}
    assert status[tests[1].id]["errors"] == 1  # 100 % loss is an error even without an error type
    assert tests[3].id not in status
