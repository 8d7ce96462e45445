"""The Path Visualization View on the server side: which tests offer it, what the round panel carries (escaped, no
inline script), that the traces are read through the page's own scope (a snapshot's window and agents), that an
HTTP test's snapshot (rollups of another kind) shows it, and that the snapshot's JSON download carries the traces."""

import html
import json
import re

import pytest
from django.test import Client

from spyglass.monitoring.models import Agent
from spyglass.monitoring.seed import seed
from spyglass.results_ui import paths
from tests import path_fixture
from tests.conftest import make_snapshot, make_test
from tests.web_support import signed_in

ROUND = 1795334400
EVIL = '<script>alert("x")</script>Frankfurt'


@pytest.fixture
def asked(monkeypatch):
    """The fixture's traces for every round; records the scope and round each read was made with."""
    calls = []

    def view_data(rows, round_id):
        calls.append((rows, round_id))
        agents = list(Agent.objects.filter(id__in=rows.agent_ids) if rows.agent_ids else Agent.objects.all())
        agents = sorted(agents, key=lambda a: a.id)[:2]
        return path_fixture.view_data(agents, round_id, [round_id] if round_id else [])

    monkeypatch.setattr(paths, "_view_data", view_data)
    return calls


def panel_data(content: str) -> dict:
    found = re.search(r'id="path-vis" class="path-vis" data-paths="([^"]*)"', content)
    assert found, "no path panel"
    return json.loads(html.unescape(found.group(1)))


def test_the_round_panel_carries_the_rounds_traces_escaped_without_inline_script(cast, asked):
    test = make_test(cast.owner, "agent-to-server", name="edge")
    seed(test, agents=2, hours=1, random_seed=1, now=ROUND)
    agent = Agent.objects.filter(tests=test).order_by("id").first()
    agent.name = EVIL
    agent.save()
    content = signed_in(cast.owner).get(f"/tests/{test.id}/?view=path-vis&roundId={ROUND}").content.decode()
    data = panel_data(content)
    assert data["roundId"] == ROUND and len(data["agents"]) == 2
    assert data["agents"][0]["agentName"] == EVIL
    assert EVIL not in content  # only escaped
    scripts = re.findall(r"<script\b[^>]*>", content)
    assert scripts and all(" src=" in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+=", content) and " style=" not in content
    # The page's window and agents: the live page reads the whole test's rows up to now.
    rows, round_id = asked[-1]
    assert round_id == ROUND and rows.source_test_id == test.id
    # Other Views carry no path panel and read no traces.
    calls = len(asked)
    assert 'id="path-vis"' not in signed_in(cast.owner).get(f"/tests/{test.id}/?view=loss").content.decode()
    assert len(asked) == calls


def test_the_view_is_offered_only_to_tests_that_trace(cast, asked):
    quiet = make_test(cast.owner, "dns-server", name="quiet", networkMeasurements=0)
    seed(quiet, agents=1, hours=1, random_seed=1, now=ROUND)
    content = signed_in(cast.owner).get(f"/tests/{quiet.id}/?view=path-vis").content.decode()
    assert 'data-view="path-vis"' not in content and 'id="path-vis"' not in content
    assert not asked


def test_an_http_snapshot_shows_the_path_view_of_its_own_agents_and_downloads_the_traces(cast, asked):
    test = make_test(cast.owner, "http-server", name="shop", interval=60, networkMeasurements=1)
    seed(test, agents=3, hours=4, random_seed=11, now=ROUND + 2 * 3600)
    keep = sorted(test.agents.values_list("id", flat=True))[:2]
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=ROUND, agent_ids=keep, display_name="s", view="path-vis")
    client = Client()
    first = client.get(f"/s/{snapshot.link_id}/").content.decode()
    data = panel_data(first)
    assert {a["agentId"] for a in data["agents"]} == {str(k) for k in keep}
    rows, _ = asked[-1]
    assert rows.agent_ids == frozenset(keep)
    assert ROUND <= rows.start_round and rows.end_round <= ROUND + 3600
    assert rows.frozen_at is not None
    # The timeline above it is the network loss, from rows of another kind than the snapshot's rollups.
    chart = json.loads(html.unescape(re.search(r'data-chart="([^"]*)"', first).group(1)))
    assert chart["view"] == "path-vis" and len(chart["rounds"]) == 61
    # The stored page is served again, the same.
    assert client.get(f"/s/{snapshot.link_id}/").content.decode().count('id="path-vis"') == 1
    # Other Views of the snapshot still come from its rollups.
    assert 'data-view="availability"' in client.get(f"/s/{snapshot.link_id}/?view=availability").content.decode()

    body = json.loads(b"".join(client.get(f"/s/{snapshot.link_id}/download.json").streaming_content))
    assert body["web"]["httpServer"] and body["net"]["metrics"]
    assert [r["roundId"] for r in body["pathVis"]] == [snapshot.end_round]
    assert "rounds" not in body["pathVis"][0]
    assert {a["agentId"] for a in body["pathVis"][0]["agents"]} == {str(k) for k in keep}


def test_a_download_of_a_test_without_traces_has_no_path_section(cast, asked):
    test = make_test(cast.owner, "dns-server", name="dns", networkMeasurements=0)
    seed(test, agents=1, hours=2, random_seed=2, now=ROUND + 3600)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=ROUND, display_name="d")
    body = json.loads(b"".join(Client().get(f"/s/{snapshot.link_id}/download.json").streaming_content))
    assert "pathVis" not in body and body["dns"]
