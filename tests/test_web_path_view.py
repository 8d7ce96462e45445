"""The Path Visualization View on the server side: which tests offer it, what the round panel carries (escaped, no
inline script), that the traces are read through the page's own scope (a snapshot's window and agents), that an
HTTP test's snapshot (rollups of another kind) shows it, and that the snapshot's JSON download carries the traces."""

import html
import json
import re

from django.test import Client

from spyglass.monitoring import path_store
from spyglass.monitoring.models import Agent, NetResult
from spyglass.monitoring.seed import seed
from tests import path_fixture
from tests.conftest import make_snapshot, make_test
from tests.web_support import signed_in

ROUND = 1795334400
EVIL = '<script>alert("x")</script>Frankfurt'


def traced(test, agent_count: int, hours: float, now: int):
    """Seeded rounds, every one traced by every agent (path_fixture)."""
    seed(test, agents=agent_count, hours=hours, random_seed=1, now=now)
    agents = list(Agent.objects.filter(tests=test).order_by("id"))
    rounds = sorted(set(NetResult.objects.filter(test=test).values_list("round_id", flat=True)))
    path_fixture.trace_rounds(test, agents, rounds)
    return agents


def panel_data(content: str) -> dict:
    found = re.search(r'id="path-vis" class="path-vis" data-paths="([^"]*)"', content)
    assert found, "no path panel"
    return json.loads(html.unescape(found.group(1)))


def test_the_round_panel_carries_the_rounds_traces_escaped_without_inline_script(cast):
    test = make_test(cast.owner, "agent-to-server", name="edge", numPathTraces=0)
    agent, _ = traced(test, 2, 1, ROUND)
    agent.name = EVIL
    agent.save()
    content = signed_in(cast.owner).get(f"/tests/{test.id}/?view=path-vis&roundId={ROUND}").content.decode()
    data = panel_data(content)
    assert data["roundId"] == ROUND and len(data["agents"]) == 2 and len(data["rounds"]) == 60
    assert data["agents"][0]["agentName"] == EVIL and data["agents"][0]["changed"] is True
    assert data["agents"][1]["changed"] is False
    assert EVIL not in content  # only escaped
    scripts = re.findall(r"<script\b[^>]*>", content)
    assert scripts and all(" src=" in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+=", content) and " style=" not in content
    # Other Views carry no path panel.
    assert 'id="path-vis"' not in signed_in(cast.owner).get(f"/tests/{test.id}/?view=loss").content.decode()


def test_the_view_is_offered_only_to_tests_that_trace(cast):
    quiet = make_test(cast.owner, "dns-server", name="quiet", networkMeasurements=0)
    seed(quiet, agents=1, hours=1, random_seed=1, now=ROUND)
    content = signed_in(cast.owner).get(f"/tests/{quiet.id}/?view=path-vis").content.decode()
    assert 'data-view="path-vis"' not in content and 'id="path-vis"' not in content


def test_an_http_snapshot_shows_the_path_view_of_its_own_agents_and_downloads_the_traces(cast):
    test = make_test(cast.owner, "http-server", name="shop", interval=60, networkMeasurements=1, numPathTraces=0)
    agents = traced(test, 3, 4, ROUND + 2 * 3600)
    keep = [a.id for a in agents[:2]]
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=ROUND, agent_ids=keep, display_name="s", view="path-vis")
    client = Client()
    first = client.get(f"/s/{snapshot.link_id}/").content.decode()
    data = panel_data(first)
    # The snapshot's agents, its window and its creator's round.
    assert {a["agentId"] for a in data["agents"]} == {str(k) for k in keep}
    assert data["rounds"][0] >= ROUND and data["rounds"][-1] <= ROUND + 3600 and len(data["rounds"]) == 61
    assert data["roundId"] == snapshot.round_id
    # The timeline above it is the network loss, from rows of another kind than the snapshot's rollups.
    chart = json.loads(html.unescape(re.search(r'data-chart="([^"]*)"', first).group(1)))
    assert chart["view"] == "path-vis" and len(chart["rounds"]) == 61
    # The stored page is served again, the same.
    assert client.get(f"/s/{snapshot.link_id}/").content.decode().count('id="path-vis"') == 1
    # Opened in the app by a member, the same.
    in_app = panel_data(signed_in(cast.owner).get(f"/sharing/snapshots/{snapshot.link_id}/").content.decode())
    assert in_app["roundId"] == data["roundId"] and {a["agentId"] for a in in_app["agents"]} == {str(k) for k in keep}
    # Other Views of the snapshot still come from its rollups.
    assert 'data-view="availability"' in client.get(f"/s/{snapshot.link_id}/?view=availability").content.decode()

    body = json.loads(b"".join(client.get(f"/s/{snapshot.link_id}/download.json").streaming_content))
    assert body["web"]["httpServer"] and body["net"]["metrics"]
    traces = body["pathVis"]
    assert [r["roundId"] for r in traces["rounds"]] == data["rounds"]
    assert all({a["agentId"] for a in r["agents"]} == {str(k) for k in keep} for r in traces["rounds"])
    assert set(traces["agents"]) == {str(k) for k in keep}
    # Nobody's path changed inside this window (the first agent's changes later): one path for each agent.
    assert not any(a["changed"] for r in traces["rounds"] for a in r["agents"])
    assert len(traces["paths"]) == 2


def test_a_download_of_a_test_without_traces_has_no_path_section(cast):
    test = make_test(cast.owner, "dns-server", name="dns", networkMeasurements=0)
    seed(test, agents=1, hours=2, random_seed=2, now=ROUND + 3600)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=ROUND, display_name="d")
    body = json.loads(b"".join(Client().get(f"/s/{snapshot.link_id}/download.json").streaming_content))
    assert "pathVis" not in body and body["dns"]


def test_a_live_share_recipient_sees_no_trace_from_before_the_share(cast):
    from tests.test_web_live_shares import share_inside

    test = make_test(cast.owner, "agent-to-server", name="shared edge", numPathTraces=0)
    first_agent, _ = traced(test, 2, 1, ROUND)
    since = ROUND - 1800
    # Before the share the first agent went another way.
    earlier = [
        row
        for r in range(since - 900, since, 60)
        for row in path_fixture.rows(test, first_agent, r, path_fixture.second_agent_hops("198.18.55.1"), "s")
    ]
    path_store.store(earlier, merge=False)
    share = share_inside(cast.owner, test, "Dev")
    dev = signed_in(cast.other_group)
    assert dev.post(f"/live-shares/{share.id}/accept/").status_code == 302
    share.__class__.objects.filter(id=share.id).update(start_round=since)
    before = since - 600
    owner_view = panel_data(
        signed_in(cast.owner).get(f"/tests/{test.id}/?view=path-vis&roundId={before}").content.decode()
    )
    assert owner_view["roundId"] == before
    # The recipient asking for that round gets nothing from before the share.
    asked_before = panel_data(dev.get(f"/tests/{test.id}/?view=path-vis&roundId={before}").content.decode())
    assert all(r >= since for r in asked_before["rounds"]) and asked_before["roundId"] != before
    shared = panel_data(dev.get(f"/tests/{test.id}/?view=path-vis&roundId={since + 600}").content.decode())
    assert shared["roundId"] == since + 600 and min(shared["rounds"]) == since
    # The owner sees the first agent's path change at that round; the recipient, who may not look before the
    # share, is not told of a change against a round it cannot see.
    url = f"/tests/{test.id}/?view=path-vis&roundId={since}"
    owners = panel_data(signed_in(cast.owner).get(url).content.decode())
    assert [a["changed"] for a in owners["agents"]] == [True, False]
    first = panel_data(dev.get(url).content.decode())
    assert first["roundId"] == since and not any(a["changed"] for a in first["agents"])


def test_export_data_offers_the_path_traces_of_a_traced_test(cast):
    test = make_test(cast.owner, "agent-to-server", name="edge", numPathTraces=0)
    traced(test, 2, 1, ROUND)
    client = signed_in(cast.owner)
    content = client.get(f"/tests/{test.id}/?roundId={ROUND}").content.decode()
    path = f"/v6/net/path-vis/{test.id}"
    assert f'data-export-path="{path}"' in content and "Open Path visualization data" in content
    body = client.get(f"{path}.json?from=2026-11-22T08:00:00&to=2026-11-22T09:00:00").json()
    assert {e["roundId"] for e in body["net"]["pathVis"]} and body["net"]["pathVis"][0]["endpoints"]
    quiet = make_test(cast.owner, "dns-server", name="quiet", networkMeasurements=0)
    assert "/v6/net/path-vis/" not in client.get(f"/tests/{quiet.id}/").content.decode()


def rebuilt(traces: dict, round_entry: dict) -> list[dict]:
    """A round of the download as the View's data has it: each trace's hops from its path, with its own numbers."""
    out = []
    for agent in round_entry["agents"]:
        first = traces["paths"][agent["traces"][0]["pathId"]]
        out.append(
            {
                "agentId": agent["agentId"],
                "agentName": traces["agents"][agent["agentId"]],
                "sourceIp": first["sourceIp"],
                "changed": agent["changed"],
                "traces": [
                    {
                        "pathId": t["pathId"],
                        "reached": t["reached"],
                        "hops": [
                            {**hop, "responseTime": time, "loss": loss}
                            for hop, time, loss in zip(
                                traces["paths"][t["pathId"]]["hops"], t["responseTime"], t["loss"], strict=True
                            )
                        ],
                    }
                    for t in agent["traces"]
                ],
            }
        )
    return out


def test_the_download_holds_each_path_once_and_every_rounds_hops_can_be_rebuilt(cast):
    path_fixture.load_networks()  # prefixes and networks travel with the paths
    test = make_test(cast.owner, "agent-to-server", name="edge", numPathTraces=0)
    agents = traced(test, 4, 2, ROUND + 3600)  # the first agent's path changes in the last round, ROUND + 3600
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=ROUND, display_name="s", view="path-vis")
    client = Client()
    raw = b"".join(client.get(f"/s/{snapshot.link_id}/download.json").streaming_content)
    traces = json.loads(raw)["pathVis"]
    rounds = traces["rounds"]
    assert len(rounds) == 61 and all(len(r["agents"]) == 4 for r in rounds)
    # Each distinct path once: one for each agent, and the first agent's new one.
    assert len(traces["paths"]) == 5
    assert set(traces["agents"]) == {str(a.id) for a in agents}
    # Compact: per agent and round only its 3 traces' numbers, not their hops' addresses, names and networks
    # again (each name appears once a path); a fifth at most of the View's hop-by-hop form of the same rounds, and
    # within twice the agent's network metrics row of the round (which has no hops at all).
    assert raw.count(json.dumps(path_fixture.EVIL_RDNS)[1:-1].encode()) == sum(
        1 for path in traces["paths"].values() for hop in path["hops"] if hop["rdns"] == path_fixture.EVIL_RDNS
    )
    per_agent_round = len(json.dumps(traces, separators=(",", ":"))) / (len(rounds) * 4)
    net_row = len(json.dumps(json.loads(raw)["net"]["metrics"][0], separators=(",", ":")))
    view_form = len(json.dumps(rebuilt(traces, rounds[0]), separators=(",", ":"))) / 4
    assert per_agent_round <= 2 * net_row and per_agent_round <= view_form / 5, (per_agent_round, net_row, view_form)
    # Nothing is lost: every round's hops, rebuilt from the paths, are what the View shows for that round.
    for entry in (rounds[0], rounds[30], rounds[-1]):
        shown = panel_data(
            client.get(f"/s/{snapshot.link_id}/?view=path-vis&roundId={entry['roundId']}").content.decode()
        )
        assert shown["roundId"] == entry["roundId"]
        assert rebuilt(traces, entry) == shown["agents"]
    assert [a["changed"] for a in rounds[-1]["agents"]] == [True, False, False, False]
    assert shown["agents"][0]["traces"][0]["hops"][0]["network"] == path_fixture.NETWORK


def chart_data(content: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-chart="([^"]*)"', content).group(1)))


def test_the_timeline_marks_the_rounds_where_an_agents_path_changed(cast):
    test = make_test(cast.owner, "agent-to-server", name="edge", numPathTraces=0)
    _, second = traced(test, 2, 1, ROUND)  # the first agent's path changes in the last round, ROUND
    # The second agent goes another way for two rounds in the middle of the hour, then back: a change each way.
    detour = path_fixture.second_agent_hops("198.18.66.1")
    path_store.store(
        [row for r in (ROUND - 1800, ROUND - 1740) for row in path_fixture.rows(test, second, r, detour, "s")],
        merge=False,
    )
    client = signed_in(cast.owner)
    content = client.get(f"/tests/{test.id}/?view=path-vis&roundId={ROUND - 600}").content.decode()
    changes = [ROUND - 1800, ROUND - 1680, ROUND]
    assert chart_data(content)["changes"] == changes
    # The same in text, for whoever does not see the chart: each round a link that selects it.
    text = re.search(r'<p id="path-changes"[^>]*>(.*?)</p>', content, re.S).group(1)
    assert "An agent&#x27;s path changed in 3 rounds" in text or "An agent's path changed in 3 rounds" in text
    links = re.findall(r'<a href="([^"]*)"[^>]*data-change-round>', text)
    assert [int(re.search(r"roundId=(\d+)", link).group(1)) for link in links] == changes
    assert "rounds where a path changed are marked" in content
    # They agree with the View's own `changed` of those rounds.
    for r in changes:
        shown = panel_data(client.get(f"/tests/{test.id}/?view=path-vis&roundId={r}").content.decode())
        assert any(a["changed"] for a in shown["agents"])
    assert not any(a["changed"] for a in panel_data(content)["agents"])
    # Other Views carry no marks.
    other = client.get(f"/tests/{test.id}/?view=loss&roundId={ROUND}").content.decode()
    assert "changes" not in chart_data(other) and 'id="path-changes"' not in other


def test_the_marks_of_a_window_are_read_with_as_many_queries_whatever_its_length(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from spyglass.monitoring import paths
    from spyglass.monitoring.scope import ReadScope

    test = make_test(cast.owner, "agent-to-server", name="edge", numPathTraces=0)
    traced(test, 3, 4, ROUND)  # rounds before both windows too: each compares its first round with the one before
    allowed = ReadScope(source_test_id=test.id)
    counts = []
    for hours in (1, 3):
        with CaptureQueriesContext(connection) as queries:
            assert paths.changed_rounds(allowed, ROUND - hours * 3600 + 60, ROUND) == [ROUND]
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts  # 60 rounds or 180: one read of the window's rows
