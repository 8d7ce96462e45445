"""v7 dashboard snapshots through the official SDK's DashboardSnapshotsApi, unchanged, against a live server:
create (one window for all, or each widget's period), list (with the dashboardId filter), get with the frozen
widgets and a widget's data, delete — and the limits and refusals of the one creating service."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from thousandeyes_sdk.core.exceptions import ApiException
from thousandeyes_sdk.dashboards import DashboardSnapshotsApi
from thousandeyes_sdk.dashboards.models import (
    GenerateDashboardSnapshotRequest,
    UpdateSnapshotExpirationDateApiRequest,
)

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services
from spyglass.monitoring.seed import seed
from spyglass.sharing import dashboard_snapshots
from spyglass.sharing.models import DashboardSnapshot
from tests.conftest import make_test

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def board(cast):
    web = make_test(cast.owner, "http-server", name="shop")
    seed(web, agents=2, hours=3, random_seed=2, now=time.time())
    access = access_for(cast.owner.user, None)
    board = services.default_dashboard(access)
    services.add_widget(access, board, web.id, "totalTime", 3600)
    services.add_widget(access, board, web.id, "availability", 24 * 3600)
    return board


def test_create_list_get_and_delete_through_the_sdk(cast, v7, board, client):
    api = DashboardSnapshotsApi(v7(cast.owner))
    end = datetime.now(UTC).replace(microsecond=0)
    made = api.create_dashboard_snapshot(
        GenerateDashboardSnapshotRequest(
            dashboardId=str(board.id), displayName="Shop weekly", startDate=end - timedelta(hours=2), endDate=end
        )
    )
    snapshot = DashboardSnapshot.objects.get()
    assert made.snapshot_id == snapshot.link_id and len(made.snapshot_id) == 32
    assert snapshot.window == 2 * 3600
    # v7's default expiry: a year.
    assert abs((snapshot.expires_date - snapshot.created_date) - timedelta(days=365)) < timedelta(seconds=1)

    listed = api.get_dashboard_snapshots(dashboard_id=str(board.id)).dashboard_snapshots
    assert [(s.snapshot_id, s.snapshot_name, s.is_shared) for s in listed] == [(made.snapshot_id, "Shop weekly", True)]
    assert api.get_dashboard_snapshots(dashboard_id="999999").dashboard_snapshots == []

    got = api.get_dashboard_snapshot(made.snapshot_id)
    assert got.time_span.duration == 2 * 3600
    assert got.permalink.endswith(f"/s/d/{made.snapshot_id}/")
    lines = [w.actual_instance for w in got.widgets]
    assert [(w.metric.value, w.fixed_timespan.value, w.fixed_timespan.unit.value) for w in lines] == [
        ("WEB_FETCH", 2, "Hours"),
        ("WEB_AVAILABILITY", 2, "Hours"),
    ]
    # The link opens, signed out.
    assert client.get(f"/s/d/{made.snapshot_id}/").status_code == 200

    # Another organization: 404 for the get and the delete, nothing listed.
    theirs = DashboardSnapshotsApi(v7(cast.other_org))
    for call in (theirs.get_dashboard_snapshot, theirs.delete_dashboard_snapshot):
        with pytest.raises(ApiException) as refused:
            call(made.snapshot_id)
        assert refused.value.status == 404
    assert theirs.get_dashboard_snapshots().dashboard_snapshots == []

    # The expiration date changes, within the organization's maximum, only for the group.
    later = end + timedelta(days=3)
    api.update_dashboard_snapshot_expiration_date(
        made.snapshot_id, UpdateSnapshotExpirationDateApiRequest(snapshotExpirationDate=later)
    )
    assert api.get_dashboard_snapshot(made.snapshot_id).snapshot_expiration_date == later
    with pytest.raises(ApiException) as refused:
        theirs.update_dashboard_snapshot_expiration_date(
            made.snapshot_id, UpdateSnapshotExpirationDateApiRequest(snapshotExpirationDate=later)
        )
    assert refused.value.status == 404
    with pytest.raises(ApiException) as refused:
        api.update_dashboard_snapshot_expiration_date(
            made.snapshot_id, UpdateSnapshotExpirationDateApiRequest(snapshotExpirationDate=end - timedelta(days=1))
        )
    assert refused.value.status == 400 and "snapshotExpirationDate" in refused.value.body

    api.delete_dashboard_snapshot(made.snapshot_id)
    assert not DashboardSnapshot.objects.exists()
    assert client.get(f"/s/d/{made.snapshot_id}/").status_code == 404


def test_without_dates_each_widget_keeps_its_period_and_refusals_name_the_field(cast, v7, board, settings):
    api = DashboardSnapshotsApi(v7(cast.owner))
    made = api.create_dashboard_snapshot(GenerateDashboardSnapshotRequest(dashboardId=str(board.id)))
    got = api.get_dashboard_snapshot(made.snapshot_id)
    assert [w.actual_instance.fixed_timespan.value for w in got.widgets] == [1, 1]
    assert [w.actual_instance.fixed_timespan.unit.value for w in got.widgets] == ["Hours", "Days"]
    end = datetime.now(UTC)
    for body, field in (
        ({"startDate": end - timedelta(days=8), "endDate": end}, "startDate"),
        ({"expirationDate": end - timedelta(days=1)}, "expirationDate"),
    ):
        with pytest.raises(ApiException) as refused:
            api.create_dashboard_snapshot(GenerateDashboardSnapshotRequest(dashboardId=str(board.id), **body))
        assert refused.value.status == 400 and field in refused.value.body
    with pytest.raises(ApiException) as refused:
        api.create_dashboard_snapshot(GenerateDashboardSnapshotRequest(dashboardId="987654"))
    assert refused.value.status == 404
    bad = cast.owner.client.post(
        "/v7/dashboard-snapshots", {"dashboardId": str(board.id), "anonymizeData": "yes"}, format="json"
    )
    assert bad.status_code == 400 and "anonymizeData" in bad.content.decode()
    settings.SNAPSHOT_RATE = [(1, 3600)]
    # (The SDK's client retries a 429; a plain client shows it.)
    limited = cast.owner.client.post("/v7/dashboard-snapshots", {"dashboardId": str(board.id)}, format="json")
    assert limited.status_code == 429 and "limit reached" in limited.json()["detail"]
    assert DashboardSnapshot.objects.count() == 1


def test_a_widgets_frozen_data_through_the_sdk(cast, v7, board):
    api = DashboardSnapshotsApi(v7(cast.owner))
    made = api.create_dashboard_snapshot(GenerateDashboardSnapshotRequest(dashboardId=str(board.id)))
    got = api.get_dashboard_snapshot(made.snapshot_id)
    widget_id = got.widgets[0].actual_instance.id
    data = api.get_dashboard_snapshot_widget_data(made.snapshot_id, widget_id)
    frozen = dashboard_snapshots.frozen_widget(DashboardSnapshot.objects.get(), int(widget_id))
    assert data.bin_size == frozen["step"] and data.data.points
    average = [(p.timestamp, p.value) for p in data.data.points if p.groups[0].group_property == "TEST"]
    assert average == [(p["roundId"], p["value"]) for p in frozen["data"]]
    [tests, agents] = data.group_labels
    assert [g.group_label for g in tests.group_labels] == ["shop"]
    assert agents.group_property == "AGENT" and len(agents.group_labels) == 2
    per_agent = {p.groups[0].group_value for p in data.data.points if p.groups[0].group_property == "AGENT"}
    assert per_agent == {g.group_id for g in agents.group_labels}
    assert data.end_date - data.start_date == timedelta(hours=1)
    for snapshot_id, widget, who in (
        (made.snapshot_id, "9", cast.owner),
        (made.snapshot_id, widget_id, cast.other_org),
        ("a" * 32, widget_id, cast.owner),
    ):
        with pytest.raises(ApiException) as refused:
            DashboardSnapshotsApi(v7(who)).get_dashboard_snapshot_widget_data(snapshot_id, widget)
        assert refused.value.status == 404
