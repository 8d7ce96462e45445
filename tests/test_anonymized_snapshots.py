"""Anonymized snapshots (issue 23, v7's anonymizeData): agents named "corp-nyc-branch-7" at 10.1.2.3, whose path
crosses hops inside their own network, appear nowhere in an anonymized snapshot — not in the share page (every
View, its htmx parts), its CSV and JSON downloads, nor the v6 and v7 API bodies — and the pseudonyms that replace
them ("Agent 1", "Hop 2") are the same in all of them. The plain snapshot of the same test still shows the names."""

import json
import re

import pytest
from django.test import Client

from spyglass.lib import anonymize
from spyglass.mail import outbox
from spyglass.monitoring import timeline
from spyglass.monitoring.models import Agent, Path
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot
from tests.conftest import make_snapshot, make_test
from tests.path_helpers import write_traces
from tests.web_support import signed_in

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC, a whole hour
# Two hops of the branch's own network, a silent one, a CGNAT hop, then the public internet.
PATH = ["10.1.2.1", "10.20.0.1", "", "100.64.3.4", "198.18.3.1", "198.18.9.2"]
AGENTS = [("corp-nyc-branch-7", "NYC branch 7", "10.1.2.3"), ("corp-sfo-hq-2", "SFO headquarters", "10.9.8.7")]
# What the owner's network gives away: agents' names, locations and addresses, the internal hops and their names.
SECRETS = [
    *[text for agent in AGENTS for text in agent],
    "10.1.2.1",
    "10.20.0.1",
    "100.64.3.4",
    "r1.example",
    "r2.example",
    "r4.example",
]


@pytest.fixture
def corp(cast):
    """A test of two agents of the owner's own network, each round traced; a plain and an anonymized snapshot."""
    test = make_test(cast.owner, name="corp edge", interval=60, numPathTraces=0)
    seed(test, agents=2, hours=3, random_seed=5, now=ROUND + 2 * 3600)
    agents = list(Agent.objects.filter(tests=test).order_by("id"))
    for agent, (name, location, address) in zip(agents, AGENTS, strict=True):
        agent.name, agent.location, agent.ip_addresses = name, location, [address]
        agent.save()
        write_traces(test, [agent], list(range(ROUND, ROUND + 600, 60)), addresses=PATH, source=address)
    common = {"hours": 1, "anchor": ROUND, "position": "starting", "view": "path-vis"}
    plain = make_snapshot(cast.owner, test, display_name="plain", **common)
    anonymized = make_snapshot(cast.owner, test, display_name="anonymized", anonymized=True, **common)
    return test, agents, plain, anonymized


def assert_hidden(text: str, where: str):
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} in {where}"


def views(test) -> list[str]:
    return [v.key for v in timeline.views_for(test)]


def share_texts(snapshot) -> dict[str, str]:
    """Everything a signed-out visitor can fetch of the share link, by what it is."""
    client = Client()
    base = f"/s/{snapshot.link_id}/"
    out = {}
    for key in views(snapshot.source_test):
        for round_id in (ROUND + 120, ROUND + 540):
            out[f"page {key} {round_id}"] = client.get(f"{base}?view={key}&roundId={round_id}").content.decode()
        out[f"lines {key}"] = client.get(f"{base}results?view={key}&lines=agents").content.decode()
        out[f"panel {key}"] = client.get(
            f"{base}results?view={key}&roundId={ROUND + 300}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="round-panel"
        ).content.decode()
    out["page"] = client.get(base).content.decode()
    out["json"] = b"".join(client.get(f"{base}download.json").streaming_content).decode()
    out["csv"] = b"".join(client.get(f"{base}download.csv?kind=net").streaming_content).decode()
    return out


def api_texts(cast, snapshot) -> dict[str, str]:
    api, test_id = cast.owner.client, snapshot.test_id
    window = "from=2026-11-22 09:00:00&to=2026-11-22 10:00:00"
    agent_id = sorted(snapshot.test.agents.values_list("id", flat=True))[0]
    urls = {
        "v6 metrics": f"/v6/net/metrics/{test_id}.json?{window}",
        "v6 path-vis": f"/v6/net/path-vis/{test_id}.json?{window}",
        "v6 path-vis detail": f"/v6/net/path-vis/{test_id}/{agent_id}/{ROUND + 300}.json",
        "v6 test": f"/v6/tests/{test_id}.json",
        "v6 snapshot": f"/v6/snapshots/{snapshot.link_id}.json",
        "v7 network": f"/v7/test-results/{test_id}/network?startDate=2026-11-22T09:00:00Z&endDate=2026-11-22T10:00:00Z",
        "v7 path-vis": f"/v7/test-results/{test_id}/path-vis?startDate=2026-11-22T09:00:00Z&endDate=2026-11-22T10:00:00Z",
        "v7 test": f"/v7/tests/agent-to-server/{test_id}",
    }
    out = {}
    for name, url in urls.items():
        response = api.get(url)
        assert response.status_code == 200, (name, response.content[:300])
        out[name] = response.content.decode()
    return out


def test_the_rule_of_the_owners_network():
    assert anonymize.internal_hops(PATH) == [True, True, True, True, False, False]
    # A private hop after the public internet is still the owner's (a VPN's far end); a silent one there is not.
    assert anonymize.internal_hops(["198.18.3.1", "", "192.168.4.4", "fd00::1", "2001:db8::1"]) == [
        False,
        False,
        True,
        True,
        False,
    ]
    assert not anonymize.is_internal("203.0.113.9") and anonymize.is_internal("::ffff:172.16.0.9")


def test_nothing_of_the_owners_network_reaches_the_share_page_downloads_or_api(cast, corp):
    test, agents, plain, anonymized = corp
    texts = {**share_texts(anonymized), **api_texts(cast, anonymized)}
    for where, text in texts.items():
        assert_hidden(text, where)

    # The pseudonyms stand where the names stood, the same everywhere: agents by id, hops by their place.
    first, second = agents
    page = texts[f"page {timeline.PATH_VIEW.key} {ROUND + 120}"]
    data = json.loads(re.search(r'data-paths="([^"]+)"', page).group(1).replace("&quot;", '"').replace("&amp;", "&"))
    named = {a["agentId"]: a["agentName"] for a in data["agents"]}
    assert named == {str(first.id): "Agent 1", str(second.id): "Agent 2"}
    hops = [h["ipAddress"] for h in data["agents"][0]["traces"][0]["hops"]]
    assert hops == ["Hop 1", "Hop 2", None, "Hop 4", "198.18.3.1", "198.18.9.2"]
    assert {a["sourceIp"] for a in data["agents"]} == {anonymize.SOURCE_LABEL}

    download = json.loads(texts["json"])
    assert download["pathVis"]["agents"] == {str(first.id): "Agent 1", str(second.id): "Agent 2"}
    assert {r["agentId"]: r["agentName"] for r in download["net"]["metrics"]} == {
        first.id: "Agent 1",
        second.id: "Agent 2",
    }
    # Path ids are keyed digests: the plain one hashes the addresses (a guess of them would be confirmed); the
    # same path has the same id on the page, in the download and in the API.
    plain_ids = set(Path.objects.filter(test=test).values_list("digest", flat=True))
    page_ids = {t["pathId"] for a in data["agents"] for t in a["traces"]}
    assert page_ids <= set(download["pathVis"]["paths"]) and not page_ids & plain_ids
    api_ids = {e["pathId"] for entry in json.loads(texts["v6 path-vis"])["net"]["pathVis"] for e in entry["endpoints"]}
    assert api_ids == set(download["pathVis"]["paths"])
    for path in download["pathVis"]["paths"].values():
        assert [h["ipAddress"] for h in path["hops"]][:4] == ["Hop 1", "Hop 2", None, "Hop 4"]
    assert "Agent 1" in texts["csv"] and "Agent 2" in texts["csv"]
    lines = json.loads(texts[f"lines {views(test)[0]}"])
    assert {a["name"] for a in lines["agents"]} == {"Agent 1", "Agent 2"}
    assert re.findall(
        r'<th scope="row" class="agent-cell">([^<]+)</th>', texts[f"page {views(test)[0]} {ROUND + 120}"]
    ) == [
        "Agent 1",
        "Agent 2",
    ]

    metrics = json.loads(texts["v6 metrics"])["net"]["metrics"]
    assert {(r["agentId"], r["agentName"]) for r in metrics} == {(first.id, "Agent 1"), (second.id, "Agent 2")}
    detail = json.loads(texts["v6 path-vis detail"])["net"]["pathVis"][0]
    assert detail["agentName"] == "Agent 1"
    assert [h.get("ipAddress") for h in detail["pathTraces"][0]["hops"]][:4] == ["Hop 1", "Hop 2", None, "Hop 4"]
    assert {a["agentName"] for a in json.loads(texts["v6 test"])["test"][0]["agents"]} == {"Agent 1", "Agent 2"}
    network = json.loads(texts["v7 network"])["results"]
    assert {(r["agent"]["agentId"], r["agent"]["agentName"]) for r in network} == {
        (str(first.id), "Agent 1"),
        (str(second.id), "Agent 2"),
    }
    assert json.loads(texts["v6 snapshot"])["snapshot"][0]["anonymizeData"] == 1


def test_the_plain_snapshot_of_the_same_test_still_shows_names_and_addresses(cast, corp):
    test, agents, plain, anonymized = corp
    texts = share_texts(plain)
    page = texts[f"page {timeline.PATH_VIEW.key} {ROUND + 120}"]
    for secret in ("corp-nyc-branch-7", "corp-sfo-hq-2", "10.1.2.1", "10.1.2.3", "100.64.3.4"):
        assert secret in page
    assert "corp-nyc-branch-7" in texts["csv"] and "10.20.0.1" in texts["json"]
    assert "Agent 1" not in page
    assert "corp-sfo-hq-2" in api_texts(cast, plain)["v6 metrics"]


def test_the_og_preview_and_the_email_carry_no_names(cast, corp, smtp):
    test, agents, plain, anonymized = corp
    page = Client().get(f"/s/{anonymized.link_id}/").content.decode()
    previews = " ".join(re.findall(r'<meta property="og:[^"]+" content="([^"]*)"', page))
    assert "2 agents" in previews
    assert_hidden(previews, "Open Graph")

    sent = make_snapshot(
        cast.owner,
        test,
        hours=1,
        anchor=ROUND,
        display_name="for the provider",
        anonymized=True,
        recipients=["noc@provider.test"],
        note="Loss since nine",
    )
    assert outbox.deliver_due()["sent"] == 1
    (message,) = smtp.messages
    for part in ("plain", "html"):
        body = message.get_body((part,)).get_content()
        assert f"/s/{sent.link_id}/" in body
        assert_hidden(body, f"the e-mail's {part} part")
    assert_hidden(message["Subject"], "the e-mail's subject")


def test_both_api_versions_create_it_and_echo_the_flag(cast, corp, v7):
    test, agents, plain, anonymized = corp
    body = {"testId": test.id, "displayName": "anon v6", "from": "2026-11-22 09:00:00", "to": "2026-11-22 10:00:00"}
    made = cast.owner.client.post("/v6/snapshot.json", {**body, "anonymizeData": 1}, format="json")
    assert made.status_code == 201, made.content
    link_id = made.json()["link"]["linkId"]
    assert Snapshot.objects.get(link_id=link_id).anonymized
    listed = cast.owner.client.get("/v6/snapshots.json").json()["snapshot"]
    assert {s["displayName"]: s["anonymizeData"] for s in listed}["plain"] == 0
    refused = cast.owner.client.post("/v6/snapshot.json", {**body, "anonymizeData": "yes"}, format="json")
    assert refused.status_code == 400 and "anonymizeData" in refused.content.decode()

    v7_body = {"displayName": "anon v7", "startDate": "2026-11-22T09:00:00Z", "endDate": "2026-11-22T10:00:00Z"}
    made = cast.owner.client.post(f"/v7/tests/{test.id}/snapshot", {**v7_body, "anonymizeData": True}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["anonymizeData"] is True
    assert Snapshot.objects.get(link_id=made.json()["id"]).anonymized
    refused = cast.owner.client.post(f"/v7/tests/{test.id}/snapshot", {**v7_body, "anonymizeData": 1}, format="json")
    assert refused.status_code == 400 and "anonymizeData" in refused.content.decode()
    assert Snapshot.objects.filter(display_name="anon v7").count() == 1


def test_turning_it_on_later_never_serves_the_stored_plain_render(cast, corp):
    test, agents, plain, anonymized = corp
    client = Client()
    assert "corp-nyc-branch-7" in client.get(f"/s/{plain.link_id}/").content.decode()
    assert "corp-nyc-branch-7" in client.get(f"/s/{plain.link_id}/").content.decode()  # stored, read back
    Snapshot.objects.filter(id=plain.id).update(anonymized=True)  # any path that writes it: a trigger bumps
    assert_hidden(client.get(f"/s/{plain.link_id}/").content.decode(), "the page after the change")


def test_sharing_snapshots_marks_the_anonymized_one(cast, corp):
    test, agents, plain, anonymized = corp
    html = signed_in(cast.owner).get("/sharing/snapshots/").content.decode()
    rows = {name: row for row in html.split("<tr")[1:] for name in ("plain", "anonymized") if f">{name}<" in row}
    assert 'badge-type">anonymized<' in rows["anonymized"] and 'badge-type">anonymized<' not in rows["plain"]
