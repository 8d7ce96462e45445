"""v6 dashboard snapshots (seed 001's index): list, detail, data and delete of the caller's account group's dashboard
snapshots, by link id. Made from the dashboard page or v7's POST /dashboard-snapshots; all decisions are
spyglass.sharing.dashboard_snapshots'."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from spyglass.lib.timefmt import format_v6_date
from spyglass.sharing import dashboard_snapshots, links
from spyglass.sharing.errors import SharingError

from ..base import V6View
from .dashboards import windowed
from .snapshots import as_api_error, comments_of


def dashboard_snapshot_summary(snapshot) -> dict:
    return {
        "linkId": snapshot.link_id,
        "displayName": snapshot.display_name,
        "dashboardId": snapshot.dashboard_id,
        "window": snapshot.window or None,  # seconds for every widget; null: each widget's own period
        "frozenDate": format_v6_date(snapshot.frozen_at),
        "shareDate": format_v6_date(snapshot.created_date),
        "createdBy": snapshot.created_by.display if snapshot.created_by else None,
        "expiresDate": format_v6_date(snapshot.expires_date),
        "visits": snapshot.visits,
        "anonymized": int(snapshot.anonymized),
        "viewUrl": links.view_url(snapshot.link_id, dashboard=True),
    }


def widgets_of(snapshot, with_data: bool) -> list[dict]:
    """The frozen widgets in v6's dashboard shape (`startRoundId`/`endRoundId` their window); points only
    `with_data`."""
    out = []
    for item in dashboard_snapshots.frozen_widget_data(snapshot):
        widget = windowed(item, item.pop("end"))
        if not with_data:
            widget.pop("data")
            widget["dataComponents"][0].pop("data")
        out.append(widget)
    return out


class DashboardSnapshotBaseView(V6View):
    def get_snapshot(self, link_id):
        if not links.is_well_formed(link_id):
            raise exceptions.NotFound("Not found")
        visible = dashboard_snapshots.visible_dashboard_snapshots(self.access).select_related("created_by")
        snapshot = visible.filter(link_id=link_id).first()
        if snapshot is None:
            raise exceptions.NotFound("Not found")
        return snapshot


class DashboardSnapshotListView(DashboardSnapshotBaseView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Dashboard snapshots of the account group",
        operation_id="dashboard_snapshots_list",
    )
    def get(self, request, format=None):
        listed = dashboard_snapshots.visible_dashboard_snapshots(self.access).select_related("created_by")
        snapshots = listed.order_by("-created_date", "-id")
        return Response({"dashboardSnapshots": [dashboard_snapshot_summary(s) for s in snapshots]})


class DashboardSnapshotDetailView(DashboardSnapshotBaseView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="A dashboard snapshot with its frozen widgets (without their points: see …/data)",
        operation_id="dashboard_snapshots_detail",
    )
    def get(self, request, link_id, format=None):
        snapshot = self.get_snapshot(link_id)
        out = dashboard_snapshot_summary(snapshot) | {"widgets": widgets_of(snapshot, with_data=False)}
        out["comments"] = comments_of(snapshot)
        return Response({"dashboardSnapshots": [out]})


class DashboardSnapshotDataView(DashboardSnapshotBaseView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="A dashboard snapshot's widgets with their frozen points (state 'ok', 'no longer shared' or "
        "'test deleted')",
        operation_id="dashboard_snapshots_data",
    )
    def get(self, request, link_id, format=None):
        snapshot = self.get_snapshot(link_id)
        out = dashboard_snapshot_summary(snapshot) | {"widgets": widgets_of(snapshot, with_data=True)}
        return Response({"dashboardSnapshots": [out]})


class DashboardSnapshotDeleteView(DashboardSnapshotBaseView):
    @extend_schema(request=None, responses={204: None}, summary="Revoke a dashboard snapshot (its link answers 404)")
    def post(self, request, link_id, format=None):
        try:
            dashboard_snapshots.revoke_dashboard_snapshot(self.access, self.get_snapshot(link_id))
        except SharingError as exc:
            raise as_api_error(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
