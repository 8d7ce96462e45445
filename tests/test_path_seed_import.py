"""Path traces from `spyglass seed` (shared core, per-agent access, a route change, a lossy hop) and `spyglass import`
of both v6 path-vis shapes (the detailed trace and the summary), read back through the API."""

import json

from spyglass.monitoring import paths
from spyglass.monitoring.models import Path, PathRound
from spyglass.monitoring.scope import ReadScope
from spyglass.monitoring.seed import seed
from spyglass.monitoring.seed_paths import LOSSY_HOP
from spyglass.results_ui.component import ResultsScope
from tests.conftest import make_agent, make_test
from tests.path_helpers import write_traces
from tests.test_import import run_import

NOW = 1_795_000_000 // 3600 * 3600
START = NOW - 8 * 3600 + 600
WIDE = "from=2026-01-01T00:00:00&to=2027-12-31T00:00:00"


def view(test, round_id):
    return paths.view_data(ResultsScope(test, ReadScope(source_test_id=test.id), START, NOW, "/"), round_id)


def test_seed_writes_believable_path_history(cast):
    test = make_test(cast.owner, interval=600)
    seed(test, agents=6, hours=8, random_seed=4, now=NOW)
    rounds = list(range(START, NOW + 1, 600))
    assert PathRound.objects.filter(test=test).count() == 6 * len(rounds)
    assert Path.objects.filter(test=test).count() <= 6 * 3  # each agent's usual, rerouted and down paths at most
    data = view(test, START)
    assert data["rounds"] == rounds
    agents = data["agents"]
    assert len(agents) == 6 and all(len(a["traces"]) == 3 for a in agents)
    addresses = [[h["ipAddress"] for h in a["traces"][0]["hops"]] for a in agents]
    shared = set.intersection(*(set(a) for a in addresses))
    assert {"198.51.100.9", "198.51.100.13", "198.51.100.17", "203.0.113.10"} <= shared  # the core is merged
    assert len({a[0] for a in addresses}) == 6  # every agent leaves through its own gateway
    assert any(None in a for a in addresses)  # a router that never answers
    hops = agents[0]["traces"][0]["hops"]
    times = [h["responseTime"] for h in hops if h["responseTime"] is not None]
    assert times[-1] > times[0] and agents[0]["traces"][0]["reached"] is True
    assert hops[-1]["rdns"] == "www.target.example"
    # The route change: some agents change path and change back; the view marks both rounds.
    changed_rounds = {r: [a["agentName"] for a in view(test, r)["agents"] if a["changed"]] for r in rounds[1:]}
    moved = {r: names for r, names in changed_rounds.items() if names}
    assert len(moved) >= 2
    # The lossy hop: loss starts there and goes on to the target, in some round of the window.
    lossy = []
    for r in rounds:
        for a in view(test, r)["agents"]:
            for t in a["traces"]:
                losses = [(h["ipAddress"], h["loss"]) for h in t["hops"] if h["ipAddress"]]
                at = [i for i, (address, _) in enumerate(losses) if address == LOSSY_HOP]
                if at and losses[at[0]][1]:
                    lossy.append([loss for _, loss in losses[at[0] :]])
    assert lossy and all(all(loss > 0 for loss in after) for after in lossy)
    assert all(loss == 0 for a in view(test, START)["agents"] for h in a["traces"][0]["hops"] if h["ipAddress"]
               for loss in [h["loss"]])  # fmt: skip


def test_seed_with_no_traces_set_writes_none(cast):
    test = make_test(cast.owner, interval=600, numPathTraces=0)
    seed(test, agents=2, hours=1, random_seed=1, now=NOW)
    assert not PathRound.objects.filter(test=test).exists()


def _exported(person, test, agent, round_id) -> dict:
    return person.client.get(f"/v6/net/path-vis/{test.id}/{agent.id}/{round_id}.json").json()


def _comparable(entry: dict, path_ids=True) -> dict:
    out = {k: v for k, v in entry.items() if k not in ("agentId", "permalink")}
    if not path_ids:  # a summary does not name the hops a pathId stands for: an imported one names its own
        out["endpoints"] = [{k: v for k, v in e.items() if k != "pathId"} for e in out["endpoints"]]
    return out


def test_a_detailed_body_imports_and_reads_back_the_same(cast, tmp_path):
    source = make_test(cast.owner, name="source", server="example.com:443")
    agent = make_agent(cast.owner, "Frankfurt")
    write_traces(source, [agent], [NOW - 120, NOW - 60])
    body = _exported(cast.owner, source, agent, NOW - 60)
    target = make_test(cast.owner, name="target", server="example.com:443")
    path = tmp_path / "detail.json"
    path.write_text(json.dumps(body))
    assert run_import(target, path) == 0
    assert run_import(target, path) == 0  # again: replaces, never duplicates
    assert PathRound.objects.filter(test=target).count() == 1
    back = _exported(cast.owner, target, agent, NOW - 60)
    assert [_comparable(e) for e in back["net"]["pathVis"]] == [_comparable(e) for e in body["net"]["pathVis"]]


def test_a_summary_body_imports_endpoints_and_never_replaces_a_detailed_round(cast, tmp_path, capsys):
    source = make_test(cast.owner, name="source", server="example.com:443")
    agent = make_agent(cast.owner, "Frankfurt")
    write_traces(source, [agent], [NOW - 120, NOW - 60])
    summary = cast.owner.client.get(f"/v6/net/path-vis/{source.id}.json?{WIDE}").json()
    assert len(summary["net"]["pathVis"]) == 2
    target = make_test(cast.owner, name="target", server="example.com:443")
    detail = tmp_path / "detail.json"
    detail.write_text(json.dumps(_exported(cast.owner, source, agent, NOW - 60)))
    assert run_import(target, detail) == 0
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary))
    assert run_import(target, path) == 0
    assert "imported 3 rows" in capsys.readouterr().err  # the round imported in detail was skipped
    imported = cast.owner.client.get(f"/v6/net/path-vis/{target.id}.json?{WIDE}").json()["net"]["pathVis"]
    expected = summary["net"]["pathVis"]
    assert _comparable(imported[0], False) == _comparable(expected[0], False)
    assert _comparable(imported[1]) == _comparable(expected[1])
    # The round imported in detail kept its hops; the summary's other round has only its end.
    kept = _exported(cast.owner, target, agent, NOW - 60)["net"]["pathVis"][0]["pathTraces"][0]["hops"]
    assert kept[0]["ipAddress"] == "198.18.1.1"
    only_end = _exported(cast.owner, target, agent, NOW - 120)["net"]["pathVis"][0]["pathTraces"][0]["hops"]
    assert only_end[:3] == [{"hop": 1}, {"hop": 2}, {"hop": 3}] and only_end[3]["ipAddress"] == "198.18.9.2"


def test_a_bad_path_body_is_rejected_naming_the_row_and_imports_nothing(cast, tmp_path, capsys):
    source = make_test(cast.owner, name="source", server="example.com:443")
    agent = make_agent(cast.owner, "Frankfurt")
    write_traces(source, [agent], [NOW - 120, NOW - 60])
    body = cast.owner.client.get(f"/v6/net/path-vis/{source.id}.json?{WIDE}").json()
    body["net"]["pathVis"][1]["endpoints"][0]["numberOfHops"] = 31
    target = make_test(cast.owner, name="target")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body))
    assert run_import(target, path) == 1
    assert "row 2: endpoints[0].numberOfHops must be a whole number from 1 to 30" in capsys.readouterr().err
    body["net"]["pathVis"][1] = {**_exported(cast.owner, source, agent, NOW - 60)["net"]["pathVis"][0]}
    body["net"]["pathVis"][1]["pathTraces"][0]["hops"][0]["ipAddress"] = "999.1.1.1"
    path.write_text(json.dumps(body))
    assert run_import(target, path) == 1
    assert "pathTraces[0].hops[0].ipAddress must be an IP address or null" in capsys.readouterr().err
    assert not PathRound.objects.filter(test=target).exists()
