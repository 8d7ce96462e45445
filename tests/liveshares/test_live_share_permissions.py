"""The permission matrix of live shares: each of the three permissions present and absent (custom roles), and
Regular Users refused every write."""

import pytest

from spyglass.accounts import roles
from spyglass.liveshares.models import LiveShare
from tests.conftest import make_person, make_test

from .conftest import BASIC, accept, listed_tests, person_with, share


@pytest.fixture
def recipient_group(db):
    """An account group of Acme ('Dev') with an Account Admin in it."""
    return make_person("dev@acme.test", "Acme", ["Dev"], roles.ACCOUNT_ADMIN)


@pytest.mark.parametrize("granted", [True, False])
def test_it_needs_the_inside_permission_to_share_inside(recipient_group, granted):
    labels = BASIC + ([roles.LIVE_SHARE_INSIDE] if granted else [])
    sharer = person_with("sharer@acme.test", "Acme", "Ops", labels)
    test = make_test(sharer)
    response = share(sharer, test.id, aid=recipient_group.aid)
    if granted:
        assert response.status_code == 201
        assert response.json()["liveShares"][0]["status"] == "pending"
    else:
        assert response.status_code == 403
        assert roles.LIVE_SHARE_INSIDE in response.json()["errorMessage"]
        assert not LiveShare.objects.exists()


@pytest.mark.parametrize("granted", [True, False])
def test_it_needs_the_outside_permission_to_share_outside(db, granted):
    labels = BASIC + ([roles.LIVE_SHARE_OUTSIDE] if granted else [roles.LIVE_SHARE_INSIDE])
    sharer = person_with("sharer@acme.test", "Acme", "Ops", labels)
    make_person("admin@globex.test", "Globex", ["Globex Ops"], roles.ORGANIZATION_ADMIN)
    test = make_test(sharer)
    response = share(sharer, test.id, email="admin@globex.test")
    if granted:
        assert response.status_code == 201
    else:
        assert response.status_code == 403
        assert roles.LIVE_SHARE_OUTSIDE in response.json()["errorMessage"]
        assert not LiveShare.objects.exists()


@pytest.mark.parametrize("granted", [True, False])
def test_it_needs_the_accept_permission_to_accept_or_decline(db, granted):
    sharer = person_with("sharer@acme.test", "Acme", "Ops", BASIC + [roles.LIVE_SHARE_INSIDE])
    labels = BASIC + ([roles.ACCEPT_LIVE_SHARES] if granted else [])
    recipient = person_with("dev@acme.test", "Acme", "Dev", labels)
    test = make_test(sharer)
    share_id = share(sharer, test.id, aid=recipient.aid).json()["liveShares"][0]["id"]
    decline = recipient.client.post(f"/v6/live-shares/{share_id}/decline.json", {}, format="json")
    response = accept(recipient, share_id)
    if granted:
        assert decline.status_code == 200 and decline.json()["liveShares"][0]["status"] == "declined"
        assert response.status_code == 400  # already declined
    else:
        assert decline.status_code == response.status_code == 403
        assert roles.ACCEPT_LIVE_SHARES in response.json()["errorMessage"]
        assert LiveShare.objects.get().status == "pending"
    assert test.id not in listed_tests(recipient)


@pytest.mark.parametrize("granted", [True, False])
def test_revoking_needs_the_permission_that_created_the_share(recipient_group, granted):
    creator = person_with("creator@acme.test", "Acme", "Ops", BASIC + [roles.LIVE_SHARE_INSIDE])
    labels = BASIC + ([roles.LIVE_SHARE_INSIDE] if granted else [roles.LIVE_SHARE_OUTSIDE])
    colleague = person_with("colleague@acme.test", "Acme", "Ops", labels)
    test = make_test(creator)
    share_id = share(creator, test.id, aid=recipient_group.aid).json()["liveShares"][0]["id"]
    response = colleague.client.post(f"/v6/live-shares/{share_id}/delete.json", {}, format="json")
    assert response.status_code == (204 if granted else 403)
    assert LiveShare.objects.filter(id=share_id).exists() is not granted


@pytest.mark.parametrize("granted", [True, False])
def test_writing_shared_with_accounts_needs_the_inside_permission(recipient_group, granted):
    labels = BASIC + ([roles.LIVE_SHARE_INSIDE] if granted else [])
    sharer = person_with("sharer@acme.test", "Acme", "Ops", labels)
    test = make_test(sharer)
    response = sharer.client.post(
        f"/v6/tests/agent-to-server/{test.id}/update.json",
        {"description": "now shared", "sharedWithAccounts": [{"aid": recipient_group.aid}]},
        format="json",
    )
    assert response.status_code == (200 if granted else 403)
    test.refresh_from_db()
    assert (test.description == "now shared") is granted  # a refused update changes nothing
    assert LiveShare.objects.filter(test=test).exists() is granted
    # Sending back the list as it is needs no permission (a read-modify-write client keeps working).
    unchanged = [{"aid": recipient_group.aid}] if granted else []
    again = sharer.client.post(
        f"/v6/tests/agent-to-server/{test.id}/update.json", {"sharedWithAccounts": unchanged}, format="json"
    )
    assert again.status_code == 200


def test_regular_users_are_refused_every_live_share_write(cast):
    test = make_test(cast.owner)
    share_id = share(cast.owner, test.id, aid=cast.other_group.aid).json()["liveShares"][0]["id"]
    regular_dev = make_person("reader@acme.test", "Acme", ["Dev"], roles.REGULAR_USER)
    attempts = [
        cast.regular.client.post("/v6/live-shares/new.json", {"testId": test.id, "aid": cast.other_group.aid}),
        cast.regular.client.post(f"/v6/live-shares/{share_id}/delete.json"),
        regular_dev.client.post(f"/v6/live-shares/{share_id}/accept.json"),
        regular_dev.client.post(f"/v6/live-shares/{share_id}/decline.json"),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert LiveShare.objects.get().status == "pending"
    # Reading is allowed: the Regular User of the recipient group sees the pending share.
    listed = regular_dev.client.get("/v6/live-shares.json").json()["liveShares"]
    assert [(s["id"], s["direction"], s["status"]) for s in listed] == [(share_id, "incoming", "pending")]


def test_builtin_roles_grant_what_the_documents_say(cast):
    """Organization Admin may share outside; Account Admin may share inside and accept, not share outside."""
    test = make_test(cast.owner)
    assert share(cast.owner, test.id, email="x@initech.test").status_code == 403
    assert share(cast.owner, test.id, aid=cast.other_group.aid).status_code == 201
    mate_test = make_test(cast.teammate, name="mate's")
    assert share(cast.teammate, mate_test.id, email="x@initech.test").status_code == 201
