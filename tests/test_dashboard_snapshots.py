"""Dashboard snapshots (issue 23): a dashboard frozen into a share link — its widgets' windows read as they were,
nothing copied, within what the group could see; the share page signed out; revoke; tenancy; the creation limit; a
live share's end taking its widget's data with it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboards
from spyglass.monitoring.models import NetResult, RetentionPin
from spyglass.sharing import dashboard_snapshots, links
from spyglass.sharing.errors import Forbidden, RateLimited, SharingError
from spyglass.sharing.models import DashboardSnapshot, SnapshotCreation
from tests.conftest import make_agent
from tests.dashboard_support import NOW, build_board
from tests.liveshares.conftest import write_net_rounds
from tests.web_support import signed_in


@pytest.fixture
def board(cast, dev, time_machine):
    """Dev's dashboard: its own test's latency over 1 h and loss over 24 h, and Ops' test live-shared with Dev 10
    minutes ago."""
    widgets = [("own", "latency", 3600), ("own", "loss", 24 * 3600), ("shared", "latency", 3600)]
    return build_board(cast, dev, time_machine, widgets)


def _values(items):
    return [[(p["roundId"], p["value"]) for p in item["data"]] for item in items]


def test_a_snapshot_freezes_every_widget_as_the_dashboard_showed_it_and_copies_nothing(cast, dev, board, time_machine):
    dashboard, own, shared, _ = board
    rows_before = NetResult.objects.count()
    shown = dashboards.widget_data(dev, dashboard)
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, expires_in_days=7)
    frozen = dashboard_snapshots.frozen_widget_data(snapshot)
    assert NetResult.objects.count() == rows_before  # nothing copied
    assert _values(frozen) == _values(shown)
    assert [w["testName"] for w in frozen] == ["dev api", "dev api", "ops edge"]
    # The shared test's widget starts at the share's creation, as on the dashboard.
    assert frozen[2]["data"][0]["roundId"] == NOW - 600
    # Its windows are pinned through retention and frozen (copy on write), one pin per widget that reads data.
    assert RetentionPin.objects.filter(reason=f"dashboard snapshot {snapshot.id}", copy_to__isnull=False).count() == 3
    # Later: new rounds, and a late row for a round inside the window; the dashboard moves on, the snapshot does not.
    time_machine.move_to(datetime.fromtimestamp(NOW + 600, UTC), tick=False)
    late = make_agent(cast.other_group, name="late agent")
    write_net_rounds(own, late, [NOW - 120], latency=5000.0)
    write_net_rounds(own, late, list(range(NOW + 60, NOW + 600, 60)), latency=5000.0)
    assert _values(dashboard_snapshots.frozen_widget_data(snapshot)) == _values(shown)
    assert _values(dashboards.widget_data(dev, dashboard)) != _values(shown)
    assert snapshot.expires_date == datetime.fromtimestamp(NOW + 30, UTC) + timedelta(days=7)


def test_one_window_for_every_widget_up_to_seven_days(dev, board):
    dashboard, *_ = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, window=6 * 3600)
    assert {w["period"] for w in dashboard_snapshots.frozen_widget_data(snapshot)} == {6 * 3600}
    for bad in (7 * 24 * 3600 + 1, 30, -1, True, "3600"):
        with pytest.raises(SharingError, match="window"):
            dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, window=bad)


def test_expiry_within_the_organizations_maximum(dev, board, settings):
    dashboard, *_ = board
    settings.SNAPSHOT_MAX_EXPIRY_DAYS = 7
    with pytest.raises(SharingError, match="at most 7 days"):
        dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, expires_in_days=None)
    with pytest.raises(SharingError, match="at most 7 days"):
        dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, expires_in_days=30)
    assert not DashboardSnapshot.objects.exists()


def test_creation_counts_toward_the_organizations_snapshot_limit(cast, dev, board, settings):
    dashboard, own, *_ = board
    settings.SNAPSHOT_RATE = [(2, 3600)]
    before = SnapshotCreation.objects.count()
    dashboard_snapshots.create_dashboard_snapshot(dev, dashboard)
    assert SnapshotCreation.objects.count() == before + 1
    # A test snapshot of the same organization shares the limit.
    from spyglass.sharing.services import create_snapshot

    create_snapshot(dev, own.id, display_name="one", hours=1, anchor=NOW - 3600)
    with pytest.raises(RateLimited, match="limit reached"):
        dashboard_snapshots.create_dashboard_snapshot(dev, dashboard)
    assert DashboardSnapshot.objects.count() == 1


def test_the_same_key_returns_the_snapshot_already_made(dev, board):
    dashboard, *_ = board
    first = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, idempotency_key="key-12345678")
    again = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, idempotency_key="key-12345678")
    assert (again.id, again.replayed, first.replayed) == (first.id, True, False)
    assert DashboardSnapshot.objects.count() == 1


def test_regular_users_cannot_create_one(cast, board):
    dashboard, *_ = board
    regular = access_for(cast.regular.user, None)
    with pytest.raises(Forbidden):
        dashboard_snapshots.create_dashboard_snapshot(regular, dashboards.default_dashboard(regular))


def test_a_live_share_ending_takes_its_widgets_data_and_pin_with_it(cast, dev, board):
    dashboard, own, shared, share = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard)
    link = f"/s/d/{snapshot.link_id}/"
    from django.test import Client

    page = Client().get(link).content.decode()
    assert page.count('class="widget-chart"') == 3
    assert cast.owner.client.post(f"/v6/live-shares/{share.id}/delete.json").status_code == 204
    items = dashboard_snapshots.frozen_widget_data(snapshot)
    assert [(w["state"], bool(w["data"])) for w in items] == [("ok", True), ("ok", True), ("no longer shared", False)]
    assert not RetentionPin.objects.filter(test=shared, reason=f"dashboard snapshot {snapshot.id}").exists()
    page = Client().get(link).content.decode()
    assert page.count('class="widget-chart"') == 2 and "No longer shared" in page
    assert Client().get(f"{link}widgets/2.json").json()["data"] == []


# --- the web app and the share page -------------------------------------------------------------------------------


def _create_in_web(client, **fields):
    data = {"window": "0", "expiry": "7", "idempotency_key": "k" * 20} | fields
    return client.post("/dashboard/snapshots/", data)


def test_snapshot_from_the_dashboard_page_and_open_it_signed_out(cast, board):
    client = signed_in(cast.other_group)
    page = client.get("/dashboard/").content.decode()
    assert "Snapshot this dashboard" in page and 'name="idempotency_key"' in page
    response = _create_in_web(client)
    assert response.status_code == 200
    snapshot = DashboardSnapshot.objects.get()
    url = f"/s/d/{snapshot.link_id}/"
    assert url in response.content.decode()
    assert len(snapshot.link_id) == 32  # 160 bits
    # The same form posted twice (a double click) is the same snapshot.
    assert _create_in_web(client).status_code == 200 and DashboardSnapshot.objects.count() == 1

    from django.test import Client

    stranger = Client()
    shown = stranger.get(url)
    assert shown.status_code == 200
    assert shown["Referrer-Policy"] == "no-referrer"
    assert shown["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in shown["Cache-Control"]
    html = shown.content.decode()
    assert "dev api" in html and "ops edge" in html and html.count('class="widget-chart"') == 3
    assert "<script>" not in html and "style=" not in html
    stranger.get(url)
    stranger.head(url)  # a HEAD shows nobody anything
    snapshot.refresh_from_db()
    assert snapshot.visits == 2
    download = stranger.get(f"{url}widgets/0.json")
    assert download.status_code == 200 and download["Referrer-Policy"] == "no-referrer"
    assert download.json()["testName"] == "dev api" and download.json()["data"]
    assert stranger.get(f"{url}widgets/9.json").status_code == 404


def test_bad_input_on_the_form_says_what_is_wrong_and_makes_nothing(cast, board):
    client = signed_in(cast.other_group)
    for fields, words in (({"window": "abc"}, "window"), ({"window": "1800"}, "window"), ({"expiry": "3"}, "expiry")):
        response = _create_in_web(client, **fields)
        assert response.status_code == 400 and words in response.content.decode()
    assert not DashboardSnapshot.objects.exists()


def test_malformed_unknown_revoked_and_expired_links(cast, dev, board):
    from django.test import Client

    dashboard, *_ = board
    stranger = Client()
    for bad in ("abc", "A" * 32, "a" * 31, "%00", "a" * 33):
        assert stranger.get(f"/s/d/{bad}/").status_code == 404
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, expires_in_days=1)
    url = f"/s/d/{snapshot.link_id}/"
    assert stranger.get(url).status_code == 200
    DashboardSnapshot.objects.filter(id=snapshot.id).update(expires_date=timezone.now() - timedelta(seconds=1))
    expired = stranger.get(url)
    assert expired.status_code == 410 and "has expired" in expired.content.decode()
    assert expired["Referrer-Policy"] == "no-referrer"
    response = signed_in(cast.other_group).post(f"/sharing/dashboard-snapshots/{snapshot.link_id}/revoke/")
    assert response.status_code == 302
    gone = stranger.get(url)
    assert gone.status_code == 404 and gone["X-Robots-Tag"] == "noindex, nofollow"
    assert not RetentionPin.objects.filter(reason=f"dashboard snapshot {snapshot.id}").exists()


def test_another_group_or_organization_gets_404_and_never_sees_it_listed(cast, dev, board):
    dashboard, *_ = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, display_name="Dev weekly")
    listing = signed_in(cast.other_group).get("/sharing/snapshots/?tab=dashboards").content.decode()
    assert "Dev weekly" in listing and f"/s/d/{snapshot.link_id}/" in listing
    for person in (cast.owner, cast.other_org):
        client = signed_in(person)
        assert "Dev weekly" not in client.get("/sharing/snapshots/?tab=dashboards").content.decode()
        assert client.post(f"/sharing/dashboard-snapshots/{snapshot.link_id}/revoke/").status_code == 404
    assert DashboardSnapshot.objects.filter(id=snapshot.id).exists()


def _dashboard_rows(html: str) -> list[str]:
    return re.findall(r'class="dashboard-snapshot-row" data-link-id="([a-z2-7]+)"', html)


def test_the_dashboard_snapshots_tab_sorts_by_any_column_both_ways_as_the_test_snapshots_tabs(
    cast, dev, board, time_machine
):
    """Name, create date, expiry (never the farthest), visits and creator, both ways, on SQLite and PostgreSQL."""
    dashboard, *_ = board
    made = {}
    for name, days, visits in (("beta", 30, 5), ("alpha", None, 1), ("gamma", 1, 9)):
        time_machine.shift(60)
        made[name] = dashboard_snapshots.create_dashboard_snapshot(
            dev, dashboard, display_name=name, expires_in_days=days
        )
        DashboardSnapshot.objects.filter(id=made[name].id).update(visits=visits)
    DashboardSnapshot.objects.filter(id=made["gamma"].id).update(created_by=None)  # a former user's
    alpha, beta, gamma = (made[n].link_id for n in ("alpha", "beta", "gamma"))
    client = signed_in(cast.other_group)

    def order(**query):
        html = client.get("/sharing/snapshots/", {"tab": "dashboards", **query}).content.decode()
        return _dashboard_rows(html), html

    rows, html = order()  # newest first, as the test snapshots' tabs
    assert rows == [gamma, alpha, beta]
    assert re.findall(r'<th data-column="(\w+)"', html) == [
        "name",
        "window",
        "widgets",
        "created",
        "expires",
        "visits",
        "creator",
    ]
    assert 'aria-sort="descending"><a href="/sharing/snapshots/?tab=dashboards&amp;sort=created&amp;dir=asc"' in html
    assert '<th data-column="window" class="">Window</th>' in html  # shown, not sortable
    for sort, ascending, descending in (
        ("name", [alpha, beta, gamma], [gamma, beta, alpha]),
        ("created", [beta, alpha, gamma], [gamma, alpha, beta]),
        ("expires", [gamma, beta, alpha], [alpha, beta, gamma]),  # never the farthest: last, or first
        ("visits", [alpha, beta, gamma], [gamma, beta, alpha]),
        ("creator", [alpha, beta, gamma], [gamma, alpha, beta]),  # a former user's last, or first; ties newest first
    ):
        rows, html = order(sort=sort, dir="asc")
        assert rows == ascending, sort
        assert f'data-column="{sort}" class="{"num" if sort == "visits" else ""}" aria-sort="ascending"' in html
        assert order(sort=sort, dir="desc")[0] == descending, sort
    # A first click on a date or on visits shows the newest or most visited first; an unknown key sorts by creation.
    assert order(sort="visits")[0] == [gamma, beta, alpha]
    assert order(sort="window")[0] == order(sort="bogus")[0] == [gamma, alpha, beta]


def test_shared_with_me_lists_the_dashboard_snapshots_emailed_to_me(cast, dev, board):
    """A recipient in another account group sees the link, who shared it and when, but no visits, expiry or revoke;
    someone not e-mailed sees nothing of it."""
    dashboard, *_ = board
    owner_email = cast.owner.user.email
    snapshot = dashboard_snapshots.create_dashboard_snapshot(
        dev, dashboard, display_name="Dev weekly", recipients=[owner_email.upper()]
    )
    quiet = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, display_name="Dev quiet")
    html = signed_in(cast.owner).get("/sharing/snapshots/", {"tab": "with-me"}).content.decode()
    assert _dashboard_rows(html) == [snapshot.link_id]
    assert (
        f'href="{links.view_url(snapshot.link_id, dashboard=True)}"' in html
        and "Dev weekly" in html
        and "Dev quiet" not in html
    )
    assert "Dashboard snapshots e-mailed to you" in html and "No snapshots have been e-mailed" not in html
    table = html[html.index('id="dashboard-snapshots-table"') :]
    assert re.findall(r'<th data-column="(\w+)"', table) == ["name", "window", "widgets", "created", "creator"]
    assert "revoke" not in table.lower() and "expiry" not in table.lower()
    assert "from Dev" in table and ">Gus Group<" in table  # whose it is and who shared it
    assert "1 snapshot" in html
    for person in (cast.other_group, cast.other_org, cast.teammate):
        other = signed_in(person).get("/sharing/snapshots/", {"tab": "with-me"}).content.decode()
        assert "Dev weekly" not in other and not _dashboard_rows(other)
    assert quiet.link_id not in html


# --- the API -------------------------------------------------------------------------------------------------------


def test_v6_lists_shows_gives_the_data_of_and_deletes_dashboard_snapshots(cast, dev, board):
    dashboard, *_ = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, display_name="Dev weekly")
    client = cast.other_group.client
    listed = client.get("/v6/dashboard-snapshots.json").json()["dashboardSnapshots"]
    assert [(s["linkId"], s["displayName"], s["window"]) for s in listed] == [(snapshot.link_id, "Dev weekly", None)]
    assert listed[0]["viewUrl"].endswith(f"/s/d/{snapshot.link_id}/")
    assert cast.owner.client.get("/v6/dashboard-snapshots.json").json() == {"dashboardSnapshots": []}
    detail = client.get(f"/v6/dashboard-snapshots/{snapshot.link_id}.json").json()["dashboardSnapshots"][0]
    assert [w["testName"] for w in detail["widgets"]] == ["dev api", "dev api", "ops edge"]
    assert "data" not in detail["widgets"][0]
    data = client.get(f"/v6/dashboard-snapshots/{snapshot.link_id}/data.json").json()["dashboardSnapshots"][0]
    assert _values(data["widgets"]) == _values(dashboard_snapshots.frozen_widget_data(snapshot))
    assert data["widgets"][0]["endRoundId"] - data["widgets"][0]["startRoundId"] == 3600
    assert client.get("/v6/dashboard-snapshots/" + "a" * 31 + ".json").status_code == 404
    assert cast.owner.client.post(f"/v6/dashboard-snapshots/{snapshot.link_id}/delete.json").status_code == 404
    assert client.post(f"/v6/dashboard-snapshots/{snapshot.link_id}/delete.json").status_code == 204
    assert client.get(f"/s/d/{snapshot.link_id}/").status_code == 404


def test_the_worker_purges_snapshots_expired_a_month_ago_and_their_pins(dev, board):
    dashboard, *_ = board
    kept = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, expires_in_days=1)
    old = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, expires_in_days=1)
    DashboardSnapshot.objects.filter(id=old.id).update(expires_date=timezone.now() - timedelta(days=31))
    from spyglass.worker import run_once

    assert run_once()["expired_snapshots_purged"] == 1
    assert list(DashboardSnapshot.objects.values_list("id", flat=True)) == [kept.id]
    assert not RetentionPin.objects.filter(reason=f"dashboard snapshot {old.id}").exists()
    assert RetentionPin.objects.filter(reason=f"dashboard snapshot {kept.id}", copy_to__isnull=False).count() == 3


def test_the_dashboard_snapshots_tab_changes_the_expiry_within_the_maximum(cast, dev, board, settings):
    dashboard, *_ = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, expires_in_days=1)
    client = signed_in(cast.other_group)
    update = f"/sharing/dashboard-snapshots/{snapshot.link_id}/update/"
    assert client.post(update, {"expiry": "30"}).status_code == 302
    snapshot.refresh_from_db()
    assert snapshot.expires_date == timezone.now() + timedelta(days=30)  # time stands still (time_machine)
    assert client.post(update, {"expiry": "never"}).status_code == 302
    snapshot.refresh_from_db()
    assert snapshot.expires_date is None
    settings.SNAPSHOT_MAX_EXPIRY_DAYS = 7
    page = client.post(update, {"expiry": "never"}, follow=True).content.decode()
    assert "snapshots may live at most 7 days here" in page
    page = client.post(update, {"expiry": "30"}, follow=True).content.decode()
    assert "Expiry must be one of 1 day, 7 days." in page
    snapshot.refresh_from_db()
    assert snapshot.expires_date is None  # nothing changed
    for person in (cast.owner, cast.other_org):
        assert signed_in(person).post(update, {"expiry": "1"}).status_code == 404
