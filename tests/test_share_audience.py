"""Who may open a share link, one rule for every route under /s/<linkId>/ (spyglass.sharing.audience): a share link
opens for anyone holding it; a saved event only for signed-in members of its account group — to everyone else each
route answers the 404 of an unknown link, and nothing is counted, stored or posted."""

import pytest
from django.core import signing
from django.test import Client

from spyglass.monitoring.seed import seed
from spyglass.sharing import views
from spyglass.sharing.models import SnapshotComment, SnapshotRecipient, SnapshotVisit
from spyglass.sharing.services import shared_with
from tests.conftest import make_snapshot, make_test
from tests.web_support import signed_in

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC
SIGNED_OUT, OTHER_GROUP, OTHER_ORG, MEMBER = "signed out", "other group", "other organization", "member"


def ask(client, snapshot, route: str):
    base = f"/s/{snapshot.link_id}/"
    if route == "comment":
        token = signing.dumps(snapshot.link_id, salt=views.FORM_SALT)  # the form's token, as the page would give it
        return client.post(f"{base}comments", {"token": token, "name": "Guest", "body": "was it DNS?"})
    if route == "HEAD page":
        return client.head(base)
    path = {"page": "", "results": "results", "csv": "download.csv", "json": "download.json"}[route]
    return client.get(base + path)


ROUTES = ("page", "HEAD page", "results", "csv", "json", "comment")
SERVED = {"page": 200, "HEAD page": 200, "results": 200, "csv": 200, "json": 200, "comment": 303}


@pytest.fixture
def saved_event(cast):
    test = make_test(cast.owner, "http-server", name="members only", interval=60)
    seed(test, agents=2, hours=3, random_seed=5, now=ROUND + 3600)
    return make_snapshot(cast.owner, test, hours=2, anchor=ROUND, position="around", is_public=False)


def visitor(cast, who: str) -> Client:
    person = {OTHER_GROUP: cast.other_group, OTHER_ORG: cast.other_org, MEMBER: cast.regular}.get(who)
    return Client() if person is None else signed_in(person)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("who", (SIGNED_OUT, OTHER_GROUP, OTHER_ORG))
def test_a_saved_event_is_the_404_of_an_unknown_link_to_anyone_but_its_members(cast, saved_event, route, who):
    response = ask(visitor(cast, who), saved_event, route)
    assert response.status_code == 404, (route, who)
    assert response["Cache-Control"] == "private, no-store"  # the share routes' headers, refusals included
    assert b"members only" not in response.content
    assert not SnapshotVisit.objects.filter(snapshot=saved_event).exists()
    assert not SnapshotComment.objects.filter(snapshot=saved_event).exists()


@pytest.mark.parametrize("route", ROUTES)
def test_a_saved_event_opens_on_every_route_for_a_member_of_its_account_group(cast, saved_event, route):
    response = ask(visitor(cast, MEMBER), saved_event, route)
    assert response.status_code == SERVED[route], route
    if route in ("page", "json"):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"members only" in body


@pytest.mark.parametrize("route", ROUTES)
def test_a_share_link_opens_on_every_route_for_someone_signed_out(cast, saved_event, route):
    link = make_snapshot(
        cast.owner, saved_event.source_test, hours=2, anchor=ROUND, position="around", comments_signed_in_only=False
    )
    assert ask(Client(), link, route).status_code == SERVED[route], route


def test_a_saved_event_opened_signed_out_asks_to_sign_in_and_says_no_more_than_an_unknown_link(cast, saved_event):
    """Issue 22, point 7: signed out, a saved event's page says it needs signing in, with a sign-in link that
    returns to it — still the 404 of an unknown link, word for word (the same for any link-shaped address)."""
    response = Client().get(f"/s/{saved_event.link_id}/")
    unknown_id = "a" * 32
    unknown = Client().get(f"/s/{unknown_id}/")
    assert response.status_code == unknown.status_code == 404
    body = response.content.decode()
    assert f"/login/?next=%2Fs%2F{saved_event.link_id}%2F" in body and "sign in" in body.lower()
    assert body.replace(saved_event.link_id, unknown_id) == unknown.content.decode()
    # Signed in elsewhere, nothing to sign in to: the plain 404.
    other = signed_in(cast.other_group).get(f"/s/{saved_event.link_id}/")
    assert other.status_code == 404 and "/login/" not in other.content.decode()


def test_shared_with_me_lists_an_emailed_saved_event_only_for_members(cast, saved_event):
    for person in (cast.regular, cast.other_group):
        SnapshotRecipient.objects.create(snapshot=saved_event, email=person.user.email)
    assert list(shared_with(cast.regular.user)) == [saved_event]
    assert list(shared_with(cast.other_group.user)) == []
