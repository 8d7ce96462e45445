"""v7 `/dashboard-snapshots` as the SDK's DashboardSnapshotsApi calls them: list (`dashboardId` filter), create, get,
update the expiration date, delete. `snapshotId` is the 160-bit link id. Create freezes the dashboard's widgets
over `startDate`–`endDate` (one window for all, up to 7 days; the end at most now), or over each widget's own
period when neither is sent; expiry
`expirationDate`, else v7's one year (within the organization's maximum). All decisions are
spyglass.sharing.dashboard_snapshots'; widgets are written as v7 dashboards write theirs."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from spyglass.accounts.roles import CREATE_SNAPSHOTS
from spyglass.dashboards import services as dashboards
from spyglass.lib.text import is_digits
from spyglass.sharing import dashboard_snapshots, links
from spyglass.sharing.errors import SharingError

from ...views.snapshots import IDEMPOTENCY_HEADER, as_api_error, created_response
from ..base import V7View
from ..conventions import href, iso, parse_iso
from .dashboards import widget

TAG = ["Dashboard snapshots"]


def snapshot_body(snapshot, with_widgets: bool) -> dict:
    """ApiDashboardSnapshot. `timeSpan` is the one window for all, or the longest widget period's."""
    widgets = dashboard_snapshots.frozen_widget_data(snapshot) if with_widgets else []
    frozen = int(snapshot.frozen_at.timestamp())
    end = widgets[0]["end"] if widgets else frozen
    duration = snapshot.window or max((w["period"] for w in widgets), default=0)
    url = links.view_url(snapshot.link_id, dashboard=True)
    out = {
        "snapshotId": snapshot.link_id,
        "snapshotName": snapshot.display_name,
        "aid": str(snapshot.account_group_id),
        "accountId": snapshot.account_group_id,
        "isShared": True,
        "anonymizeData": snapshot.anonymized,
        "isScheduled": False,
        "createdDate": iso(snapshot.created_date),
        "snapshotCreatedDate": iso(snapshot.created_date),
        "expirationDate": iso(snapshot.expires_date),
        "snapshotExpirationDate": iso(snapshot.expires_date),
        "permalink": url,
        "_links": {"self": href(f"dashboard-snapshots/{snapshot.link_id}"), "appLink": {"href": url}},
    }
    if with_widgets:
        out["timeSpan"] = {"startDate": iso(end - duration), "start": iso(end - duration), "duration": duration}
        out["widgets"] = []
        for item in widgets:
            item["widgetId"] = item["order"]
            shown = widget(snapshot.dashboard_id or 0, item)
            shown["_links"] = {"self": href(f"dashboard-snapshots/{snapshot.link_id}/widgets/{item['order']}")}
            out["widgets"].append(shown)
    return out


class DashboardSnapshotView(V7View):
    def get_snapshot(self, snapshot_id):
        if not links.is_well_formed(snapshot_id):
            raise exceptions.NotFound("Not found")
        found = dashboard_snapshots.visible_dashboard_snapshots(self.access).filter(link_id=snapshot_id).first()
        if found is None:
            raise exceptions.NotFound("Not found")
        return found


class DashboardSnapshotListView(DashboardSnapshotView):
    required_permissions = {"POST": CREATE_SNAPSHOTS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Dashboard snapshots of the account group", tags=TAG)
    def get(self, request):
        listed = dashboard_snapshots.visible_dashboard_snapshots(self.access).order_by("-created_date", "-id")
        dashboard_id = request.query_params.get("dashboardId")
        if dashboard_id is not None:
            if not is_digits(dashboard_id) or len(dashboard_id) > 18:
                raise exceptions.ValidationError({"dashboardId": "must be a dashboard id"})
            listed = listed.filter(dashboard_id=int(dashboard_id))
        return Response(
            {
                "dashboardSnapshots": [snapshot_body(s, with_widgets=False) for s in listed],
                "_links": {"self": href("dashboard-snapshots", dashboardId=dashboard_id)},
            }
        )

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT},
        summary="Snapshot a dashboard: every widget frozen into a share link",
        description="`dashboardId` is required. `startDate` and `endDate` (ISO 8601 with a zone) give one window for "
        "every widget, at most 7 days, ending at most now; without them each widget keeps its own period, ending "
        "now. `expirationDate` defaults to a year (within SPYGLASS_SNAPSHOT_MAX_EXPIRY_DAYS). Counts toward the "
        'organization\'s snapshot limit. `anonymizeData` true names agents by pseudonyms ("Agent 1") in every '
        "widget, download and API body of the snapshot.",
        tags=TAG,
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        raw_id = data.get("dashboardId")
        if raw_id is None:
            raise exceptions.ValidationError({"dashboardId": "is required"})
        if not isinstance(raw_id, str | int) or not is_digits(str(raw_id)) or len(str(raw_id)) > 18:
            raise exceptions.ValidationError({"dashboardId": "must be a dashboard id"})
        anonymize = data.get("anonymizeData", False)
        if not isinstance(anonymize, bool):
            raise exceptions.ValidationError({"anonymizeData": "must be true or false"})
        dashboard = dashboards.get_dashboard(self.access, int(raw_id))
        now = int(timezone.now().timestamp())
        window, end = dashboard_snapshots.WIDGETS_PERIODS, None
        if data.get("startDate") is not None:
            start = int(parse_iso(data["startDate"], "startDate").timestamp())
            end = int(parse_iso(data["endDate"], "endDate").timestamp()) if data.get("endDate") is not None else now
            end = min(end, now)
            if start >= end:
                raise exceptions.ValidationError({"startDate": "must be before endDate and before now"})
            window = end - start
        elif data.get("endDate") is not None:
            end = min(int(parse_iso(data["endDate"], "endDate").timestamp()), now)
        expires = {"expires_in_days": dashboard_snapshots.api_expiry_days()}
        if data.get("expirationDate") is not None:
            expires = {"expires_at": parse_iso(data["expirationDate"], "expirationDate")}
        try:
            snapshot = dashboard_snapshots.create_dashboard_snapshot(
                self.access,
                dashboard,
                window=window,
                end=end,
                display_name=data.get("displayName") or "",
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER, ""),
                anonymized=anonymize,
                **expires,
            )
        except SharingError as exc:
            exc.field = {"window": "startDate"}.get(exc.field, exc.field)  # the service's name for v7's dates
            raise as_api_error(exc) from None
        body = {"snapshotId": snapshot.link_id, "_links": {"self": href(f"dashboard-snapshots/{snapshot.link_id}")}}
        return created_response(body, snapshot)


class DashboardSnapshotDetailView(DashboardSnapshotView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A dashboard snapshot with its frozen widgets", tags=TAG)
    def get(self, request, snapshot_id):
        return Response(snapshot_body(self.get_snapshot(snapshot_id), with_widgets=True))

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={204: None},
        summary="Change a dashboard snapshot's expiration date",
        description="`snapshotExpirationDate` (or `expirationDate`), ISO 8601 with a zone, in the future and within "
        "SPYGLASS_SNAPSHOT_MAX_EXPIRY_DAYS. The creator or a role with 'Edit snapshots shared by all users in "
        "account group'.",
        tags=TAG,
    )
    def patch(self, request, snapshot_id):
        snapshot = self.get_snapshot(snapshot_id)
        data = request.data if isinstance(request.data, dict) else {}
        name = "snapshotExpirationDate" if data.get("snapshotExpirationDate") is not None else "expirationDate"
        if data.get(name) is None:
            raise exceptions.ValidationError({"snapshotExpirationDate": "is required"})
        try:
            dashboard_snapshots.change_expiry(self.access, snapshot, expires_at=parse_iso(data[name], name))
        except SharingError as exc:
            exc.field = name if exc.field == "expirationDate" else exc.field
            raise as_api_error(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None}, summary="Revoke a dashboard snapshot", tags=TAG)
    def delete(self, request, snapshot_id):
        try:
            dashboard_snapshots.revoke_dashboard_snapshot(self.access, self.get_snapshot(snapshot_id))
        except SharingError as exc:
            raise as_api_error(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class DashboardSnapshotWidgetDataView(DashboardSnapshotView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="A dashboard snapshot widget's frozen data",
        description="ApiWidgetDataSnapshotResponse: `data.points` the metric averaged across agents per bin "
        "(`groups` TEST), then per agent (`groups` AGENT, named in `groupLabels`: pseudonyms when anonymized). "
        "`widgetId` is the widget's place in the snapshot, as the snapshot's `widgets[].id`.",
        tags=TAG,
    )
    def get(self, request, snapshot_id, widget_id):
        snapshot = self.get_snapshot(snapshot_id)
        if not is_digits(widget_id) or len(widget_id) > 4:
            raise exceptions.NotFound("Not found")
        item = dashboard_snapshots.frozen_widget(snapshot, int(widget_id))
        if item is None:
            raise exceptions.NotFound("Not found")
        test = str(item["testId"] or "")
        points = [_point(p, "TEST", test) for p in item["data"]]
        labels = []
        for number, agent in enumerate(item["byAgent"], 1):
            labels.append({"groupId": str(number), "groupLabel": agent["agent"]})
            points += [_point(p, "AGENT", str(number)) for p in agent["data"]]
        end = item["end"]
        return Response(
            {
                "groupLabels": [
                    {"groupProperty": "TEST", "groupLabels": [{"groupId": test, "groupLabel": item["testName"]}]},
                    {"groupProperty": "AGENT", "groupLabels": labels},
                ],
                "binSize": item["step"],
                "startDate": iso(end - item["period"]),
                "endDate": iso(end),
                "data": {"points": points, "startRound": end - item["period"], "status": item["state"]},
                "_links": {"self": href(f"dashboard-snapshots/{snapshot.link_id}/widgets/{widget_id}")},
            }
        )


def _point(point: dict, group: str, value: str) -> dict:
    return {
        "timestamp": point["roundId"],
        "value": point["value"],
        "groups": [{"groupProperty": group, "groupValue": value}],
    }
