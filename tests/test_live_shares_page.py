"""Sharing › Live Shares and dropping a share: the page lists what the account group shares (with whom, state,
revoke) and what it received (accept, decline, drop); a recipient may drop an accepted share — the service, the web
action and `POST /v6/live-shares/{id}/drop` — after which the recipient no longer sees the test, what it derived
from the share ends, and the sharer sees the share as dropped. Other tenants get 404."""

import re

import pytest
from django.http import Http404
from django.test import Client
from rest_framework.exceptions import PermissionDenied, ValidationError

from spyglass.accounts.models import AccountGroup
from spyglass.accounts.roles import access_for
from spyglass.liveshares import services
from spyglass.liveshares.models import LiveShare
from spyglass.monitoring.tests_service import visible_tests
from spyglass.sharing.models import Snapshot
from tests.conftest import make_derived_snapshot, make_test
from tests.web_support import signed_in

PAGE = "/sharing/live-shares/"


def access(person, group: str | None = None):
    aid = AccountGroup.objects.get(name=group).id if group else None
    return access_for(person.user, aid)


@pytest.fixture
def shared(cast):
    """The owner's test "ops <edge>" shared with the Dev account group (cast.other_group), pending."""
    test = make_test(cast.owner, name="ops <edge>")
    share = services.create(access(cast.owner), test.id, aid=AccountGroup.objects.get(name="Dev").id)
    return test, share


@pytest.fixture
def accepted(cast, shared):
    test, share = shared
    services.accept(access(cast.other_group), share.id)
    return test, share


def row_of(html: str, share_id: int) -> str:
    match = re.search(rf'<tr class="live-share-row" data-share-id="{share_id}".*?</tr>', html, re.S)
    return match.group(0) if match else ""


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, section_id
    return match.group(0)


def page(person) -> str:
    response = signed_in(person).get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def visible_ids(person, group=None) -> set[int]:
    return set(visible_tests(access(person, group)).values_list("id", flat=True))


# --- the service ---------------------------------------------------------------------------------------------------


def test_dropping_an_accepted_share_hides_the_test_and_keeps_the_share_as_dropped(cast, accepted):
    test, share = accepted
    assert test.id in visible_ids(cast.other_group)
    dropped = services.drop(access(cast.other_group), share.id)
    assert (dropped.status, dropped.dropped_date is not None) == ("dropped", True)
    assert test.id not in visible_ids(cast.other_group)
    # The sharer still has the share, as dropped, and keeps its test.
    assert LiveShare.objects.get(id=share.id).status == "dropped"
    assert test.id in visible_ids(cast.owner)


def test_dropping_ends_the_snapshots_made_through_the_share(cast):
    test = make_test(cast.owner, name="checkout")
    share, snapshot = make_derived_snapshot(cast, test)  # accepted by Lab, snapshotted there
    assert Client().get(f"/s/{snapshot.link_id}/").status_code == 200
    services.drop(access(cast.owner, "Lab"), share.id)
    assert Client().get(f"/s/{snapshot.link_id}/").status_code == 404
    assert not Snapshot.objects.filter(id=snapshot.id).exists()
    assert test.id not in visible_ids(cast.owner, "Lab")


def test_only_an_accepted_share_can_be_dropped_and_only_by_its_recipient(cast, shared):
    test, share = shared
    with pytest.raises(ValidationError, match="only an accepted live share can be dropped; this one is pending"):
        services.drop(access(cast.other_group), share.id)
    services.accept(access(cast.other_group), share.id)
    for outsider in (cast.owner, cast.other_org):  # the sharer, another organization
        with pytest.raises(Http404):
            services.drop(access(outsider), share.id)
    services.drop(access(cast.other_group), share.id)
    with pytest.raises(ValidationError, match="this one is dropped"):
        services.drop(access(cast.other_group), share.id)
    assert LiveShare.objects.get(id=share.id).status == "dropped"


def test_dropping_needs_the_permission_to_accept_inbound_shares(cast, accepted):
    test, share = accepted
    from tests.liveshares.conftest import person_with

    viewer = person_with("viewer@acme.test", "Acme", "Dev", ["View tests"])
    with pytest.raises(PermissionDenied):
        services.drop(access(viewer), share.id)
    assert LiveShare.objects.get(id=share.id).status == "accepted"


def test_the_sharer_may_invite_again_after_a_drop(cast, accepted):
    test, share = accepted
    services.drop(access(cast.other_group), share.id)
    services.set_shared_with(access(cast.owner), test, [AccountGroup.objects.get(name="Dev").id])
    again = LiveShare.objects.get(id=share.id)
    assert (again.status, again.dropped_date, again.accepted_date) == ("pending", None, None)
    assert test.id not in visible_ids(cast.other_group)


# --- the API -------------------------------------------------------------------------------------------------------


def test_the_api_drops_an_accepted_share_and_the_sharer_lists_it_as_dropped(cast, accepted):
    test, share = accepted
    assert test.id in {t["testId"] for t in cast.other_group.client.get("/v6/tests.json").json()["test"]}

    response = cast.other_group.client.post(f"/v6/live-shares/{share.id}/drop.json")
    assert response.status_code == 200
    answer = response.json()["liveShares"][0]
    assert (answer["id"], answer["direction"], answer["status"]) == (share.id, "incoming", "dropped")
    assert answer["droppedDate"]

    assert test.id not in {t["testId"] for t in cast.other_group.client.get("/v6/tests.json").json()["test"]}
    assert cast.other_group.client.get(f"/v6/tests/{test.id}.json").status_code == 404
    sent = cast.owner.client.get("/v6/live-shares.json").json()["liveShares"]
    assert [(s["id"], s["status"], bool(s["droppedDate"])) for s in sent] == [(share.id, "dropped", True)]

    again = cast.other_group.client.post(f"/v6/live-shares/{share.id}/drop.json")
    assert again.status_code == 400 and "dropped" in again.json()["errorMessage"]


def test_the_api_answers_404_to_everyone_but_the_recipient(cast, accepted):
    test, share = accepted
    for person in (cast.owner, cast.teammate, cast.other_org):
        response = person.client.post(f"/v6/live-shares/{share.id}/drop.json")
        assert response.status_code == 404 and response.json() == {"errorMessage": "Not found"}
    assert cast.other_group.client.post("/v6/live-shares/987654/drop.json").status_code == 404
    assert LiveShare.objects.get(id=share.id).status == "accepted"


def test_an_outside_share_is_dropped_for_the_whole_organization_and_still_names_it_to_the_sharer(cast):
    test = make_test(cast.other_org, name="globex checkout")
    share = services.create(access(cast.other_org), test.id, email=cast.owner.user.email)
    services.accept(access(cast.owner), share.id)
    assert test.id in visible_ids(cast.teammate)  # every group of Acme reads it
    response = cast.teammate.client.post(f"/v6/live-shares/{share.id}/drop.json")
    assert response.status_code == 200
    assert test.id not in visible_ids(cast.owner) | visible_ids(cast.teammate) | visible_ids(cast.owner, "Lab")
    sent = cast.other_org.client.get("/v6/live-shares.json").json()["liveShares"]
    assert [(s["status"], s["organizationName"]) for s in sent] == [("dropped", "Acme")]


# --- the web page --------------------------------------------------------------------------------------------------


def test_the_page_lists_outgoing_shares_with_recipient_state_and_revoke(cast, shared):
    test, share = shared
    html = page(cast.owner)
    assert 'href="/sharing/live-shares/"' in html and 'aria-current="page"' in html
    outgoing = row_of(section(html, "outgoing-shares"), share.id)
    assert "ops &lt;edge&gt;" in outgoing and "<edge>" not in outgoing
    assert "Dev" in outgoing and ">Pending<" in outgoing
    assert f'action="/sharing/live-shares/{share.id}/revoke/"' in outgoing and "data-confirm=" in outgoing
    assert row_of(section(html, "incoming-shares"), share.id) == ""
    # Sharing › Snapshots leads here.
    assert 'href="/sharing/live-shares/"' in signed_in(cast.owner).get("/sharing/snapshots/").content.decode()


def test_the_recipient_accepts_on_the_page_and_comes_back_to_it(cast, shared):
    test, share = shared
    client = signed_in(cast.other_group)
    incoming = row_of(section(page(cast.other_group), "incoming-shares"), share.id)
    assert ">Pending<" in incoming and "Accept" in incoming and "Decline" in incoming and "Drop" not in incoming
    response = client.post(f"/live-shares/{share.id}/accept/", {"next": "live-shares"})
    assert response.status_code == 302 and response["Location"] == PAGE
    incoming = row_of(section(page(cast.other_group), "incoming-shares"), share.id)
    assert ">Accepted<" in incoming and f'href="/tests/{test.id}/"' in incoming
    assert f'action="/live-shares/{share.id}/drop/"' in incoming and 'data-confirm-button="Drop"' in incoming


def test_the_recipient_declines_on_the_page(cast, shared):
    test, share = shared
    response = signed_in(cast.other_group).post(f"/live-shares/{share.id}/decline/", {"next": "live-shares"})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert LiveShare.objects.get(id=share.id).status == "declined"
    assert ">Declined<" in row_of(page(cast.owner), share.id)


def test_dropping_on_the_page_hides_the_test_and_the_owner_sees_it_dropped(cast, accepted):
    test, share = accepted
    client = signed_in(cast.other_group)
    assert "ops &lt;edge&gt;" in client.get("/tests/").content.decode()
    response = client.post(f"/live-shares/{share.id}/drop/", follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    html = response.content.decode()
    assert "Dropped “ops &lt;edge&gt;”" in html
    incoming = row_of(section(html, "incoming-shares"), share.id)
    assert ">Dropped<" in incoming and "href=" not in incoming and "<form" not in incoming
    assert "ops &lt;edge&gt;" not in client.get("/tests/").content.decode()
    assert client.get(f"/tests/{test.id}/").status_code == 404
    owner_row = row_of(section(page(cast.owner), "outgoing-shares"), share.id)
    assert ">Dropped<" in owner_row and "dropped " in owner_row
    # Nothing is left to revoke: the sharer may only clear the row away.
    assert ">Remove</button>" in owner_row and ">Revoke</button>" not in owner_row


def test_dropping_a_pending_share_on_the_page_says_why_and_changes_nothing(cast, shared):
    test, share = shared
    response = signed_in(cast.other_group).post(f"/live-shares/{share.id}/drop/", follow=True)
    assert "Only an accepted live share can be dropped; this one is pending." in response.content.decode()
    assert LiveShare.objects.get(id=share.id).status == "pending"


def test_the_owner_revokes_from_the_page(cast, accepted):
    test, share = accepted
    response = signed_in(cast.owner).post(f"/sharing/live-shares/{share.id}/revoke/", follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert "Stopped sharing “ops &lt;edge&gt;” with Dev." in response.content.decode()
    assert not LiveShare.objects.filter(id=share.id).exists()
    assert test.id not in visible_ids(cast.other_group)


def test_other_tenants_get_404_and_see_nothing(cast, accepted):
    test, share = accepted
    other = page(cast.other_org)
    assert "ops &lt;edge&gt;" not in other and f'data-share-id="{share.id}"' not in other
    client = signed_in(cast.other_org)
    assert client.post(f"/live-shares/{share.id}/drop/").status_code == 404
    assert client.post(f"/sharing/live-shares/{share.id}/revoke/").status_code == 404
    # The recipient cannot revoke, the sharer cannot drop: each is the other side's.
    assert signed_in(cast.other_group).post(f"/sharing/live-shares/{share.id}/revoke/").status_code == 404
    assert signed_in(cast.owner).post(f"/live-shares/{share.id}/drop/").status_code == 404
    assert signed_in(cast.owner).post("/live-shares/99999999999999999999/drop/").status_code == 404
    assert LiveShare.objects.get(id=share.id).status == "accepted"


def test_a_regular_user_sees_the_shares_without_actions_and_is_refused_revoking(cast, shared):
    test, share = shared
    html = page(cast.regular)
    outgoing = row_of(section(html, "outgoing-shares"), share.id)
    assert "Dev" in outgoing and "<form" not in outgoing
    assert signed_in(cast.regular).post(f"/sharing/live-shares/{share.id}/revoke/").status_code == 403
    assert LiveShare.objects.filter(id=share.id).exists()
