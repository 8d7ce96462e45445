"""What the share page stores once per snapshot (per-round rollups, the rendered frozen part of the page) never shows
anything the live computation would not; repeat views cost a constant one or two queries; revocation, visits, comments
and the miss limit behave as without it; and anything that can change what a snapshot shows drops what was stored."""

import re
from dataclasses import replace

from django.db import connection
from django.db.models import F
from django.test import Client, RequestFactory

from spyglass.accounts.models import User
from spyglass.monitoring import results, timeline
from spyglass.monitoring.models import Agent, NetResult
from spyglass.monitoring.seed import seed
from spyglass.results_ui.component import component_context, render_component, requested
from spyglass.sharing import stored, views
from spyglass.sharing.models import Snapshot, SnapshotRender, SnapshotRollup, SnapshotVisit
from spyglass.sharing.services import update_snapshot
from tests.conftest import make_snapshot, make_test

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC


def snapshot_of(cast, test_type="agent-to-server", agents=3, **options):
    test = make_test(cast.owner, test_type, name=options.pop("name", "edge <b>"), interval=60)
    seed(test, agents=agents, hours=6, random_seed=7, now=ROUND + 3 * 3600)
    options.setdefault("display_name", "outage <i>")
    return make_snapshot(cast.owner, test, hours=2, anchor=ROUND, position="around", **options)


def fresh_component(snapshot, query="") -> str:
    """The results component computed live for this request: no stored rollups, no stored render."""
    snapshot = Snapshot.objects.select_related("test").get(id=snapshot.id)
    request = RequestFactory().get(f"/s/{snapshot.link_id}/{query}")
    scope = replace(views.results_scope(snapshot), timelines=None)
    round_id, view_key, _ = requested(request, snapshot.round_id, snapshot.view or None)
    return render_component(component_context(request, scope, round_id, view_key, views._component_extra(snapshot)))


def get(client, snapshot, query="", **headers):
    return client.get(f"/s/{snapshot.link_id}/{query}", REMOTE_ADDR="198.51.100.7", **headers)


QUERIES = ["", "?view=jitter", f"?roundId={ROUND + 600}&view=loss", f"?roundId={ROUND - 99999}", "?view=nope"]


def test_the_stored_page_holds_exactly_the_live_component_for_every_round_and_view(cast):
    snapshot = snapshot_of(cast, view="latency")
    client = Client()
    for query in QUERIES:
        first = get(client, snapshot, query).content.decode()
        again = get(client, snapshot, query).content.decode()
        assert fresh_component(snapshot, query) in first
        assert fresh_component(snapshot, query) in again
    # Later writes inside the window (a re-import replacing rows, rows arriving late) change nothing shown.
    rows = list(NetResult.objects.filter(test=snapshot.source_test, round_id=ROUND).values())
    for row in rows:
        row.pop("id")
        row["avg_latency"] = 987.0
    results.upsert("net", rows)
    for query in QUERIES:
        assert fresh_component(snapshot, query) in get(client, snapshot, query).content.decode()


def test_the_stored_rollups_equal_the_live_timeline_of_every_view(cast):
    for test_type in ("agent-to-server", "http-server", "dns-server"):
        snapshot = snapshot_of(cast, test_type, name=f"t {test_type}")
        snapshot = Snapshot.objects.select_related("test").get(id=snapshot.id)
        rows = views.results_scope(snapshot).rows
        provide = stored.timelines_of(snapshot, rows)
        for view in timeline.views_for(snapshot.test):
            assert provide(view) == timeline.timeline(rows, view), (test_type, view.key)
        assert SnapshotRollup.objects.filter(snapshot=snapshot).count() == 1
        # Read back from the database by another request (a fresh provider), not from this one's memory.
        again = stored.timelines_of(snapshot, rows)
        assert all(again(v) == timeline.timeline(rows, v) for v in timeline.views_for(snapshot.test))


def test_a_repeat_view_is_one_or_two_queries_whatever_the_window_and_agents(cast, django_assert_num_queries):
    small = snapshot_of(cast, agents=2, name="small")
    big = snapshot_of(cast, agents=6, name="big")
    client = Client()
    # The link (with the stored page, counts) and the visit INSERT: one statement on PostgreSQL (page_visit).
    page_queries = 1 if connection.vendor == "postgresql" else 2
    for snapshot in (small, big):
        get(client, snapshot)
        with django_assert_num_queries(page_queries):
            response = get(client, snapshot)
        assert response.status_code == 200
        assert SnapshotVisit.objects.filter(snapshot=snapshot).count() == 2
        client.get(f"/s/{snapshot.link_id}/results?view=jitter", HTTP_HX_REQUEST="true")
        with django_assert_num_queries(1):  # the View switch's htmx request: no visit
            part = client.get(f"/s/{snapshot.link_id}/results?view=jitter", HTTP_HX_REQUEST="true")
        assert part.status_code == 200 and '<div id="results"' in part.content.decode()


def test_visits_are_counted_exactly_and_comments_stay_live(cast):
    snapshot = snapshot_of(cast, comments_signed_in_only=False)  # a guest comments below
    client = Client()
    for n in range(1, 6):
        html = get(client, snapshot).content.decode()
        assert f'<dd class="visits">{n}</dd>' in html
    assert SnapshotVisit.objects.filter(snapshot=snapshot).count() == 5
    token = html.split('name="token" value="')[1].split('"')[0]
    posted = client.post(f"/s/{snapshot.link_id}/comments", {"token": token, "name": "Pat", "body": "<b>hi</b>"})
    assert posted.status_code == 303
    html = get(client, snapshot).content.decode()
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "1 comment<" in html and "<b>hi</b>" not in html
    assert '<span class="count-badge" id="comment-count">1</span>' in html  # the Messenger link's count, live too
    member = Client()
    member.force_login(cast.teammate.user)
    signed = get(member, snapshot).content.decode()
    assert "Commenting as Tom Mate" in signed and "Commenting as" not in get(Client(), snapshot).content.decode()
    # The form's signed token is made per request; only one stored page exists for all of them.
    assert SnapshotRender.objects.filter(snapshot=snapshot, key__contains="|page|d|d").count() == 1
    assert "<!--spyglass:" not in signed


def test_revocation_and_expiry_are_immediate_with_a_stored_page(cast):
    snapshot = snapshot_of(cast)
    client = Client()
    assert get(client, snapshot).status_code == 200
    assert get(client, snapshot).status_code == 200
    assert cast.owner.client.post(f"/v6/snapshots/{snapshot.link_id}/delete.json").status_code == 204
    assert get(client, snapshot).status_code == 404
    assert client.get(f"/s/{snapshot.link_id}/results").status_code == 404
    assert not SnapshotRender.objects.filter(snapshot_id=snapshot.id).exists()
    other = snapshot_of(cast, name="other")
    get(client, other)
    Snapshot.objects.filter(id=other.id).update(expires_date=F("created_date"))
    assert get(client, other).status_code == 410


def test_a_saved_event_stays_members_only_with_a_stored_page(cast):
    saved = snapshot_of(cast, is_public=False)
    member = Client()
    member.force_login(cast.teammate.user)
    assert get(member, saved).status_code == 200
    assert get(Client(), saved).status_code == 404
    outsider = Client()
    outsider.force_login(cast.other_org.user)
    assert get(outsider, saved).status_code == 404


def test_what_can_change_a_snapshots_page_drops_what_was_stored(cast):
    snapshot = snapshot_of(cast)
    client = Client()
    get(client, snapshot)
    update_snapshot_as_owner(cast, snapshot, {"display_name": "renamed <u>"})
    html = get(client, snapshot).content.decode()
    assert "renamed &lt;u&gt;" in html and "outage &lt;i&gt;" not in html

    agent = Agent.objects.filter(tests=snapshot.source_test).order_by("name").first()
    agent.name = "Renamed agent"
    agent.save()
    assert "Renamed agent" in get(client, snapshot).content.decode()
    assert fresh_component(snapshot) in get(client, snapshot).content.decode()

    creator = User.objects.get(id=snapshot.created_by_id)
    creator.name = "New Name"
    creator.save()
    assert '<dd class="creator">New Name</dd>' in get(client, snapshot).content.decode()

    Agent.objects.filter(id=agent.id).delete()  # its rows go with it, also inside the frozen window
    html = get(client, snapshot).content.decode()
    assert "Renamed agent" not in html and fresh_component(snapshot) in html
    assert "(2 agents)" in html


def update_snapshot_as_owner(cast, snapshot, changes):
    from spyglass.accounts.roles import access_for

    update_snapshot(access_for(cast.owner.user, snapshot.account_group_id), snapshot, changes)


def test_junk_parameters_are_answered_but_never_stored_and_renders_are_bounded(cast, settings):
    settings.SHARE_MISS_LIMIT_PER_MINUTE = 10**6
    snapshot = snapshot_of(cast)
    client = Client()
    for query in ("?view=nope", f"?roundId={ROUND + 1}", "?roundId=abc", f"?roundId={ROUND}&agentId=5"):
        assert get(client, snapshot, query).status_code == 200
    assert not SnapshotRender.objects.filter(snapshot=snapshot).exists()
    rounds = range(snapshot.start_round, snapshot.start_round + 60 * (stored.RENDERS_KEPT + 10), 60)
    get(client, snapshot)
    for round_id in rounds:
        assert get(client, snapshot, f"?roundId={round_id}").status_code == 200
    kept = SnapshotRender.objects.filter(snapshot=snapshot)
    assert kept.count() == stored.RENDERS_KEPT + 1  # the newest, and the page as its creator opens it
    assert kept.filter(key__endswith="|page|d|d").exists()


def test_an_address_over_the_miss_limit_gets_429_for_unknown_ids_only(cast, settings):
    settings.SHARE_MISS_LIMIT_PER_MINUTE = 3
    snapshot = snapshot_of(cast)
    client = Client()
    codes = [client.get(f"/s/{'a' * 32}/", REMOTE_ADDR="192.0.2.9").status_code for _ in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    # A link that exists is served without consulting the limit (ids are 160 random bits: a hit is never a guess).
    assert client.get(f"/s/{snapshot.link_id}/", REMOTE_ADDR="192.0.2.9").status_code == 200
    assert client.get(f"/s/{'b' * 32}/", REMOTE_ADDR="192.0.2.9").status_code == 429


def test_the_page_keeps_its_headers_and_no_inline_script(cast):
    snapshot = snapshot_of(cast)
    client = Client()
    for _ in range(2):
        response = get(client, snapshot)
        assert response["Cache-Control"] == "private, no-store" and response["Referrer-Policy"] == "no-referrer"
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        html = response.content.decode()
        assert not re.search(r"<script[^>]*>[^<]", html) and "edge &lt;b&gt;" in html


def test_the_visit_tally_follows_every_insert_and_delete_of_a_visit(cast):
    from django.db.models import Sum

    from spyglass.sharing.models import SnapshotVisitTally

    snapshot = snapshot_of(cast)
    other = snapshot_of(cast, name="other")

    def tally(s):
        return SnapshotVisitTally.objects.filter(snapshot=s).aggregate(n=Sum("visits"))["n"] or 0

    SnapshotVisit.objects.bulk_create([SnapshotVisit(snapshot=snapshot, ip="192.0.2.1") for _ in range(37)])
    SnapshotVisit.objects.create(snapshot=other, ip="192.0.2.2")
    get(Client(), snapshot)
    assert tally(snapshot) == SnapshotVisit.objects.filter(snapshot=snapshot).count() == 38
    assert tally(other) == 1 and SnapshotVisitTally.objects.filter(snapshot=snapshot).count() == 16
    SnapshotVisit.objects.filter(
        snapshot=snapshot, id__in=SnapshotVisit.objects.order_by("id").values("id")[:5]
    ).delete()
    assert tally(snapshot) == SnapshotVisit.objects.filter(snapshot=snapshot).count() == 33
    assert '<dd class="visits">34</dd>' in get(Client(), snapshot).content.decode()
    assert cast.owner.client.post(f"/v6/snapshots/{snapshot.link_id}/delete.json").status_code == 204
    assert not SnapshotVisitTally.objects.filter(snapshot_id=snapshot.id).exists() and tally(other) == 1
