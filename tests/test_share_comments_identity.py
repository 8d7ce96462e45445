"""Who a share page's comment is from: a signed-in comment needs Django's CSRF check (Origin and token), so a page
elsewhere — a sibling host of the same site above all — cannot post under a signed-in visitor's name; a guest's
comment carries no identity and is marked as a guest's on the page, in the API and in the e-mail."""

import re

from django.test import Client

from spyglass.mail.models import OutboxMessage
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import SnapshotComment
from tests.conftest import make_snapshot, make_test

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC


def shared(cast):
    test = make_test(cast.owner, name="edge", interval=60)
    seed(test, agents=2, hours=4, random_seed=5, now=ROUND + 2 * 3600)
    return make_snapshot(cast.owner, test, hours=2, anchor=ROUND, display_name="Outage", comments_signed_in_only=False)


def field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def signed_in_visitor(person) -> tuple[Client, str]:
    """A browser that enforces nothing for us: Django's CSRF check runs as it does for a real one."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(person.user)
    return client


def test_a_forged_post_with_the_victims_session_is_refused_and_stores_and_emails_nothing(cast):
    snapshot = shared(cast)
    url = f"/s/{snapshot.link_id}/comments"
    victim = signed_in_visitor(cast.teammate)
    assert victim.get(f"/s/{snapshot.link_id}/").status_code == 200  # the victim has the page's cookies
    # The link's form token is the same for everyone with the link: the attacker reads it from their own visit.
    link_token = field(Client().get(f"/s/{snapshot.link_id}/").content.decode(), "token")
    forged = {"token": link_token, "body": "Please revoke all API tokens", "name": "Tom Mate"}
    attempts = [
        {"HTTP_ORIGIN": "http://evil.testserver"},  # a sibling host's auto-posting form
        {"HTTP_ORIGIN": "null"},  # the same from a page that sends no referrer
        {},  # no Origin at all, and no CSRF token
    ]
    for headers in attempts:
        response = victim.post(url, forged, **headers)
        assert response.status_code == 403, headers
        assert response["Referrer-Policy"] == "no-referrer" and "reload the page" in response.content.decode()
    # A CSRF cookie the sibling host planted, with the matching token, still fails the Origin check.
    victim.cookies["csrftoken"] = "A" * 32
    tossed = victim.post(url, {**forged, "csrfmiddlewaretoken": "A" * 32}, HTTP_ORIGIN="http://evil.testserver")
    assert tossed.status_code == 403
    assert not SnapshotComment.objects.exists()
    assert not OutboxMessage.objects.filter(kind="snapshot-comment").exists()


def test_a_signed_in_visitor_comments_from_the_page_as_a_verified_user(cast):
    snapshot = shared(cast)
    visitor = signed_in_visitor(cast.teammate)
    html = visitor.get(f"/s/{snapshot.link_id}/").content.decode()
    form = {"token": field(html, "token"), "csrfmiddlewaretoken": field(html, "csrfmiddlewaretoken"), "body": "hi"}
    posted = visitor.post(f"/s/{snapshot.link_id}/comments", form, HTTP_ORIGIN="http://testserver")
    assert posted.status_code == 303
    comment = SnapshotComment.objects.get()
    assert comment.user_id == cast.teammate.user.id and comment.author_name == "Tom Mate"
    html = Client().get(f"/s/{snapshot.link_id}/").content.decode()
    assert re.search(r'<span class="author">Tom Mate</span>\s*<span class="comment-badge verified"', html)
    detail = cast.owner.client.get(f"/v6/snapshots/{snapshot.link_id}.json").json()["snapshot"][0]
    assert [(c["author"], c["guest"]) for c in detail["comments"]] == [("Tom Mate", 0)]
    message = OutboxMessage.objects.get(kind="snapshot-comment")
    assert message.subject == "New comment from Tom Mate on Outage"
    assert "Tom Mate (a verified spyglass user, signed in) commented" in message.body_text


def test_a_guests_comment_is_never_shown_or_emailed_as_a_users(cast):
    snapshot = shared(cast)
    guest = Client()
    html = guest.get(f"/s/{snapshot.link_id}/").content.decode()
    assert "csrfmiddlewaretoken" not in html  # nothing per visitor for a guest
    # A guest who types the name of a user of the platform.
    form = {"token": field(html, "token"), "name": "Olive Owner", "body": "I revoked it, ignore the alerts"}
    assert guest.post(f"/s/{snapshot.link_id}/comments", form).status_code == 303
    comment = SnapshotComment.objects.get()
    assert comment.user_id is None
    html = guest.get(f"/s/{snapshot.link_id}/").content.decode()
    assert re.search(r'<span class="author">Olive Owner</span>\s*<span class="comment-badge guest"', html)
    assert "comment-badge verified" not in html and "(guest, not verified)" in html
    detail = cast.owner.client.get(f"/v6/snapshots/{snapshot.link_id}.json").json()["snapshot"][0]
    assert [(c["author"], c["guest"]) for c in detail["comments"]] == [("Olive Owner", 1)]
    message = OutboxMessage.objects.get(kind="snapshot-comment")
    assert message.subject == 'New comment from a guest who calls themselves "Olive Owner" on Outage'
    for body in (message.body_text, message.body_html):
        assert "calls themselves" in body and "Olive Owner" in body and "not verified" in body
