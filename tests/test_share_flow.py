"""The share flow (issue 22): one share action makes one snapshot. The share panel's per-render idempotency key (and
the API's Idempotency-Key header) makes a doubled or retried creation return the snapshot the first one made —
nothing created twice, nothing e-mailed twice, the organization's creation limit spent once; "E-mail it" sends that
same snapshot; the window preview says what the snapshot will store; a guest may comment only where the creator
allowed it; the note shows on the page only when ticked; Sharing › Snapshots sorts groups by their latest date."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from spyglass.accounts.roles import access_for
from spyglass.lib.rounds import round_of
from spyglass.mail import outbox
from spyglass.mail.models import OutboxMessage
from spyglass.monitoring.seed import seed
from spyglass.sharing import services
from spyglass.sharing.errors import Forbidden, SharingError
from spyglass.sharing.models import Snapshot, SnapshotCreation, SnapshotRecipient
from tests.conftest import make_snapshot, make_test
from tests.web_support import signed_in

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC
KEY = "panel-key-0123456789"


def seeded(cast, name="edge"):
    test = make_test(cast.owner, name=name, interval=60)
    seed(test, agents=2, hours=8, random_seed=3, now=ROUND + 4 * 3600)
    return test


def panel_form(test, **values):
    form = {
        "display_name": "Outage",
        "hours": "2",
        "position": "around",
        "round_id": str(ROUND),
        "view": "latency",
        "expiry": "7",
        "action": "link",
        "idempotency_key": KEY,
        "agents": [str(a) for a in test.agents.values_list("id", flat=True)],
    }
    form.update(values)
    return form


def panel_key(html: str) -> str:
    return re.search(r'name="idempotency_key" id="share-idempotency-key" value="([^"]+)"', html).group(1)


# --- service -------------------------------------------------------------------------------------------------------


def test_the_same_key_returns_the_same_snapshot_and_spends_the_limit_once(cast, settings):
    settings.SNAPSHOT_RATE = [(2, 300)]
    test = seeded(cast)
    first = make_snapshot(cast.owner, test, anchor=ROUND, idempotency_key=KEY, recipients=["noc@isp.example"])
    again = make_snapshot(cast.owner, test, anchor=ROUND, idempotency_key=KEY, recipients=["noc@isp.example"])
    assert again.id == first.id and again.replayed and not first.replayed
    assert Snapshot.objects.count() == 1 and SnapshotCreation.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="snapshot-share").count() == 1  # e-mailed once
    # The limit (2 per 5 minutes) still has one left: a new key makes the second snapshot, a third is refused.
    make_snapshot(cast.owner, test, anchor=ROUND, idempotency_key="another-key-1")
    with pytest.raises(SharingError, match="limit reached"):
        make_snapshot(cast.owner, test, anchor=ROUND, idempotency_key="another-key-2")
    # …but a retry of a snapshot already made is answered even at the limit: it spends nothing.
    assert make_snapshot(cast.owner, test, anchor=ROUND, idempotency_key=KEY).id == first.id


def test_keys_are_per_creator_and_malformed_keys_are_refused(cast):
    test = seeded(cast)
    mine = make_snapshot(cast.owner, test, anchor=ROUND, idempotency_key=KEY)
    theirs = make_snapshot(cast.teammate, test, anchor=ROUND, idempotency_key=KEY)
    assert mine.id != theirs.id and Snapshot.objects.count() == 2
    with pytest.raises(SharingError, match="already used for another snapshot"):
        make_snapshot(cast.owner, seeded(cast, "another test"), anchor=ROUND, idempotency_key=KEY)
    for bad in ("short", "x" * 65, "has space in it", "ümlaut-key-123"):
        with pytest.raises(SharingError, match="8 to 64"):
            make_snapshot(cast.owner, test, anchor=ROUND, idempotency_key=bad)
    assert Snapshot.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="concurrent writing transactions need the PostgreSQL run (scripts/test.sh runs it)",
)
def test_concurrent_creations_with_one_key_make_one_snapshot(cast, settings):
    """Two requests with the same key at the same moment (a double click that got past the disabled button, a proxy
    retrying): the organization's lock orders them, the second finds the first's snapshot."""
    settings.SNAPSHOT_RATE = [(100, 60)]
    test = seeded(cast)
    access = access_for(cast.owner.user, test.account_group_id)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def create():
        try:
            barrier.wait()
            snapshot = services.create_snapshot(
                access, test.id, display_name="race", hours=1, anchor=ROUND, idempotency_key=KEY
            )
            results.append(snapshot.id)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert Snapshot.objects.count() == 1 and SnapshotCreation.objects.count() == 1


def test_new_snapshots_take_comments_from_signed_in_users_only_unless_opened(cast):
    test = seeded(cast)
    closed = make_snapshot(cast.owner, test, anchor=ROUND)
    assert closed.comments_signed_in_only
    with pytest.raises(Forbidden):
        services.post_comment(closed, body="hi", name="Aaron Admin")
    opened = make_snapshot(cast.owner, test, anchor=ROUND, comments_signed_in_only=False)
    comment = services.post_comment(opened, body="hi", name="Aaron Admin")
    assert comment.by_guest


def test_email_it_sends_the_same_snapshot_and_only_its_editors_may(cast, smtp):
    test = seeded(cast)
    snapshot = make_snapshot(cast.owner, test, anchor=ROUND, display_name="Outage")
    owner = access_for(cast.owner.user, test.account_group_id)
    assert services.email_snapshot(owner, snapshot, ["NOC@isp.example", "noc@isp.example"]) == ["noc@isp.example"]
    assert Snapshot.objects.count() == 1
    assert list(SnapshotRecipient.objects.values_list("email", flat=True)) == ["noc@isp.example"]
    outbox.deliver_due()
    [(to, message)] = smtp.recorder.received
    assert to == ["noc@isp.example"] and snapshot.link_id in message.get_body(("plain",)).get_content()
    with pytest.raises(SharingError, match="at least one"):
        services.email_snapshot(owner, snapshot, [])
    with pytest.raises(Forbidden):
        services.email_snapshot(access_for(cast.regular.user, test.account_group_id), snapshot, ["a@b.example"])


# --- web ------------------------------------------------------------------------------------------------------------


def test_a_retried_panel_post_makes_one_snapshot_and_answers_it(cast):
    test = seeded(cast)
    client = signed_in(cast.owner)
    page = client.get(f"/tests/{test.id}/?roundId={ROUND}").content.decode()
    key = panel_key(page)
    assert len(key) >= 20 and key != panel_key(client.get(f"/tests/{test.id}/").content.decode())  # per render
    form = panel_form(test, idempotency_key=key, action="share", recipients="noc@isp.example")
    first = client.post(f"/tests/{test.id}/snapshots/", form, headers={"HX-Request": "true"})
    second = client.post(f"/tests/{test.id}/snapshots/", form, headers={"HX-Request": "true"})
    snapshot = Snapshot.objects.get()
    assert first.status_code == 201 and second.status_code == 200
    for response in (first, second):
        html = response.content.decode()
        assert f"/s/{snapshot.link_id}/" in html and 'id="share-copy"' in html
        assert f"/sharing/snapshots/{snapshot.link_id}/email/" in html  # E-mail it: this snapshot
        assert f"/sharing/snapshots/{snapshot.link_id}/revoke/" in html and "New snapshot" in html
        assert "noc@isp.example" in html
    assert "already created" in second.content.decode()
    assert OutboxMessage.objects.filter(kind="snapshot-share").count() == 1 and SnapshotCreation.objects.count() == 1
    # "New snapshot" carries a fresh key: posting with it makes a second snapshot.
    new_key = re.search(r'data-new-key="([^"]+)"', first.content.decode()).group(1)
    assert new_key != key
    assert client.post(f"/tests/{test.id}/snapshots/", panel_form(test, idempotency_key=new_key)).status_code == 201
    assert Snapshot.objects.count() == 2


def test_email_it_in_the_panel_sends_the_link_already_made(cast):
    test = seeded(cast)
    client = signed_in(cast.owner)
    client.post(f"/tests/{test.id}/snapshots/", panel_form(test))
    snapshot = Snapshot.objects.get()
    url = f"/sharing/snapshots/{snapshot.link_id}/email/"
    bad = client.post(url, {"email_to": "not an address"}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "is not an e-mail address" in bad.content.decode()
    assert not OutboxMessage.objects.exists()
    sent = client.post(url, {"email_to": "noc@isp.example, ops@isp.example"}, headers={"HX-Request": "true"})
    assert sent.status_code == 200 and "noc@isp.example, ops@isp.example" in sent.content.decode()
    assert Snapshot.objects.count() == 1
    messages = OutboxMessage.objects.filter(kind="snapshot-share")
    assert sorted(m.to[0] for m in messages) == ["noc@isp.example", "ops@isp.example"]
    assert all(snapshot.link_id in m.body_text for m in messages)
    # Another account group's snapshot is a 404, never a 403.
    assert signed_in(cast.other_group).post(url, {"email_to": "x@y.example"}).status_code == 404


def test_revoke_in_the_panel_answers_in_the_panel(cast):
    test = seeded(cast)
    client = signed_in(cast.owner)
    client.post(f"/tests/{test.id}/snapshots/", panel_form(test))
    snapshot = Snapshot.objects.get()
    response = client.post(f"/sharing/snapshots/{snapshot.link_id}/revoke/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "no longer works" in response.content.decode()
    assert "New snapshot" in response.content.decode() and not Snapshot.objects.exists()
    assert Client().get(f"/s/{snapshot.link_id}/").status_code == 404


def test_the_panel_defaults_to_signed_in_comments_and_the_creator_may_open_them(cast):
    test = seeded(cast)
    client = signed_in(cast.owner)
    client.post(f"/tests/{test.id}/snapshots/", panel_form(test, idempotency_key="key-one-1234"))
    client.post(f"/tests/{test.id}/snapshots/", panel_form(test, idempotency_key="key-two-1234", guest_comments="on"))
    closed, opened = Snapshot.objects.order_by("id")
    assert closed.comments_signed_in_only and not opened.comments_signed_in_only


def test_the_note_shows_on_the_page_only_when_ticked(cast):
    test = seeded(cast)
    client = signed_in(cast.owner)
    note = "Loss from <b>Frankfurt</b> since 09:00"
    client.post(f"/tests/{test.id}/snapshots/", panel_form(test, idempotency_key="key-one-1234", note=note))
    form = panel_form(test, idempotency_key="key-two-1234", note=note, show_note="on")
    client.post(f"/tests/{test.id}/snapshots/", form)
    hidden, shown = Snapshot.objects.order_by("id")
    assert hidden.note == note and not hidden.show_note and shown.show_note
    assert "Frankfurt" not in Client().get(f"/s/{hidden.link_id}/").content.decode()
    page = Client().get(f"/s/{shown.link_id}/").content.decode()
    assert '<p class="note">Loss from &lt;b&gt;Frankfurt&lt;/b&gt; since 09:00</p>' in page


def test_the_window_preview_says_a_window_reaching_past_now_is_clipped_where_the_snapshot_ends(cast):
    test = seeded(cast)
    client = signed_in(cast.owner)
    url = f"/tests/{test.id}/snapshots/window/"
    past = client.get(url, {"round_id": ROUND, "hours": 2, "position": "around"}).content.decode()
    assert "2026-11-22 08:00 – 2026-11-22 10:00 UTC" in past and "clipped" not in past
    recent = round_of(timezone.now().timestamp(), 60) - 600  # ten minutes ago: 48 h around it ends tomorrow
    preview = client.get(url, {"round_id": recent, "hours": 48, "position": "around"}).content.decode()
    assert "the window is clipped" in preview and "ends at now" in preview
    # What the snapshot then stores ends where the preview said.
    response = client.post(
        f"/tests/{test.id}/snapshots/", panel_form(test, round_id=str(recent), hours="48", position="around")
    )
    snapshot = Snapshot.objects.get()
    end = datetime.fromtimestamp(snapshot.end_round, tz=UTC).strftime("%H:%M")
    assert f"ends at now, {end} UTC" in preview
    assert snapshot.end_round <= timezone.now().timestamp() and end in response.content.decode()
    future = client.get(url, {"round_id": recent + 2 * 86400, "hours": 1, "position": "starting"}).content.decode()
    assert "in the future" in future
    bad = client.get(url, {"round_id": "x", "hours": 5, "position": "around"})
    assert bad.status_code == 200 and "round" in bad.content.decode()
    assert signed_in(cast.other_group).get(url, {"round_id": ROUND, "hours": 2}).status_code == 404


def test_an_account_admin_reads_why_other_customers_is_missing(cast):
    test = seeded(cast)
    html = signed_in(cast.owner).get(f"/tests/{test.id}/edit/").content.decode()  # owner: Account Admin
    assert 'id="customers-permission-hint"' in html
    assert "Create live shares for outside the organization" in html and "Account Admin" in html
    admin = signed_in(cast.teammate).get(f"/tests/{test.id}/edit/").content.decode()  # Organization Admin
    assert 'id="customers-permission-hint"' not in admin and "Share with other customers" in admin


def test_grouped_rows_sort_by_their_latest_date_both_ways(cast):
    older, newer = seeded(cast, "older test"), seeded(cast, "newer test")
    now = timezone.now()
    for test, round_id, days in ((older, ROUND - 3 * 3600, 5), (older, ROUND, 1), (newer, ROUND - 3600, 3)):
        snapshot = make_snapshot(cast.owner, test, hours=1, anchor=round_id)
        Snapshot.objects.filter(id=snapshot.id).update(created_date=now - timedelta(days=days))
    # older: snapshots at 06:00 (5 days ago) and 09:00 (1 day ago) — its latest beats newer's 08:00 (3 days ago).
    client = signed_in(cast.owner)
    for sort in ("date", "created"):
        for direction, expected in (("desc", ["older test", "newer test"]), ("asc", ["newer test", "older test"])):
            html = client.get(f"/sharing/snapshots/?tab=group&sort={sort}&dir={direction}").content.decode()
            names = re.findall(r'(?:class="strong test-name">|<span class="strong">)([^<]+)', html)
            assert [n.strip() for n in names] == expected, (sort, direction, names)


# --- API ------------------------------------------------------------------------------------------------------------


def test_a_v6_create_retried_with_its_idempotency_key_makes_one_snapshot(cast, settings):
    settings.SNAPSHOT_RATE = [(1, 300)]
    test = seeded(cast)
    body = {"testId": test.id, "displayName": "for the ISP", "from": "2026-11-22 08:00:00", "to": "2026-11-22 09:00:00"}
    first = cast.owner.client.post("/v6/snapshot.json", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = cast.owner.client.post("/v6/snapshot.json", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert first.status_code == again.status_code == 201, again.content
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Snapshot.objects.count() == 1 and SnapshotCreation.objects.count() == 1  # the one creation allowed
    assert Snapshot.objects.get().comments_signed_in_only  # the new default
    # Without a key (or with another), a retry is a new creation: here refused by the limit of 1.
    assert cast.owner.client.post("/v6/snapshot.json", body, format="json").status_code == 429
    bad = cast.owner.client.post("/v6/snapshot.json", body, format="json", HTTP_IDEMPOTENCY_KEY="no spaces please")
    assert bad.status_code == 400 and "idempotencyKey" in bad.json()["errorMessage"]


def test_a_v7_create_retried_with_its_idempotency_key_makes_one_snapshot(cast):
    test = seeded(cast)
    body = {"displayName": "for the ISP", "startDate": "2026-11-22T08:00:00Z", "endDate": "2026-11-22T09:00:00Z"}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {cast.owner.token}")
    answers = [
        client.post(f"/v7/tests/{test.id}/snapshot", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY)
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201] and answers[0].json() == answers[1].json()
    assert Snapshot.objects.count() == 1 and SnapshotCreation.objects.count() == 1
