"""v7 dashboards as the SDK's DashboardsApi calls them: list, get, create, update, delete. Each spyglass widget (one
test's metric, averaged across agents, over a period) is a v7 "Time Series: Line" widget: metric and metricGroup
from WIDGET_METRICS, the test in `filters.TEST`, the period as `fixedTimespan`, `measure` MEAN. Other v7 widget
types are refused with a 400 naming the widget (docs/api-v7.md)."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from spyglass.accounts.roles import CREATE_SNAPSHOTS, EDIT_TESTS, VIEW_TESTS
from spyglass.dashboards import services
from spyglass.lib.text import is_digits
from spyglass.sharing import reports
from spyglass.sharing.errors import SharingError

from ...views.snapshots import as_api_error
from .. import schedules
from ..base import V7View
from ..conventions import href, iso

TAG = ["Dashboards"]
TIMESERIES = "Time Series: Line"
# spyglass metric → (v7 metricGroup, v7 metric)
WIDGET_METRICS = {
    "loss": ("AGENT_TO_SERVER", "NET_LOSS"),
    "latency": ("AGENT_TO_SERVER", "NET_LATENCY"),
    "jitter": ("AGENT_TO_SERVER", "NET_JITTER"),
    "availability": ("HTTP_SERVER", "WEB_AVAILABILITY"),
    "responseTime": ("HTTP_SERVER", "WEB_TTFB"),
    "totalTime": ("HTTP_SERVER", "WEB_FETCH"),
    "throughput": ("HTTP_SERVER", "WEB_THROUGHPUT"),
    "resolutionTime": ("DNS", "DNS_SERVER_TIME"),
    "dnsAvailability": ("DNS", "DNS_SERVER_AVAILABILITY"),
}
_FROM_V7 = {v7_metric: name for name, (_, v7_metric) in WIDGET_METRICS.items()}
_UNIT_SECONDS = {"Minutes": 60, "Hours": 3600, "Days": 86400}


def _timespan(seconds: int) -> dict:
    if seconds % 86400 == 0:
        return {"value": seconds // 86400, "unit": "Days"}
    return {"value": seconds // 3600, "unit": "Hours"}


def widget(dashboard_id: int, item: dict) -> dict:
    """One item of services.widget_data as a v7 Time Series: Line widget."""
    group, metric = WIDGET_METRICS.get(item["metric"], ("AGENT_TO_SERVER", "NET_LATENCY"))
    state = "" if item["state"] == services.OK else f" ({item['state']})"
    return {
        "id": str(item["widgetId"]),
        "type": TIMESERIES,
        "title": f"{item['testName']}: {item['metric']}{state}",
        "visualMode": "Full",
        "metricGroup": group,
        "metric": metric,
        "measure": {"type": "MEAN"},
        "filters": {"TEST": [str(item["testId"])] if item["testId"] else []},
        "fixedTimespan": _timespan(item["period"]),
        "groupBy": "TEST",
        "dataSource": "CLOUD_AND_ENTERPRISE_AGENTS",
        "_links": {"self": href(f"dashboards/{dashboard_id}/widgets/{item['widgetId']}")},
    }


def dashboard_body(access, dashboard, first_id: int | None, written: bool = False) -> dict:
    """ApiDashboard (list, get), or with `written` the Dashboard that create and update answer: the two models
    differ in createdBy (the user's id as a number there, as a string here)."""
    created_by = dashboard.created_by
    body = {
        "dashboardId": str(dashboard.id),
        "title": dashboard.name,
        "aid": str(dashboard.account_group_id),
        "isBuiltIn": False,
        "isPrivate": False,
        "isDefaultForAccount": dashboard.id == first_id,
        "isDefaultForUser": dashboard.id == first_id,
        "createdBy": (str(created_by.id) if written else created_by.id) if created_by else None,
        "dashboardCreatedBy": created_by.display if created_by else None,
        "dashboardModifiedDate": iso(dashboard.created_date),
        "description": "",
        "widgets": [widget(dashboard.id, item) for item in services.widget_data(access, dashboard)],
        "_links": {"self": href(f"dashboards/{dashboard.id}")},
    }
    schedule = reports.schedule_of(dashboard)
    if schedule is not None:  # the snapshot schedule (PUT …/actions/schedule)
        body["schedule"] = schedules.schedule_body(schedule)
    return body


def _spyglass_widgets(raw) -> list[tuple[int, str, int]]:
    """v7 widgets as (testId, metric, period); each one that spyglass cannot show is named in the error."""
    if not isinstance(raw, list):
        raise ValidationError({"widgets": "must be a list of widgets"})
    out, errors = [], {}
    for index, item in enumerate(raw):
        name = f"widgets[{index}]"
        if not isinstance(item, dict) or item.get("type") != TIMESERIES:
            errors[name] = f"spyglass shows '{TIMESERIES}' widgets of one test only"
            continue
        metric = _FROM_V7.get(item.get("metric"))
        tests = (item.get("filters") or {}).get("TEST") if isinstance(item.get("filters"), dict) else None
        span = item.get("fixedTimespan") or {"value": 1, "unit": "Days"}
        if metric is None:
            errors[name] = f"metric must be one of {', '.join(_FROM_V7)}"
        elif not isinstance(tests, list) or len(tests) != 1 or not is_digits(str(tests[0])) or len(str(tests[0])) > 18:
            errors[name] = "filters.TEST must name exactly one test id"
        elif not isinstance(span, dict) or span.get("unit") not in _UNIT_SECONDS or type(span.get("value")) is not int:
            errors[name] = "fixedTimespan must be {value, unit} with unit Minutes, Hours or Days"
        else:
            out.append((int(tests[0]), metric, span["value"] * _UNIT_SECONDS[span["unit"]]))
    if errors:
        raise ValidationError(errors)
    return out


class DashboardView(V7View):
    # As the web dashboard: reading needs "View tests", changing "Edit tests" (read-only roles only look).
    required_permissions = {"GET": VIEW_TESTS, "POST": EDIT_TESTS, "PUT": EDIT_TESTS, "DELETE": EDIT_TESTS}

    def first_id(self):
        return services.dashboards(self.access).values_list("id", flat=True).first()

    def write(self, dashboard, data, creating: bool):
        if creating or "title" in data:
            services.rename_dashboard(dashboard, data.get("title"))
        if "widgets" in data:
            services.replace_widgets(self.access, dashboard, _spyglass_widgets(data["widgets"]))


class DashboardListView(DashboardView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Dashboards of the account group", tags=TAG)
    def get(self, request):
        first = self.first_id()
        boards = services.dashboards(self.access).select_related("created_by")
        return Response([dashboard_body(self.access, d, first) for d in boards])

    @extend_schema(
        request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT}, summary="Create a dashboard", tags=TAG
    )
    @transaction.atomic
    def post(self, request):
        dashboard = services.create_dashboard(self.access, request.data.get("title"))
        self.write(dashboard, request.data, creating=True)
        return Response(
            dashboard_body(self.access, dashboard, self.first_id(), written=True), status=status.HTTP_201_CREATED
        )


class DashboardDetailView(DashboardView):
    def dashboard(self, dashboard_id):
        return services.get_dashboard(self.access, self.str_id(dashboard_id))

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A dashboard with its widgets", tags=TAG)
    def get(self, request, dashboard_id):
        return Response(dashboard_body(self.access, self.dashboard(dashboard_id), self.first_id()))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT, summary="Update a dashboard", tags=TAG)
    @transaction.atomic
    def put(self, request, dashboard_id):
        dashboard = self.dashboard(dashboard_id)
        self.write(dashboard, request.data, creating=False)
        return Response(dashboard_body(self.access, dashboard, self.first_id(), written=True))

    @extend_schema(request=None, responses={204: None}, summary="Delete a dashboard", tags=TAG)
    def delete(self, request, dashboard_id):
        services.delete_dashboard(self.dashboard(dashboard_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DashboardScheduleView(DashboardDetailView):
    # Setting a schedule makes snapshots: the permission (and role) snapshot creation needs. No GET here: the
    # dashboard's own body carries its `schedule`, as the SDK reads it.
    http_method_names = ["put", "delete", "options"]
    required_permissions = {"PUT": CREATE_SNAPSHOTS, "DELETE": CREATE_SNAPSHOTS}

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
        summary="Create or replace the dashboard's snapshot schedule",
        description="A DashboardScheduleRequest; answers the dashboard with its `schedule` (docs/api-v7.md).",
        tags=TAG,
    )
    def put(self, request, dashboard_id):
        dashboard = self.dashboard(dashboard_id)
        arguments = schedules.schedule_arguments(request.data, self.access.account_group.organization)
        try:
            reports.set_schedule(self.access, dashboard, **arguments)
        except SharingError as exc:
            exc.field = schedules.SERVICE_FIELDS.get(exc.field or "", exc.field)
            raise as_api_error(exc) from None
        return Response(dashboard_body(self.access, dashboard, self.first_id()))

    @extend_schema(request=None, responses={204: None}, summary="Remove the dashboard's snapshot schedule", tags=TAG)
    def delete(self, request, dashboard_id):
        dashboard = self.dashboard(dashboard_id)
        if not reports.remove_schedule(self.access, dashboard):
            raise NotFound("This dashboard has no schedule")
        return Response(status=status.HTTP_204_NO_CONTENT)
