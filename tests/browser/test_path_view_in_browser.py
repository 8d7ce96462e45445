"""The Path Visualization View in a real browser: hops merged across agents, the unknown hop dashed, details on
hover, paths highlighted on click, long chains folded, the agent filter in the address bar surviving a reload, the
agent whose path changed marked, the snapshot link opened signed out, and user-written text kept as text."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from spyglass.monitoring import path_store
from spyglass.monitoring.models import Agent, NetResult
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot
from tests import path_fixture
from tests.conftest import make_test

from .conftest import new_page, sign_in
from .test_results_page_in_browser import click_timeline_at

pytestmark = pytest.mark.django_db(transaction=True)
EVIL_NAME = '<img src=x id="evil-agent">Frankfurt'


# Whether the timeline's canvas shows the path-change mark (results.js: an amber triangle at the top of the plot) at
# the round given, read from the canvas's pixels just inside the triangle.
CHANGE_MARK_DRAWN = """(roundId) => {
  const box = document.getElementById("timeline");
  const canvas = box.querySelector("canvas"), over = box.querySelector(".u-over");
  if (!canvas || !over) return false;
  const data = JSON.parse(box.dataset.chart);
  const c = canvas.getBoundingClientRect(), o = over.getBoundingClientRect();
  const scale = canvas.width / c.width;
  const x = (o.left - c.left + ((roundId - data.start) / (data.end - data.start)) * o.width) * scale;
  const y = (o.top - c.top) * scale + 2 * scale;
  const [r, g, b, a] = canvas.getContext("2d").getImageData(Math.round(x) - 1, Math.round(y), 1, 1).data;
  return a > 200 && r > 150 && g > 60 && g < 110 && b < 40;  // #b45309
}"""


def rounds_of(test) -> list[int]:
    return sorted(set(NetResult.objects.filter(test=test).values_list("round_id", flat=True)))


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def node(page, node_id):
    return page.locator(f'#path-graph [data-node="{node_id}"]')


@pytest.fixture
def traced(cast):
    """A test with two agents' rounds, every round traced by both (path_fixture), the first agent named with markup
    and its path changed in the last round; the prefix-to-AS table loaded."""
    test = make_test(cast.owner, "agent-to-server", name="Edge <b>TCP</b>", interval=60, numPathTraces=0)
    seed(test, agents=2, hours=2, random_seed=3)
    agents = list(Agent.objects.filter(tests=test).order_by("id"))
    agents[0].name = EVIL_NAME
    agents[0].save()
    rounds = sorted(set(NetResult.objects.filter(test=test).values_list("round_id", flat=True)))
    path_fixture.trace_rounds(test, agents, rounds[1:])  # the first round has no traces
    path_fixture.load_networks()
    return test, agents


def test_it_draws_merged_hops_hover_details_highlight_and_a_filter_that_survives_reload(
    live_server, page, traced, artifacts
):
    test, (first, second) = traced
    base = live_server.url
    sign_in(page, base, "owner@acme.test")
    page.goto(f"{base}/tests/{test.id}/")
    page.wait_for_selector("#timeline canvas")
    # The View tab switches to it in place (htmx), like every View, and the address bar says so.
    page.click("#view-tabs a[data-view=path-vis]")
    page.wait_for_url(re.compile(r"view=path-vis"))
    page.wait_for_selector("#path-graph svg")
    assert page.locator("#view-tabs a.active").get_attribute("data-view") == "path-vis"
    assert "Loss" in page.locator(".timeline-head h2").inner_text()
    # The first agent's path changed in the last round: the timeline marks that round, and says so in text.
    changes = page.locator("#path-changes")
    assert "path changed in 1 round:" in changes.inner_text()
    assert f"roundId={rounds_of(test)[-1]}&" in changes.locator("a[data-change-round]").get_attribute("href")
    page.wait_for_function(CHANGE_MARK_DRAWN, arg=rounds_of(test)[-1], timeout=10000)

    # Agents on the left, the target on the right, the shared core router once, between them.
    agent_a, agent_b = node(page, f"a:{first.id}"), node(page, f"a:{second.id}")
    core, target = node(page, "ip:198.18.5.1"), node(page, "t")
    assert core.count() == 1
    xs = {name: n.bounding_box()["x"] for name, n in (("a", agent_a), ("b", agent_b), ("core", core), ("t", target))}
    assert xs["a"] < xs["core"] < xs["t"] and xs["b"] < xs["core"]
    # Both agents' links run into it.
    assert page.locator('[data-edge="?:ip:198.18.1.1:1:ip:198.18.5.1>ip:198.18.5.1"]').count() == 1
    assert page.locator('[data-edge="ip:198.18.2.1>ip:198.18.5.1"]').count() == 1

    # The router that never answers is an unknown hop, drawn dashed, and so are its links.
    unknown = page.locator("#path-graph .node-unknown")
    assert unknown.count() == 1
    dashed = page.locator("#path-graph .path-link.unknown")
    assert dashed.count() == 2
    assert dashed.first.evaluate("e => getComputedStyle(e).strokeDasharray") not in ("none", "")
    assert page.locator("#path-graph .path-link:not(.unknown)").first.evaluate(
        "e => getComputedStyle(e).strokeDasharray"
    ) in ("none", "")

    # Hover: address, rDNS (markup shown as text), prefix, network, round-trip times and both agents.
    core.hover()
    tip = page.locator("#path-tip")
    tip.wait_for(state="visible")
    page.locator("#path-vis").screenshot(path=str(artifacts / "path-view.png"))
    text = tip.inner_text()
    for expected in ("198.18.5.1", path_fixture.EVIL_RDNS, "198.18.0.0/15", "AS64500 Example Transit", "ms"):
        assert expected in text, (expected, text)
    assert EVIL_NAME in text and second.name in text
    assert page.locator("#evil-rdns, #evil-agent").count() == 0

    # Loss from the lossy link onward: the target's incoming link is drawn as lossy.
    assert page.locator('#path-graph .path-link.loss-high[data-edge$=">t"]').count() >= 1

    # The long run of core hops is folded; opening it shows each hop.
    chain = page.locator("#path-graph .node-chain")
    assert chain.count() == 1 and "+4 hops" in chain.text_content()
    assert node(page, "ip:198.18.7.1").count() == 0
    chain.click()
    node(page, "ip:198.18.7.1").wait_for()
    assert page.locator("#path-graph .node-chain").count() == 0

    # Click the first agent's access router: its paths light up, the other agent's do not.
    node(page, "ip:198.18.1.1").click()
    assert "selected" in node(page, "ip:198.18.1.1").get_attribute("class")
    assert "lit" in agent_a.get_attribute("class") and "lit" not in agent_b.get_attribute("class")
    assert "lit" in core.get_attribute("class")
    assert page.locator('[data-edge="ip:198.18.2.1>ip:198.18.5.1"]').get_attribute("class").find("lit") == -1
    # Keyboard: the shared router takes focus, Enter highlights both agents' paths, Escape clears.
    core.focus()
    page.keyboard.press("Enter")
    assert "lit" in agent_b.get_attribute("class") and "lit" in agent_a.get_attribute("class")
    page.keyboard.press("Escape")
    assert page.locator("#path-graph .path-node.lit").count() == 0

    # The agent whose path changed since its previous round is marked, on its node and in the filter.
    assert "changed" in agent_a.get_attribute("class") and "path changed" in agent_a.text_content()
    assert page.locator("#path-agents .badge-changed").count() == 1

    # Filter to the second agent: the address bar carries it, with the round and the View, and a reload keeps it.
    round_id = page.locator("#round-panel").get_attribute("data-round-id")
    page.uncheck(f'#path-agents input[data-agent-id="{first.id}"]')
    page.wait_for_function(f"!document.querySelector('[data-node=\"a:{first.id}\"]')")
    assert query(page)["agentId"] == str(second.id)
    page.reload()
    page.wait_for_selector("#path-graph svg")
    assert query(page)["agentId"] == str(second.id) and query(page)["view"] == "path-vis"
    assert node(page, f"a:{first.id}").count() == 0 and node(page, f"a:{second.id}").count() == 1
    assert not page.locator(f'#path-agents input[data-agent-id="{first.id}"]').is_checked()
    assert page.locator("#round-panel").get_attribute("data-round-id") == round_id

    # Previous round keeps the filter.
    page.click("#prev-round")
    page.wait_for_selector(f"#round-panel:not([data-round-id='{round_id}']) #path-graph svg")
    page.wait_for_function("() => new URL(location.href).searchParams.get('agentId') !== null")
    assert query(page)["agentId"] == str(second.id)
    assert node(page, f"a:{first.id}").count() == 0
    # So does a round picked on the timeline.
    before_click = page.locator("#round-panel").get_attribute("data-round-id")
    click_timeline_at(page, 0.5)
    page.wait_for_selector(f"#round-panel:not([data-round-id='{before_click}']) #path-graph svg")
    page.wait_for_function("() => new URL(location.href).searchParams.get('roundId') !== null")
    assert query(page)["agentId"] == str(second.id)
    page.reload()
    page.wait_for_selector("#path-graph svg")
    assert node(page, f"a:{first.id}").count() == 0 and node(page, f"a:{second.id}").count() == 1

    # A round without traces says so and shows the nearest round's.
    untraced = NetResult.objects.filter(test=test).order_by("round_id").values_list("round_id", flat=True)[0]
    page.goto(f"{base}/tests/{test.id}/?view=path-vis&roundId={untraced}")
    page.wait_for_selector("#path-graph svg")
    assert page.locator("#path-note").is_visible()
    assert "has no path traces" in page.locator("#path-note").inner_text()
    assert page.console_errors == []


def test_a_snapshot_made_on_the_path_view_opens_signed_out_frozen_and_downloads_the_traces(
    live_server, browser, cast, traced, settings
):
    settings.BASE_URL = live_server.url
    test, (first, second) = traced
    latest = _latest_round(test)
    base = live_server.url
    owner_context, owner = new_page(browser)
    try:
        # The creator, on the Path Visualization View of the latest round, makes a link from the sharing panel.
        sign_in(owner, base, "owner@acme.test")
        owner.goto(f"{base}/tests/{test.id}/?view=path-vis")
        owner.wait_for_selector("#path-graph svg")
        owner.click("#share-button")
        owner.select_option("#share-hours", "1")
        owner.select_option("#share-position", "ending")
        owner.fill("#share-name", "path at the end")
        owner.click("#share-link-button")
        owner.wait_for_selector("#share-link")
        link = owner.locator("#share-link").inner_text().strip()
        snapshot = Snapshot.objects.get()
        assert (snapshot.view, snapshot.round_id) == ("path-vis", latest)

        # After the freeze the second agent's traces of that round are written again, through another access
        # router: the live page shows the new path, the snapshot the one it froze.
        again = path_fixture.rows(test, second, latest, path_fixture.second_agent_hops("198.18.77.1"), "198.18.2.2")
        path_store.store(again, merge=False)
        owner.goto(f"{base}/tests/{test.id}/?view=path-vis&roundId={latest}")
        owner.wait_for_selector('#path-graph [data-node="ip:198.18.77.1"]')
        assert owner.locator('#path-graph [data-node="ip:198.18.2.1"]').count() == 0
    finally:
        owner_context.close()

    context, page = new_page(browser)
    try:
        page.goto(link)
        page.wait_for_selector("#path-graph svg")
        assert page.locator("#view-tabs a.active").get_attribute("data-view") == "path-vis"
        assert page.locator('#path-graph [data-node="ip:198.18.5.1"]').count() == 1
        assert page.locator('#path-graph [data-node="ip:198.18.2.1"]').count() == 1
        assert page.locator('#path-graph [data-node="ip:198.18.77.1"]').count() == 0
        assert page.locator("#path-graph .node-unknown").count() == 1
        # The agent's name is text on the share page too.
        assert page.locator("#evil-agent, #evil-rdns").count() == 0
        assert EVIL_NAME in page.locator("#path-agents").inner_text()
        # The snapshot's JSON download carries the traces, frozen too.
        body = page.request.get(f"{base}/s/{snapshot.link_id}/download.json").json()
        assert body["net"]["metrics"]
        traces = body["pathVis"]
        assert len(traces["rounds"]) == len({r["roundId"] for r in body["net"]["metrics"]})
        traced_round = traces["rounds"][-1]
        assert traced_round["roundId"] == latest
        hops = traces["paths"][traced_round["agents"][1]["traces"][0]["pathId"]]["hops"]
        assert [h["ipAddress"] for h in hops][:2] == ["198.18.2.1", "198.18.5.1"]
        assert traces["agents"][traced_round["agents"][0]["agentId"]] == EVIL_NAME
        # `changed` as on the page: against the agent's previous round, not only within the round's own entry.
        assert traced_round["agents"][0]["changed"] is True and traced_round["agents"][1]["changed"] is False
        assert page.console_errors == []
    finally:
        context.close()


def _latest_round(test) -> int:
    return NetResult.objects.filter(test=test).order_by("-round_id").values_list("round_id", flat=True)[0]


def test_the_path_view_is_offered_only_where_agents_trace(cast):
    from spyglass.monitoring import timeline

    a2s = make_test(cast.owner, "agent-to-server", name="a2s")
    http = make_test(cast.owner, "http-server", name="http", networkMeasurements=1)
    quiet = make_test(cast.owner, "http-server", name="quiet", networkMeasurements=0)
    offered = {t.name: [v.key for v in timeline.views_for(t)] for t in (a2s, http, quiet)}
    assert "path-vis" in offered["a2s"] and "path-vis" in offered["http"]
    assert "path-vis" not in offered["quiet"]
    assert re.match(r"^[a-z-]+$", timeline.PATH_VIEW.key)


MERGING = """async () => {
  const { buildGraph, foldChains } = await import("/static/web/pathgraph.js");
  const hop = (ipAddress, responseTime = 1) => ({
    ipAddress, responseTime: ipAddress ? responseTime : null, loss: ipAddress ? 0 : 100,
  });
  const agent = (agentId, hops, reached = true) => ({
    agentId, agentName: `agent ${agentId}`, traces: [{ reached, hops: hops.map((a) => hop(a)) }],
  });
  const data = {
    target: { server: "t:443", serverIp: "198.18.9.2" },
    agents: [
      agent(1, ["198.18.1.1", null, "198.18.5.1", "198.18.9.2"]),
      agent(2, ["198.18.2.1", null, "198.18.5.1", "198.18.9.2"]),  // another position: not merged with 1's
      agent(3, ["198.18.1.1", null, "198.18.5.1", "198.18.9.2"]),  // the same position as 1's: merged
      agent(4, ["198.18.1.1", "198.18.5.1", null, null], false),    // not reached: unknowns lead nowhere
    ],
  };
  const graph = buildGraph(data, null);
  const only = buildGraph(data, new Set(["2"]));
  const chain = { target: data.target, agents: [agent(5, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "198.18.9.2"])] };
  const folded = foldChains(buildGraph(chain, null), new Set());
  const opened = foldChains(buildGraph(chain, null), new Set(["ip:10.0.0.1"]));
  return {
    unknown: [...graph.nodes.values()].filter((n) => n.kind === "unknown").map((n) => n.id).sort(),
    core: [...graph.nodes.get("ip:198.18.5.1").agents.keys()].sort(),
    ends: graph.nodes.get("?:ip:198.18.5.1:2:end").traceEnds,
    // A hop that never answers shows no loss, nor does the link into it (not the "100 %" of its unanswered probes).
    unknownLoss: [graph.nodes.get("?:ip:198.18.2.1:1:ip:198.18.5.1").loss, graph.edges.get("ip:198.18.2.1>?:ip:198.18.2.1:1:ip:198.18.5.1").loss],
    only: [...only.nodes.keys()].sort(),
    folded: [...folded.nodes.keys()].sort(),
    opened: opened.nodes.size,
  };
}"""


def test_unknown_hops_merge_only_at_the_same_position_and_long_runs_fold(live_server, page):
    page.goto(f"{live_server.url}/login/")
    result = page.evaluate(MERGING)
    assert result["unknown"] == [
        "?:ip:198.18.1.1:1:ip:198.18.5.1",  # agents 1 and 3
        "?:ip:198.18.2.1:1:ip:198.18.5.1",  # agent 2
        "?:ip:198.18.5.1:1:end",  # agent 4's two unknown hops after the core router, apart
        "?:ip:198.18.5.1:2:end",
    ]
    assert result["core"] == ["1", "2", "3", "4"]
    assert result["ends"] == 1  # agent 4's trace stopped there
    assert result["unknownLoss"] == [None, None]
    assert result["only"] == ["?:ip:198.18.2.1:1:ip:198.18.5.1", "a:2", "ip:198.18.2.1", "ip:198.18.5.1", "t"]
    assert result["folded"] == ["a:5", "chain:ip:10.0.0.1", "t"]
    assert result["opened"] == 6
