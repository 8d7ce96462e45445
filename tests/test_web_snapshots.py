"""Snapshots in the web app: the sharing panel (link, share by e-mail, errors on the form, Export Data), Sharing ›
Snapshots (tabs, sorting, expanded rows, updates, revocation and who may do it) and saved events."""

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from spyglass.accounts import roles
from spyglass.mail.models import OutboxMessage
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot, SnapshotVisit
from tests.conftest import make_snapshot, make_test
from tests.liveshares.conftest import person_with
from tests.web_support import signed_in

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC


def seeded(cast, name="edge", agents=3):
    test = make_test(cast.owner, name=name, interval=60)
    seed(test, agents=agents, hours=8, random_seed=3, now=ROUND + 4 * 3600)
    return test


def panel_form(test, **values):
    form = {
        "display_name": "Outage",
        "hours": "6",
        "position": "around",
        "round_id": str(ROUND),
        "view": "latency",
        "expiry": "7",
        "action": "link",
        "agents": [str(a) for a in test.agents.values_list("id", flat=True)],
    }
    form.update(values)
    return form


def create(client, test, **values):
    return client.post(f"/tests/{test.id}/snapshots/", panel_form(test, **values))


def test_the_panel_offers_every_choice_of_the_documents(cast, settings):
    test = seeded(cast)
    html = signed_in(cast.owner).get(f"/tests/{test.id}/?roundId={ROUND}").content.decode()
    hours_select = re.search(r'name="hours".*?</select>', html, re.S).group(0)
    hours = re.findall(r'<option value="(\d+)"', hours_select)
    assert hours == ["1", "2", "4", "6", "12", "24", "48"]
    assert re.findall(r'name="position".*?</select>', html, re.S)[0].count("<option") == 3
    for label in ("starting at the selected round", "around the selected round", "ending at the selected round"):
        assert label in html
    assert html.count('name="agents"') == 3 and html.count("checked>") >= 3  # every agent ticked
    assert ">Never</option>" in html and ">30 days</option>" in html
    assert "Link to this snapshot" in html and ">Share</button>" in html and ">Cancel</button>" in html
    assert "Guests may comment too" in html and 'name="recipients"' in html and 'name="note"' in html
    assert f'data-export-path="/v6/net/metrics/{test.id}"' in html and 'target="_blank"' in html
    # An organization-wide maximum removes "never" and longer choices.
    settings.SNAPSHOT_MAX_EXPIRY_DAYS = 7
    html = signed_in(cast.owner).get(f"/tests/{test.id}/").content.decode()
    assert ">Never</option>" not in html and ">30 days</option>" not in html and ">7 days</option>" in html


def test_link_to_this_snapshot_creates_it_at_the_round_and_view_and_sends_nothing(cast):
    test = seeded(cast)
    response = create(signed_in(cast.owner), test)
    assert response.status_code == 201
    snapshot = Snapshot.objects.get()
    html = response.content.decode()
    assert f"/s/{snapshot.link_id}/" in html and "data-copy" in html and "Nothing was sent" in html
    assert (snapshot.round_id, snapshot.view, snapshot.position) == (ROUND, "latency", "around")
    assert (snapshot.start_round, snapshot.end_round) == (ROUND - 3 * 3600, ROUND + 3 * 3600)
    assert snapshot.agent_ids is None  # every agent ticked: every agent
    assert snapshot.expires_date - snapshot.created_date == timedelta(days=7)
    assert not OutboxMessage.objects.exists()
    # The share page opens where the creator was.
    page = Client().get(f"/s/{snapshot.link_id}/").content.decode()
    assert f'data-round-id="{ROUND}"' in page and 'class="active" data-view="latency"' in page


def test_share_emails_the_link_and_note_to_every_recipient_and_keeps_the_agent_choice(cast):
    test = seeded(cast)
    first_agent = test.agents.order_by("id").first()
    response = create(
        signed_in(cast.owner),
        test,
        action="share",
        recipients="noc@provider.example, alice@example.com",
        note="Loss from <b>Frankfurt</b>",
        agents=[str(first_agent.id)],
        expiry="never",
        signed_in_only="on",
    )
    assert response.status_code == 201 and "noc@provider.example, alice@example.com" in response.content.decode()
    snapshot = Snapshot.objects.get()
    assert snapshot.agent_ids == [first_agent.id] and snapshot.expires_date is None
    assert snapshot.comments_signed_in_only
    messages = OutboxMessage.objects.filter(kind="snapshot-share")
    assert sorted(m.to[0] for m in messages) == ["alice@example.com", "noc@provider.example"]
    assert all(snapshot.link_id in m.body_text and "Loss from <b>Frankfurt</b>" in m.body_text for m in messages)
    assert all("&lt;b&gt;Frankfurt" in m.body_html for m in messages)


def test_errors_are_shown_on_the_form_and_change_nothing(cast, settings):
    test = seeded(cast)
    client = signed_in(cast.owner)
    cases = [
        ({"hours": "5"}, "window"),
        ({"action": "share", "recipients": ""}, "add at least one e-mail address"),
        ({"action": "share", "recipients": "not-an-address"}, "is not an e-mail address"),
        ({"agents": []}, "tick at least one agent"),
        ({"round_id": "soon"}, "round"),
        ({"display_name": "x" * 300}, "at most 255 characters"),
        ({"position": "beside"}, "must be one of starting, around, ending"),
    ]
    for values, message in cases:
        response = create(client, test, **values)
        assert response.status_code == 400, values
        assert message in response.content.decode() and 'role="alert"' in response.content.decode()
    # The panel itself (htmx) gets the same message as a normal answer to show on the form.
    panel = client.post(f"/tests/{test.id}/snapshots/", panel_form(test, hours="5"), HTTP_HX_REQUEST="true")
    assert panel.status_code == 200 and 'role="alert"' in panel.content.decode()
    settings.SNAPSHOT_MAX_EXPIRY_DAYS = 7
    response = create(client, test, expiry="never")
    assert response.status_code == 400 and "at most 7 days" in response.content.decode()
    regular = create(signed_in(cast.regular), test)
    assert regular.status_code == 403 and "Regular Users" in regular.content.decode()
    assert create(signed_in(cast.other_org), test).status_code == 404
    assert not Snapshot.objects.exists() and not OutboxMessage.objects.exists()


def test_export_data_opens_a_v6_query_with_the_session_and_needs_no_csrf_token(cast):
    test = seeded(cast)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner.user)
    html = client.get(f"/tests/{test.id}/?roundId={ROUND}").content.decode()
    path = re.search(r'data-export-path="([^"]+)"', html).group(1)
    query = "from=2026-11-22T08:00:00&to=2026-11-22T09:00:00"
    for fmt, content_type in (("json", "application/json"), ("xml", "text/xml")):
        response = client.get(f"{path}?{query}&format={fmt}&aid={cast.owner.aid}")
        assert response.status_code == 200 and response["Content-Type"].startswith(content_type)
    rounds = {row["roundId"] for row in client.get(f"{path}?{query}&format=json").json()["net"]["metrics"]}
    assert min(rounds) >= ROUND - 3600 and max(rounds) <= ROUND
    # Without a session there is nothing to see.
    assert Client().get(f"{path}?{query}&format=json").status_code in (401, 403)


def listing(client, **query):
    response = client.get("/sharing/snapshots/", query)
    assert response.status_code == 200
    return response.content.decode()


def row_order(html) -> list[str]:
    return re.findall(r'class="snapshot-row[^"]*" data-link-id="([a-z2-7]+)"', html)


def test_the_snapshots_page_sorts_by_any_column_both_ways_and_groups_a_tests_links(cast):
    edge, shop = seeded(cast, "edge"), seeded(cast, "shop")
    a = make_snapshot(cast.owner, edge, anchor=ROUND, display_name="first")
    b = make_snapshot(cast.owner, edge, anchor=ROUND - 3600, display_name="second")
    c = make_snapshot(cast.owner, shop, anchor=ROUND - 7200, display_name="third", position="ending")
    for snapshot, visits in ((a, 1), (b, 5), (c, 3)):
        SnapshotVisit.objects.bulk_create([SnapshotVisit(snapshot=snapshot, ip="198.51.100.1") for _ in range(visits)])
    client = signed_in(cast.owner)
    html = listing(client, sort="visits", dir="desc")
    # Grouped by test, the test with the most visited link first; its links told apart in an expandable group.
    assert row_order(html) == [b.link_id, a.link_id, c.link_id]
    assert "2 snapshots" in html and 'data-toggle="g' in html
    assert "ending at 2026-11-22 07:00 UTC" in html  # Snapshot Date, its position in words
    ascending = listing(client, sort="visits", dir="asc")
    assert row_order(ascending) == [c.link_id, a.link_id, b.link_id]
    # The sorted heading's link reverses the order.
    assert 'aria-sort="descending"><a href="/sharing/snapshots/?tab=group&amp;sort=visits&amp;dir=asc"' in html
    by_name = listing(client, sort="name", dir="asc")
    assert row_order(by_name)[-1] == c.link_id
    assert row_order(listing(client, sort="name", dir="desc"))[0] == c.link_id
    assert [h for h in re.findall(r'data-column="(\w+)"', html)] == ["name", "date", "created", "visits"]


def test_the_expanded_row_shows_the_link_recent_visits_comment_setting_and_expiry(cast):
    test = seeded(cast)
    snapshot = make_snapshot(cast.owner, test, anchor=ROUND, display_name="<script>x</script>")
    Client().get(f"/s/{snapshot.link_id}/", REMOTE_ADDR="203.0.113.7")
    visitor = Client()
    visitor.force_login(cast.teammate.user)
    visitor.get(f"/s/{snapshot.link_id}/", REMOTE_ADDR="203.0.113.8")
    SnapshotVisit.objects.filter(ip="203.0.113.7").update(date=timezone.now() - timedelta(hours=3))
    html = listing(signed_in(cast.owner))
    assert f"http://testserver/s/{snapshot.link_id}/" in html or f"/s/{snapshot.link_id}/" in html
    assert "3\xa0hours ago" in html and "203.0.113.7" in html and "anonymous visitor" in html
    assert "Tom Mate" in html and "mate@acme.test" in html and "203.0.113.8" in html
    assert "Only signed-in users may comment" in html and "Expires:" in html
    assert "This cannot be undone" in html
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_updating_the_comment_restriction_and_expiry(cast):
    snapshot = make_snapshot(cast.owner, seeded(cast), anchor=ROUND)
    client = signed_in(cast.owner)
    url = f"/sharing/snapshots/{snapshot.link_id}/update/"
    assert client.post(url, {"signed_in_only": "on", "expiry": "1"}).status_code == 302
    snapshot.refresh_from_db()
    assert snapshot.comments_signed_in_only
    assert timedelta(hours=23) < snapshot.expires_date - timezone.now() <= timedelta(days=1)
    client.post(url, {"expiry": "never"})
    snapshot.refresh_from_db()
    assert snapshot.expires_date is None and not snapshot.comments_signed_in_only
    client.post(url, {"expiry": "9999"})
    snapshot.refresh_from_db()
    assert snapshot.expires_date is None


def test_who_may_revoke_and_that_the_link_dies(cast):
    test = seeded(cast)
    snapshot = make_snapshot(cast.owner, test, anchor=ROUND)
    url = f"/sharing/snapshots/{snapshot.link_id}/revoke/"
    # Another organization or account group: 404, whatever they hold.
    assert signed_in(cast.other_org).post(url).status_code == 404
    assert signed_in(cast.other_group).post(url).status_code == 404
    # A member whose role may create snapshots but not edit everyone's: refused, the link lives.
    creator_only = person_with("creator@acme.test", "Acme", "Ops", [roles.VIEW_TESTS, roles.CREATE_SNAPSHOTS])
    refused = signed_in(creator_only).post(url, follow=True)
    assert "Only its creator" in refused.content.decode()
    assert Client().get(f"/s/{snapshot.link_id}/").status_code == 200
    html = listing(signed_in(creator_only))
    assert snapshot.link_id not in html or "revoke-form" not in html
    # The creator revokes; the link is 404 at once.
    assert signed_in(cast.owner).post(url).status_code == 302
    assert not Snapshot.objects.filter(id=snapshot.id).exists()
    assert Client().get(f"/s/{snapshot.link_id}/").status_code == 404


def test_shared_with_me_and_saved_events(cast):
    test = seeded(cast)
    mailed = make_snapshot(cast.owner, test, anchor=ROUND, recipients=["mate@acme.test"], display_name="for Tom")
    saved = make_snapshot(cast.owner, test, anchor=ROUND, is_public=False, display_name="incident 42")
    mate = signed_in(cast.teammate)
    with_me = listing(mate, tab="with-me")
    assert row_order(with_me) == [mailed.link_id]
    assert 'data-column="creator"' in with_me and "Owner" in with_me or "owner@acme.test" in with_me
    saved_html = listing(mate, tab="saved")
    assert row_order(saved_html) == [saved.link_id] and "saved event" in saved_html
    assert saved.link_id not in listing(mate) and mailed.link_id in listing(mate)
    assert row_order(listing(signed_in(cast.other_group), tab="saved")) == []
    assert row_order(listing(mate, tab="nonsense")) == row_order(listing(mate))  # unknown tab: the first one


def test_a_recipient_in_another_organization_sees_the_link_test_window_and_sharer_but_no_visits_or_saved_events(cast):
    test = seeded(cast, name="checkout edge")
    mailed = make_snapshot(
        cast.owner,
        test,
        anchor=ROUND,
        recipients=["admin@globex.test", "dev@acme.test", "mate@acme.test"],
        display_name="for you",
    )
    saved = make_snapshot(
        cast.owner,
        test,
        anchor=ROUND,
        is_public=False,
        recipients=["admin@globex.test", "dev@acme.test", "mate@acme.test"],
        display_name="members only 42",
    )
    Client().get(f"/s/{mailed.link_id}/", REMOTE_ADDR="203.0.113.7")
    visitor = Client()
    visitor.force_login(cast.teammate.user)
    visitor.get(f"/s/{mailed.link_id}/", REMOTE_ADDR="203.0.113.8")
    visitor.get(f"/s/{saved.link_id}/", REMOTE_ADDR="203.0.113.9")

    for stranger in (cast.other_org, cast.other_group):
        html = listing(signed_in(stranger), tab="with-me")
        # What a recipient sees: the link, the test name, the window and who shared it.
        assert row_order(html) == [mailed.link_id]
        assert f"/s/{mailed.link_id}/" in html and "checkout edge" in html and "Olive Owner" in html
        assert "2026-11-22 09:00 – 2026-11-22 11:00 UTC" in html
        # Never other people's visits: no address, name, login or count of anyone who opened it.
        for leak in ("203.0.113.", "Tom Mate", "mate@acme.test", "anonymous visitor", "Most recent visits"):
            assert leak not in html, leak
        assert 'data-column="visits"' not in html and 'class="num visits"' not in html
        # Never a saved event of a group they are not in, whoever it was e-mailed to.
        assert saved.link_id not in html and "members only 42" not in html
        # The API tells them nothing either.
        for snapshot in (mailed, saved):
            assert stranger.client.get(f"/v6/snapshots/{snapshot.link_id}.json").status_code == 404
    # A member of the saved event's group it was e-mailed to still finds it under Shared with me.
    assert sorted(row_order(listing(signed_in(cast.teammate), tab="with-me"))) == sorted(
        [mailed.link_id, saved.link_id]
    )
