"""Sharing with other account groups of the organization: `sharedWithAccounts` on create and update, pending until
accepted, read-only for the recipient, unchecking revokes at once; the settings panel's counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spyglass.accounts import roles
from spyglass.accounts.roles import access_for
from spyglass.liveshares import services
from spyglass.liveshares.models import LiveShare
from spyglass.monitoring.models import Test
from tests.conftest import make_person, make_test

from .conftest import accept, listed_tests, share


def update(person, test, body):
    return person.client.post(f"/v6/tests/{test.type}/{test.id}/update.json", body, format="json")


def incoming_id(person) -> int:
    [incoming] = [s for s in person.client.get("/v6/live-shares.json").json()["liveShares"] if s["status"] == "pending"]
    return incoming["id"]


def test_shared_with_accounts_on_create_makes_pending_shares_shown_in_the_detail(cast):
    test = make_test(cast.owner, sharedWithAccounts=[{"aid": cast.other_group.aid}])
    detail = cast.owner.client.get(f"/v6/tests/{test.id}.json").json()["test"][0]
    assert detail["sharedWithAccounts"] == [{"aid": cast.other_group.aid, "name": "Dev"}]
    assert LiveShare.objects.get().status == "pending"
    assert test.id not in listed_tests(cast.other_group)  # pending: not yet in the recipient's tests

    assert accept(cast.other_group, incoming_id(cast.other_group)).status_code == 200
    assert listed_tests(cast.other_group) == {test.id: 1}
    shared = cast.other_group.client.get(f"/v6/tests/{test.id}.json").json()["test"][0]
    assert shared["liveShare"] == 1
    assert shared["sharedWithAccounts"] == []  # a recipient does not learn who else it is shared with


def test_the_recipient_cannot_update_delete_or_reshare_a_shared_test(cast):
    test = make_test(cast.owner, sharedWithAccounts=[{"aid": cast.other_group.aid}])
    accept(cast.other_group, incoming_id(cast.other_group))
    changed = update(cast.other_group, test, {"description": "mine now"})
    deleted = cast.other_group.client.post(f"/v6/tests/{test.type}/{test.id}/delete.json")
    reshared = share(cast.other_group, test.id, email="admin@globex.test")
    assert [r.status_code for r in (changed, deleted, reshared)] == [403, 403, 403]
    assert "read-only" in changed.json()["errorMessage"]
    test.refresh_from_db()
    assert test.description == "" and Test.objects.filter(id=test.id).exists()
    assert LiveShare.objects.count() == 1


def test_unchecking_a_group_revokes_at_once_and_checking_again_invites_again(cast):
    test = make_test(cast.owner, sharedWithAccounts=[{"aid": cast.other_group.aid}])
    accept(cast.other_group, incoming_id(cast.other_group))
    assert update(cast.owner, test, {"sharedWithAccounts": []}).status_code == 200
    assert test.id not in listed_tests(cast.other_group)
    assert cast.other_group.client.get(f"/v6/net/metrics/{test.id}.json").status_code == 404
    assert cast.other_group.client.get("/v6/live-shares.json").json() == {"liveShares": []}

    response = update(cast.owner, test, {"sharedWithAccounts": [{"aid": cast.other_group.aid}]})
    assert response.json()["test"][0]["sharedWithAccounts"] == [{"aid": cast.other_group.aid, "name": "Dev"}]
    assert test.id not in listed_tests(cast.other_group)  # a new invitation: pending again
    assert LiveShare.objects.get().status == "pending"


def test_the_owners_other_groups_and_teammates_see_one_share_list(cast):
    lab = cast.owner.user.memberships.get(account_group__name="Lab").account_group
    test = make_test(cast.owner, sharedWithAccounts=[{"aid": lab.id}, {"aid": cast.other_group.aid}])
    outgoing = cast.teammate.client.get("/v6/live-shares.json").json()["liveShares"]
    assert sorted(s["accountGroupName"] for s in outgoing) == ["Dev", "Lab"]
    assert {s["direction"] for s in outgoing} == {"outgoing"}
    # The owner, in Lab, accepts what Ops sent to Lab.
    lab_incoming = cast.owner.client.get(f"/v6/live-shares.json?aid={lab.id}").json()["liveShares"]
    assert [(s["accountGroupName"], s["direction"]) for s in lab_incoming] == [("Ops", "incoming")]
    assert accept(cast.owner, lab_incoming[0]["id"], aid=lab.id).status_code == 200
    assert listed_tests(cast.owner, aid=lab.id) == {test.id: 1}


@pytest.mark.parametrize("target", ["other org's group", "missing group", "own group"])
def test_a_group_outside_the_organization_is_refused_naming_the_field(cast, target):
    aid = {
        "other org's group": cast.other_org.aid,
        "missing group": 987654,
        "own group": cast.owner.aid,
    }[target]
    response = cast.owner.client.post(
        "/v6/tests/agent-to-server/new.json",
        {"testName": "t", "interval": 60, "server": "h:1", "sharedWithAccounts": [{"aid": aid}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "errorMessage": f"sharedWithAccounts: {aid} is not another account group of your organization"
    }
    assert not Test.objects.exists() and not LiveShare.objects.exists()  # nothing changed


def test_listing_tests_flags_live_shares_without_a_query_per_test(cast):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            body = cast.other_group.client.get("/v6/tests.json").json()
        return len(ctx.captured_queries), body

    def share_one(name):
        test = make_test(cast.owner, name=name, sharedWithAccounts=[{"aid": cast.other_group.aid}])
        accept(cast.other_group, LiveShare.objects.get(test=test).id)

    make_test(cast.other_group, name="own")
    share_one("shared 1")
    few, _ = count_queries()
    for i in range(2, 7):
        share_one(f"shared {i}")
    many, body = count_queries()
    # Seven tests cost no more statements than two (the first list of the group also starts its stored list's
    # version: api/stored_lists.py).
    assert many <= few
    assert sorted((t["testName"], t["liveShare"]) for t in body["test"]) == [("own", 0)] + [
        (f"shared {i}", 1) for i in range(1, 7)
    ]


def test_the_settings_panel_counts_groups_and_customers(cast, django_capture_on_commit_callbacks):
    test = make_test(cast.teammate, sharedWithAccounts=[{"aid": cast.other_group.aid}])
    with django_capture_on_commit_callbacks(execute=True):
        sent = share(cast.teammate, test.id, email="admin@globex.test").json()["liveShares"][0]
        share(cast.teammate, test.id, email="nobody@initech.test")
    accept(cast.other_org, sent["id"])
    panel = services.settings_panel(access_for(cast.teammate.user, None), test)
    assert panel["show_groups"] is True
    assert (panel["groups_shared"], panel["groups_total"]) == (1, 3)  # "1 of 3 account groups": Ops, Lab, Dev
    assert [(g["group"].name, g["status"]) for g in panel["groups"]] == [("Dev", "pending"), ("Lab", None)]
    assert panel["customers"] == 1  # "1 other customers": only Globex accepted
    assert sorted(s.recipient_email for s in panel["outside"]) == ["admin@globex.test", "nobody@initech.test"]

    solo = make_person("solo@initech.test", "Initech", ["Only"], roles.ORGANIZATION_ADMIN)
    solo_test = make_test(solo, name="solo")
    assert services.settings_panel(access_for(solo.user, None), solo_test)["show_groups"] is False


def test_an_oversized_group_list_is_refused_before_touching_the_database(cast):
    test = make_test(cast.owner)
    response = update(cast.owner, test, {"sharedWithAccounts": [{"aid": i} for i in range(1, 1202)]})
    assert response.status_code == 400
    assert response.json() == {"errorMessage": "sharedWithAccounts: at most 1000 account groups"}
