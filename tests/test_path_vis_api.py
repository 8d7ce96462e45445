"""GET /v6/net/path-vis/{testId} and /v6/net/path-vis/{testId}/{agentId}/{roundId}: shapes (JSON and XML), ranges
and paging, tenancy, and what snapshots and live shares let a reader see of path traces."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from spyglass.accounts.roles import access_for
from spyglass.liveshares import services as live_shares
from spyglass.monitoring import asn, paths
from spyglass.monitoring.models import Path, PathRound
from spyglass.monitoring.retention import purge_old_results
from spyglass.monitoring.scope import read_scope
from spyglass.results_ui.component import ResultsScope
from tests.conftest import make_agent, make_snapshot, make_test
from tests.path_helpers import CORE, write_traces

START = 1_795_000_000 // 3600 * 3600
WIDE = "from=2026-01-01T00:00:00&to=2027-12-31T00:00:00"


def traced(person, agents=("Frankfurt", "Tokyo"), rounds=10, interval=60, **options):
    test = make_test(person, interval=interval, server="example.com:443")
    made = [make_agent(person, name) for name in agents]
    test.agents.add(*made)
    write_traces(test, made, [START + i * interval for i in range(rounds)], **options)
    return test, made


def test_the_list_gives_one_entry_per_agent_and_round_with_its_endpoints(cast):
    test, (fra, tyo) = traced(cast.owner, rounds=3)
    body = cast.owner.client.get(f"/v6/net/path-vis/{test.id}.json?{WIDE}").json()
    entries = body["net"]["pathVis"]
    assert body["net"]["test"]["testId"] == test.id
    assert [(e["roundId"], e["agentId"]) for e in entries] == [
        (START + i * 60, a.id) for i in range(3) for a in sorted((fra, tyo), key=lambda a: a.id)
    ]
    first = entries[0]
    assert set(first) == {
        "agentId", "agentName", "countryId", "date", "roundId", "server", "serverIp", "sourceIp", "sourcePrefix",
        "permalink", "endpoints",
    }  # fmt: skip
    assert first["agentName"] == "Frankfurt" and first["countryId"] == "DE"
    assert first["date"] == "2026-11-18 " + first["date"][-8:] and first["server"] == "example.com:443"
    assert first["serverIp"] == "198.18.9.2" and first["sourceIp"] == "198.18.0.2"
    assert first["sourcePrefix"] == ""  # no AS table loaded
    assert f"/tests/{test.id}/?roundId={START}&agentId={fra.id}" in first["permalink"]
    assert len(first["endpoints"]) == 3
    assert first["endpoints"][0] == {
        "numberOfHops": 4,
        "ipAddress": "198.18.9.2",
        "responseTime": 4,
        "pathId": first["endpoints"][1]["pathId"],
    }
    assert body["from"] == "2026-01-01 00:00:00" and body["pages"] == {"current": 1}


def test_no_range_gives_the_latest_round(cast):
    test, _ = traced(cast.owner, rounds=4)
    entries = cast.owner.client.get(f"/v6/net/path-vis/{test.id}.json").json()["net"]["pathVis"]
    assert {e["roundId"] for e in entries} == {START + 3 * 60} and len(entries) == 2


def test_the_detail_gives_each_trace_s_hops_with_unknown_hops_as_their_number_only(cast):
    test, (fra, _) = traced(cast.owner, rounds=2)
    asn.load(asn.parse_prefixes(["198.18.0.0\t15\t64500"]), {64500: "BENCHNET"}, "test")
    body = cast.owner.client.get(f"/v6/net/path-vis/{test.id}/{fra.id}/{START + 60}.json").json()
    (entry,) = body["net"]["pathVis"]
    assert entry["roundId"] == START + 60 and entry["agentId"] == fra.id
    assert entry["sourcePrefix"] == "198.18.0.0/15"
    assert len(entry["pathTraces"]) == 3
    hops = entry["pathTraces"][0]["hops"]
    assert hops[0] == {
        "hop": 1,
        "ipAddress": "198.18.1.1",
        "prefix": "198.18.0.0/15",
        "rdns": "r1.example",
        "network": "BENCHNET (AS 64500)",
        "responseTime": 1,
    }
    assert hops[1] == {"hop": 2}
    assert [h["hop"] for h in hops] == [1, 2, 3, 4]
    assert entry["pathTraces"][0]["pathId"] == entry["endpoints"][0]["pathId"]


def test_the_detail_is_404_for_a_round_or_agent_without_traces(cast):
    test, (fra, _) = traced(cast.owner, rounds=2)
    client = cast.owner.client
    assert client.get(f"/v6/net/path-vis/{test.id}/{fra.id}/{START + 3600}.json").status_code == 404
    assert client.get(f"/v6/net/path-vis/{test.id}/999999/{START}.json").status_code == 404
    assert client.get(f"/v6/net/path-vis/999999/{fra.id}/{START}.json").status_code == 404


def test_both_endpoints_answer_in_xml(cast):
    test, (fra, _) = traced(cast.owner, rounds=1)
    response = cast.owner.client.get(f"/v6/net/path-vis/{test.id}.xml?{WIDE}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    entries = root.findall("./net/pathVis")
    assert len(entries) == 2
    assert len(entries[0].findall("endpoints")) == 3
    assert entries[0].find("endpoints/numberOfHops").text == "4"
    detail = cast.owner.client.get(f"/v6/net/path-vis/{test.id}/{fra.id}/{START}.xml")
    root = ET.fromstring(detail.content)
    hops = root.findall("./net/pathVis/pathTraces")[0].findall("hops")
    assert [h.find("ipAddress").text if h.find("ipAddress") is not None else None for h in hops] == [
        a or None for a in CORE
    ]


def test_pages_follow_next_links_and_never_split_a_round(cast, settings):
    settings.DATA_PAGE_ROWS = 5  # 2 agents a round: a page holds 2 whole rounds
    test, _ = traced(cast.owner, rounds=9)
    url, seen, pages = f"/v6/net/path-vis/{test.id}.json?{WIDE}", [], 0
    while url:
        body = cast.owner.client.get(url).json()
        pages += 1
        entries = body["net"]["pathVis"]
        assert len({e["roundId"] for e in entries}) * 2 == len(entries)
        seen.extend((e["roundId"], e["agentId"]) for e in entries)
        nxt = body["pages"].get("next")
        url = nxt.replace(settings.BASE_URL, "") if nxt else None
    assert pages == 5 and len(seen) == len(set(seen)) == 18


def test_another_organization_and_another_group_get_404(cast):
    test, (fra, _) = traced(cast.owner, rounds=1)
    for person in (cast.other_org, cast.other_group):
        assert person.client.get(f"/v6/net/path-vis/{test.id}.json").status_code == 404
        assert person.client.get(f"/v6/net/path-vis/{test.id}/{fra.id}/{START}.json").status_code == 404
    assert cast.regular.client.get(f"/v6/net/path-vis/{test.id}.json").status_code == 200


def test_bad_ranges_are_400(cast):
    test, _ = traced(cast.owner, rounds=1)
    response = cast.owner.client.get(f"/v6/net/path-vis/{test.id}.json?window=abc")
    assert response.status_code == 400 and "window" in response.json()["errorMessage"]


def test_a_test_links_its_path_vis_data_as_v6_does(cast):
    test, _ = traced(cast.owner, rounds=1)
    links = cast.owner.client.get(f"/v6/tests/{test.id}.json").json()["test"][0]["apiLinks"]
    assert {"rel": "data", "href": f"http://127.0.0.1:8000/v6/net/path-vis/{test.id}"} in links
    assert cast.owner.client.get(f"/v6/tests/{test.id}.json").json()["test"][0]["numPathTraces"] == 3


def test_the_openapi_document_lists_both_endpoints(cast):
    schema = cast.owner.client.get("/v6/openapi.json").json()
    assert "/v6/net/path-vis/{test_id}" in {p.replace(".{format}", "") for p in schema["paths"]} or any(
        "path-vis" in p for p in schema["paths"]
    )
    assert sum("path-vis" in p for p in schema["paths"]) >= 2


def test_a_snapshot_shows_path_traces_as_they_were_when_frozen(cast):
    test, (fra, tyo) = traced(cast.owner, rounds=120)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START)
    url = f"/v6/net/path-vis/{snapshot.test_id}/{fra.id}/{START + 600}.json"
    before = cast.owner.client.get(url).json()["net"]["pathVis"]
    # The round written again on another path: the snapshot keeps the frozen one, the live test shows the new one.
    moved = ["198.18.1.1", "198.18.7.7", "198.18.9.2"]
    write_traces(test, [fra], [START + 600], addresses=moved)
    assert cast.owner.client.get(url).json()["net"]["pathVis"] == before
    live = cast.owner.client.get(f"/v6/net/path-vis/{test.id}/{fra.id}/{START + 600}.json").json()
    assert [h.get("ipAddress") for h in live["net"]["pathVis"][0]["pathTraces"][0]["hops"]] == moved
    assert PathRound.objects.filter(test_id=snapshot.test_id).count() == 1  # the one copied row
    # Rounds outside the window are not there, whatever the query.
    body = cast.owner.client.get(f"/v6/net/path-vis/{snapshot.test_id}.json?{WIDE}").json()
    rounds = {e["roundId"] for e in body["net"]["pathVis"]}
    assert START in rounds and rounds <= set(range(START, START + 3601, 60)) and len(rounds) >= 60
    assert cast.owner.client.get(f"/v6/net/path-vis/{snapshot.test_id}/{fra.id}/{START + 3660}.json").status_code == 404


def test_a_snapshot_of_some_agents_shows_only_their_traces(cast):
    test, (fra, tyo) = traced(cast.owner, rounds=30)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START, agent_ids=[fra.id])
    entries = cast.owner.client.get(f"/v6/net/path-vis/{snapshot.test_id}.json?{WIDE}").json()["net"]["pathVis"]
    assert {e["agentId"] for e in entries} == {fra.id} and len(entries) == 30
    assert cast.owner.client.get(f"/v6/net/path-vis/{snapshot.test_id}/{tyo.id}/{START}.json").status_code == 404


def test_a_live_share_shows_path_traces_from_the_share_on(cast, time_machine):
    test, (fra, _) = traced(cast.owner, rounds=10)
    time_machine.move_to(datetime.fromtimestamp(START + 5 * 60 - 30, UTC), tick=False)
    share = live_shares.create(access_for(cast.owner.user, None), test.id, aid=cast.other_group.aid)
    live_shares.accept(access_for(cast.other_group.user, None), share.id)
    body = cast.other_group.client.get(f"/v6/net/path-vis/{test.id}.json?{WIDE}").json()
    assert {e["roundId"] for e in body["net"]["pathVis"]} == {START + i * 60 for i in range(5, 10)}
    assert cast.other_group.client.get(f"/v6/net/path-vis/{test.id}/{fra.id}/{START}.json").status_code == 404
    assert cast.other_group.client.get(f"/v6/net/path-vis/{test.id}/{fra.id}/{START + 300}.json").status_code == 200
    # The view reads through the same scope: no round before the share, and no "changed" against one.
    allowed = read_scope(access_for(cast.other_group.user, None), test)
    data = paths.view_data(ResultsScope(test, allowed, START - 3600, START + 3600, "/"), START + 300)
    assert data["rounds"][0] == START + 300 and data["roundId"] == START + 300
    assert all(a["changed"] is False for a in data["agents"])


def test_retention_purges_old_traces_but_keeps_a_snapshot_s_window(cast):
    test, (fra, _) = traced(cast.owner, rounds=180)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START)
    frozen = cast.owner.client.get(f"/v6/net/path-vis/{snapshot.test_id}.json?{WIDE}").json()["net"]["pathVis"]
    purged = purge_old_results(now=START + 180 * 60 + 86400, days=1)
    assert purged > 0
    left = set(PathRound.objects.filter(test=test).values_list("round_id", flat=True))
    assert left and max(left) <= START + 3600 and min(left) == START
    assert cast.owner.client.get(f"/v6/net/path-vis/{snapshot.test_id}.json?{WIDE}").json()["net"]["pathVis"] == frozen


def test_retention_drops_paths_no_stored_round_names(cast):
    test = make_test(cast.owner, server="example.com:443")
    fra = make_agent(cast.owner, "Frankfurt")
    old = ["198.18.1.1", "198.18.4.4", "198.18.9.2"]
    write_traces(test, [fra], [START - 2 * 86400 + i * 60 for i in range(60)], addresses=old)  # two days before
    write_traces(test, [fra], [START + i * 60 for i in range(180)])
    assert Path.objects.filter(test=test).count() == 2
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START + 7200)
    frozen = cast.owner.client.get(f"/v6/net/path-vis/{snapshot.test_id}.json?{WIDE}").json()["net"]["pathVis"]
    purge_old_results(now=START + 180 * 60 + 2 * 86400, days=1)
    (kept,) = Path.objects.filter(test=test)
    assert [a for a, _ in kept.hops] == CORE
    assert cast.owner.client.get(f"/v6/net/path-vis/{snapshot.test_id}.json?{WIDE}").json()["net"]["pathVis"] == frozen
