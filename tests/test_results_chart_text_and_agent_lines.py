"""The timeline's text alternative (results_ui/chart_text.py), its per-agent lines (`?lines=agents`, computed by the
database within the page's scope), the table's shortened numbers and the period links that keep the round."""

import html
import json
import re
import time

from django.test import Client

from spyglass.lib.rounds import round_of
from spyglass.monitoring import results, timeline
from spyglass.monitoring.models import Agent
from spyglass.monitoring.scope import ReadScope
from spyglass.monitoring.seed import seed
from spyglass.monitoring.timeline import HTTP_VIEWS, NET_VIEWS, Timeline
from spyglass.results_ui import chart_text
from spyglass.results_ui.templatetags.web_format import short
from tests.conftest import make_agent, make_snapshot, make_test
from tests.web_support import http_row, net_rows, signed_in

NOW = round_of(time.time(), 60)
R1, R2, R3 = NOW - 180, NOW - 120, NOW - 60
LATENCY = next(v for v in NET_VIEWS if v.key == "latency")
AVAILABILITY = next(v for v in HTTP_VIEWS if v.key == "availability")
PHASES = next(v for v in HTTP_VIEWS if v.key == "phases")
ROUND = 1795338000  # 2026-11-22 09:00:00 UTC


def test_the_summary_names_minimum_average_maximum_errors_and_the_worst_round():
    series = Timeline([ROUND, ROUND + 60, ROUND + 120], [[12.0, 280.0, None]], [3, 3, 2], [0, 2, 1])
    text = chart_text.summary(series, LATENCY)
    assert text == (
        "Latency, average across agents, over 3 rounds: minimum 12.00 ms, average 146 ms, maximum 280 ms; "
        "2 rounds with errors (at most 2 agents); worst round 2026-11-22 09:01 UTC (280 ms)."
    )


def test_the_worst_round_of_availability_is_the_lowest_and_a_stacked_view_is_read_by_its_total():
    series = Timeline([ROUND, ROUND + 60], [[100.0, 50.0]], [2, 2], [0, 1])
    assert "worst round 2026-11-22 09:01 UTC (50.00 %)" in chart_text.summary(series, AVAILABILITY)
    parts = [[5.0, 6.0], [20.0, 200.0], [40.0, 40.0], [30.0, 30.0], [5.0, 4.0]]
    text = chart_text.summary(Timeline([ROUND, ROUND + 60], parts, [1, 1], [0, 0]), PHASES)
    assert text.startswith("Phase Breakdown (total of its phases), average across agents, over 2 rounds")
    assert "maximum 280 ms" in text and "no errors" in text and "worst round 2026-11-22 09:01 UTC (280 ms)" in text


def test_one_round_and_no_round_read_plainly():
    assert chart_text.summary(Timeline([], [[]], [], []), LATENCY) == "Latency: no results in this period."
    one = chart_text.summary(Timeline([ROUND], [[7.5]], [1], [0]), LATENCY)
    assert (
        one
        == "Latency, average across agents, over 1 round: minimum 7.50 ms, average 7.50 ms, maximum 7.50 ms; no errors."
    )


def test_the_page_shows_the_summary_as_text_tied_to_the_chart(cast):
    test = make_test(cast.owner, name="edge")
    a, b = make_agent(cast.owner, "Amsterdam"), make_agent(cast.owner, "Berlin")
    net_rows(test, {a: (0.0, 10.0, 1.0), b: (0.0, 30.0, 1.0)}, R1)
    net_rows(test, {a: (0.0, 40.0, 1.0), b: (100.0, None, None)}, R2, error_agents=[b])
    page = signed_in(cast.owner).get(f"/tests/{test.id}/?view=latency").content.decode()
    summary = re.search(r'<p id="chart-summary" class="chart-summary">([^<]+)</p>', page).group(1)
    assert html.unescape(summary).startswith("Latency, average across agents, over 2 rounds: minimum 20.00 ms")
    assert "1 round with errors (at most 1 agent)" in summary
    assert 'aria-describedby="chart-summary chart-keys"' in page and 'id="chart-keys"' in page
    assert "<summary>Show as table</summary>" in page
    assert 'id="results-status" class="sr-only" role="status" aria-live="polite"' in page


def agent_lines(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def test_agent_lines_give_each_agents_metric_per_round_from_the_page_url(cast):
    test = make_test(cast.owner, name="edge")
    a, b = make_agent(cast.owner, "Amsterdam"), make_agent(cast.owner, "Berlin")
    net_rows(test, {a: (0.0, 10.0, 1.0), b: (0.0, 30.0, 1.0)}, R1)
    net_rows(test, {a: (0.0, 40.0, 1.0), b: (100.0, None, None)}, R2, error_agents=[b])
    net_rows(test, {a: (5.0, 15.0, 1.5)}, R3)
    client = signed_in(cast.owner)
    page = client.get(f"/tests/{test.id}/?view=latency").content.decode()
    data = json.loads(html.unescape(re.search(r'data-chart="([^"]+)"', page).group(1)))
    assert "lines=agents" in data["linesUrl"]
    lines = agent_lines(client, data["linesUrl"])
    assert lines["rounds"] == [R1, R2, R3] and lines["total"] == 2
    assert lines["agents"] == [
        {"id": a.id, "name": "Amsterdam", "values": [10.0, 40.0, 15.0]},
        {"id": b.id, "name": "Berlin", "values": [30.0, None, None]},
    ]
    # Another View's metric; another account group's reader gets 404, never the rows.
    loss = agent_lines(client, f"/tests/{test.id}/?view=loss&lines=agents")
    assert [x["values"] for x in loss["agents"]] == [[0.0, 0.0, 5.0], [0.0, 100.0, None]]
    assert signed_in(cast.other_group).get(f"/tests/{test.id}/?lines=agents").status_code == 404
    assert signed_in(cast.other_org).get(f"/tests/{test.id}/?lines=agents").status_code == 404


def test_agent_lines_keep_the_worst_agents_when_there_are_more_than_the_limit(cast):
    test = make_test(cast.owner, "http-server", name="many")
    agents = [make_agent(cast.owner, f"Agent {i:02}") for i in range(4)]
    rows = [http_row(test, agent, R1, response_time=10.0 * (i + 1)) for i, agent in enumerate(agents)]
    results.upsert("http", rows)
    view = next(v for v in HTTP_VIEWS if v.key == "response-time")
    lines = timeline.agent_lines(ReadScope(source_test_id=test.id, start_round=R1, end_round=R1), view, limit=2)
    assert lines.total == 4 and [x["name"] for x in lines.agents] == ["Agent 02", "Agent 03"]
    assert [x["values"] for x in lines.agents] == [[30.0], [40.0]]
    throughput = next(v for v in HTTP_VIEWS if v.key == "throughput")  # lower is worse
    lines = timeline.agent_lines(ReadScope(source_test_id=test.id, start_round=R1, end_round=R1), throughput, limit=1)
    assert lines.agents[0]["values"] == [2000.0]


def test_a_share_links_agent_lines_hold_only_its_window_and_agents(cast):
    test = make_test(cast.owner, name="edge", interval=60)
    seed(test, agents=3, hours=12, random_seed=5, now=ROUND + 6 * 3600)
    kept, *others = list(Agent.objects.filter(tests=test).order_by("name"))
    snapshot = make_snapshot(cast.owner, test, hours=2, anchor=ROUND, position="around", agent_ids=[kept.id])
    page = Client().get(f"/s/{snapshot.link_id}/").content.decode()
    data = json.loads(html.unescape(re.search(r'data-chart="([^"]+)"', page).group(1)))
    assert data["linesUrl"].startswith(f"/s/{snapshot.link_id}/results?")
    visits = snapshot.visits.count()
    lines = agent_lines(Client(), data["linesUrl"])
    assert [x["name"] for x in lines["agents"]] == [kept.name] and lines["total"] == 1
    assert lines["rounds"][0] >= snapshot.start_round and lines["rounds"][-1] <= snapshot.end_round
    assert len(lines["rounds"]) == 121
    assert snapshot.visits.count() == visits  # a data request is not a visit
    # Revoked: 404 at once, the lines included.
    assert cast.owner.client.post(f"/v6/snapshots/{snapshot.link_id}/delete.json").status_code == 204
    assert Client().get(data["linesUrl"]).status_code == 404


def test_long_numbers_are_shortened_with_the_exact_value_in_the_title(cast):
    assert short(99_999.0) is None and short(123_456) == "123 k" and short(4_567_890.0) == "4.57 M"
    assert short(12_300_000_000) == "12.3 G" and short("120000") is None
    test = make_test(cast.owner, "http-server", name="big")
    agent = make_agent(cast.owner, "Paris")
    results.upsert("http", [http_row(test, agent, R1, wire_size=1_234_567, throughput=45_678_900.0)])
    page = signed_in(cast.owner).get(f"/tests/{test.id}/?view=throughput").content.decode()
    assert '<td data-value="45678.9" class="lead num">45,679</td>' in page  # kB/s under the limit: in full
    assert '<td data-value="1234567" class="num" title="1,234,567">1.23 M</td>' in page


def test_period_links_keep_the_round_when_it_is_inside_the_period(cast):
    test = make_test(cast.owner, name="edge")
    a = make_agent(cast.owner, "Amsterdam")
    old = NOW - 3 * 3600
    net_rows(test, {a: (0.0, 10.0, 1.0)}, old)
    net_rows(test, {a: (0.0, 10.0, 1.0)}, R3)
    page = signed_in(cast.owner).get(f"/tests/{test.id}/?roundId={old}&view=latency").content.decode()
    links = dict(re.findall(r'<a href="([^"]+)" class="[^"]*" data-period="(\w+)"', page)[i][::-1] for i in range(6))
    assert f"roundId={old}" in links["6h"] and f"roundId={old}" in links["24h"]
    assert "roundId" not in links["1h"]  # outside the last hour: that period opens at its latest round
