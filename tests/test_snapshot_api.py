"""POST /v6/snapshot as the reference documents it, and the snapshot endpoints spyglass adds."""

import pytest

from spyglass.accounts.models import AccountGroup, Role
from spyglass.monitoring.models import Agent, NetResult
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot
from tests.conftest import make_agent, make_snapshot, make_test

FROM, TO = "2018-10-06T00:00:00", "2018-10-06T01:00:00"
START = 1538784000  # 2018-10-06 00:00:00 UTC


def seed_example(person, interval=60):
    test = make_test(person, "agent-to-server", name="example", interval=interval)
    seed(test, agents=3, hours=3, random_seed=1, now=START + 7200)
    return test


def post(person, body, suffix=".json", **extra):
    return person.client.post(f"/v6/snapshot{suffix}", body, format="json", **extra)


def test_it_answers_the_seed_curl_example_with_every_field(cast):
    test = seed_example(cast.owner)
    body = {"testId": test.id, "displayName": "Snapshot created through API", "from": FROM, "to": TO, "isPublic": 1}
    response = post(cast.owner, body, HTTP_ACCEPT="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == {"link", "test"} and data["test"] == []
    link = data["link"]
    assert set(link) == {
        "displayName",
        "endRoundId",
        "extraParams",
        "linkId",
        "roundId",
        "shareDate",
        "sourceTestId",
        "startRoundId",
        "testId",
        "uid",
        "viewUrl",
    }
    assert link["displayName"] == "Snapshot created through API"
    assert (link["startRoundId"], link["endRoundId"], link["roundId"]) == (1538784000, 1538787600, 1538784000)
    assert link["sourceTestId"] == test.id and link["testId"] != test.id
    assert link["uid"] == cast.owner.user.id and link["extraParams"] == ""
    assert len(link["linkId"]) >= 22 and link["viewUrl"].endswith(f"/s/{link['linkId']}/")
    assert len(link["shareDate"]) == 19
    snapshot = Snapshot.objects.get(link_id=link["linkId"])
    assert snapshot.is_public and (snapshot.expires_date - snapshot.created_date).days == 30


def test_the_snapshot_is_a_test_of_its_own_read_through_the_data_endpoints_limited_to_the_window(cast):
    test = seed_example(cast.owner)
    link = post(cast.owner, {"testId": test.id, "displayName": "s", "from": FROM, "to": TO}).json()["link"]
    tests = {t["testId"]: t for t in cast.owner.client.get("/v6/tests.json").json()["test"]}
    assert tests[link["testId"]]["savedEvent"] == 1 and tests[test.id]["savedEvent"] == 0
    wide = "from=2018-10-05T00:00:00&to=2018-10-07T00:00:00"
    rows = cast.owner.client.get(f"/v6/net/metrics/{link['testId']}.json?{wide}").json()["net"]["metrics"]
    rounds = {r["roundId"] for r in rows}
    assert min(rounds) == START and max(rounds) == START + 3600 and len(rows) == 61 * 3
    source_rows = NetResult.objects.filter(test=test, round_id__gte=START, round_id__lte=START + 3600).count()
    assert len(rows) == source_rows


def test_a_snapshot_cannot_be_updated_or_deleted_through_the_tests_endpoints(cast):
    test = seed_example(cast.owner)
    link = post(cast.owner, {"testId": test.id, "displayName": "s", "from": FROM, "to": TO}).json()["link"]
    update = cast.owner.client.post(
        f"/v6/tests/agent-to-server/{link['testId']}/update.json", {"description": "x"}, format="json"
    )
    delete = cast.owner.client.post(f"/v6/tests/agent-to-server/{link['testId']}/delete.json")
    assert update.status_code == delete.status_code == 400
    assert Snapshot.objects.filter(link_id=link["linkId"]).exists()


@pytest.mark.parametrize(
    "from_, to",
    [("2018-10-06 9:00:00 ", "2018-10-06T15:00:00"), ("2018-10-06 09:00", "2018-10-06 21:00:00Z")],
)
def test_dates_are_parsed_leniently(cast, from_, to):
    test = seed_example(cast.owner)
    response = post(cast.owner, {"testId": test.id, "displayName": "s", "from": from_, "to": to})
    assert response.status_code == 201, response.content


def test_window_lengths(cast):
    test = seed_example(cast.owner)
    for hours, expected in [(1, 201), (2, 201), (3, 400), (48, 201), (72, 400), (0, 400)]:
        to = f"2018-10-{6 + (hours // 24):02d}T{hours % 24:02d}:00:00"
        response = post(cast.owner, {"testId": test.id, "displayName": "s", "from": FROM, "to": to})
        assert response.status_code == expected, (hours, response.content)
        if expected == 400:
            assert "1, 2, 4, 6, 12, 24 or 48 hours" in response.json()["errorMessage"]
    backwards = post(cast.owner, {"testId": test.id, "displayName": "s", "from": TO, "to": FROM})
    assert backwards.status_code == 400


def test_each_refusal_has_its_status_and_message_and_creates_nothing(cast):
    test = seed_example(cast.owner)
    ok = {"testId": test.id, "displayName": "s", "from": FROM, "to": TO}
    cases = [
        (cast.owner, {k: v for k, v in ok.items() if k != "displayName"}, 400, "displayName"),
        (cast.owner, {k: v for k, v in ok.items() if k != "testId"}, 400, "testId"),
        (cast.owner, {**ok, "from": "yesterday"}, 400, "from"),
        (cast.owner, {**ok, "isPublic": 2}, 400, "isPublic"),
        (cast.owner, {**ok, "testId": 987654}, 404, "Not found"),
        (cast.regular, ok, 403, "Regular Users"),
        (cast.other_group, ok, 404, "Not found"),
        (cast.other_org, ok, 404, "Not found"),
        (cast.owner, {**ok, "agents": [{"agentId": 987654}]}, 400, "agents"),
        (cast.owner, {**ok, "recipients": ["not an address"]}, 400, "recipients"),
    ]
    for person, body, status, words in cases:
        response = post(person, body)
        assert response.status_code == status, (body, response.content)
        assert words in response.json()["errorMessage"], response.json()
    assert Snapshot.objects.count() == 0


def test_a_role_without_create_snapshot_shares_is_403(cast):
    role = Role.objects.create(name="Viewer that may write tests", organization=None)
    role.permissions.set(cast.owner.user.memberships.first().role.permissions.exclude(label="Create snapshot shares"))
    membership = cast.owner.user.memberships.get(account_group__name="Ops")
    membership.role = role
    membership.save()
    test = seed_example(cast.teammate)
    response = post(cast.owner, {"testId": test.id, "displayName": "s", "from": FROM, "to": TO})
    assert response.status_code == 403
    assert "Create snapshot shares" in response.json()["errorMessage"]


def test_endpoint_agent_tests_are_refused(cast):
    test = make_test(cast.owner, name="laptops")
    laptop = make_agent(cast.owner, name="laptop-1", agent_type=Agent.ENDPOINT)
    test.agents.set([laptop])
    response = post(cast.owner, {"testId": test.id, "displayName": "s", "from": FROM, "to": TO})
    assert response.status_code == 400
    assert response.json() == {"errorMessage": "Endpoint Agent snapshots cannot be created"}
    test.agents.add(make_agent(cast.owner, name="dc-1"))
    assert post(cast.owner, {"testId": test.id, "displayName": "s", "from": FROM, "to": TO}).status_code == 201


def test_aid_and_xml_apply(cast):
    lab = AccountGroup.objects.get(name="Lab")
    response = cast.owner.client.post(
        f"/v6/tests/agent-to-server/new.json?aid={lab.id}",
        {"testName": "lab test", "interval": 60, "server": "h:1"},
        format="json",
    )
    lab_test = response.json()["test"][0]["testId"]
    body = {"testId": lab_test, "displayName": "lab", "from": FROM, "to": TO}
    assert post(cast.owner, body).status_code == 404  # default group is Ops
    response = cast.owner.client.post(f"/v6/snapshot.xml?aid={lab.id}", body, format="json")
    assert response.status_code == 201
    assert b"<link>" in response.content and b"<linkId>" in response.content


def test_list_detail_update_and_delete(cast):
    test = seed_example(cast.owner)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START, display_name="first")
    listed = cast.teammate.client.get("/v6/snapshots.json").json()["snapshot"]
    assert [s["linkId"] for s in listed] == [snapshot.link_id]
    item = listed[0]
    assert item["testName"] == "example" and item["visits"] == 0 and item["position"] == "starting"
    assert item["createdBy"] == "Olive Owner (owner@acme.test)" and item["expiresDate"] is None
    assert {"startRoundId", "endRoundId", "roundId", "isPublic", "shareDate", "viewUrl", "sourceTestId"} <= set(item)
    detail = cast.owner.client.get(f"/v6/snapshots/{snapshot.link_id}.json").json()["snapshot"][0]
    assert detail["recentVisits"] == [] and detail["comments"] == []

    update = cast.owner.client.post(
        f"/v6/snapshots/{snapshot.link_id}/update.json",
        {"displayName": "renamed", "commentsSignedInOnly": 1, "expiresDate": "2099-01-01 00:00:00"},
        format="json",
    )
    assert update.status_code == 200, update.content
    updated = update.json()["snapshot"][0]
    assert (updated["displayName"], updated["commentsSignedInOnly"], updated["expiresDate"]) == (
        "renamed",
        1,
        "2099-01-01 00:00:00",
    )
    past = cast.owner.client.post(
        f"/v6/snapshots/{snapshot.link_id}/update.json", {"expiresDate": "2001-01-01 00:00:00"}, format="json"
    )
    assert past.status_code == 400 and "expiresDate" in past.json()["errorMessage"]

    assert cast.owner.client.post(f"/v6/snapshots/{snapshot.link_id}/delete.json").status_code == 204
    assert cast.owner.client.get(f"/v6/snapshots/{snapshot.link_id}.json").status_code == 404
    assert cast.owner.client.get("/v6/snapshots.json").json() == {"snapshot": []}
    assert snapshot.test_id not in {t["testId"] for t in cast.owner.client.get("/v6/tests.json").json()["test"]}


def test_a_member_without_edit_all_may_not_change_anothers_snapshot(cast):
    test = seed_example(cast.teammate)
    theirs = make_snapshot(cast.teammate, test, hours=1, anchor=START)
    role = Role.objects.create(name="Snapshot maker", organization=None)
    role.permissions.set(
        cast.owner.user.memberships.first().role.permissions.exclude(
            label="Edit snapshots shared by all users in account group"
        )
    )
    cast.owner.user.memberships.filter(account_group__name="Ops").update(role=role)
    response = cast.owner.client.post(f"/v6/snapshots/{theirs.link_id}/delete.json")
    assert response.status_code == 403
    assert Snapshot.objects.filter(id=theirs.id).exists()


def test_another_organization_cannot_list_read_update_or_revoke(cast):
    test = seed_example(cast.owner)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START)
    for person in (cast.other_org, cast.other_group):
        client = person.client
        assert client.get("/v6/snapshots.json").json() == {"snapshot": []}
        for response in (
            client.get(f"/v6/snapshots/{snapshot.link_id}.json"),
            client.post(f"/v6/snapshots/{snapshot.link_id}/update.json", {"displayName": "x"}, format="json"),
            client.post(f"/v6/snapshots/{snapshot.link_id}/delete.json"),
            client.get(f"/v6/net/metrics/{snapshot.test_id}.json?window=1h"),
        ):
            assert response.status_code == 404
            assert response.json() == {"errorMessage": "Not found"}
    snapshot.refresh_from_db()
    assert snapshot.display_name != "x"


@pytest.mark.parametrize("link_id", ["", "a", "x" * 31, "x" * 33, "%00", "..", ":key", "é" * 32, "A" * 200, "*"])
def test_an_empty_or_malformed_link_id_never_matches_and_never_fails(cast, link_id):
    seed_example(cast.owner)
    make_snapshot(cast.owner, cast.owner.user.default_account_group.tests.first(), hours=1, anchor=START)
    for path in (f"/v6/snapshots/{link_id}.json", f"/v6/snapshots/{link_id}/delete.json"):
        response = cast.owner.client.get(path) if "delete" not in path else cast.owner.client.post(path)
        assert response.status_code == 404, (path, response.status_code)
    assert Snapshot.objects.count() == 1


def test_script_in_display_name_is_returned_as_data_not_markup(cast):
    test = seed_example(cast.owner)
    name = "<script>alert(1)</script>"
    response = post(cast.owner, {"testId": test.id, "displayName": name, "from": FROM, "to": TO})
    assert response.json()["link"]["displayName"] == name
    assert response["Content-Type"].startswith("application/json")


def test_the_openapi_document_describes_every_snapshot_endpoint(cast):
    paths = cast.owner.client.get("/v6/openapi.json").json()["paths"]
    joined = " ".join(paths)
    for fragment in ("/v6/snapshot", "/v6/snapshots", "{link_id}", "/update", "/delete"):
        assert fragment in joined
