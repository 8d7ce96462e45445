"""Dashboard endpoints: the account group's dashboards, one dashboard with its widgets' data, its data alone in the
shape of a dashboard snapshot's (…/data, but live) and its deletion."""

import time

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from spyglass.accounts.roles import EDIT_TESTS, VIEW_TESTS
from spyglass.dashboards import services
from spyglass.lib.timefmt import format_v6_date

from ..base import V6View


def dashboard_summary(dashboard) -> dict:
    """`id` and `title` as ThousandEyes' v6 dashboards (what community clients read); `dashboardId` and `name`,
    spyglass's first names for them, stay for its earlier clients."""
    return {
        "id": dashboard.id,
        "title": dashboard.name,
        "dashboardId": dashboard.id,
        "name": dashboard.name,
        "createdBy": dashboard.created_by.display if dashboard.created_by else None,
        "createdDate": format_v6_date(dashboard.created_date),
    }


def v6_widget(item: dict) -> dict:
    """A widget as v6 clients read it: `id`, `title`, and `dataComponents[].filter.filters[]` naming its test by
    {"key": "Test Name", "value": …}; spyglass's own fields (metric, period, state, data) stay beside them."""
    component = {
        "filter": {"filters": [{"key": "Test Name", "value": item["testName"]}]},
        "metric": item["metric"],
        "data": item["data"],
    }
    return {
        "id": item["widgetId"],
        "title": f"{item['testName']}: {item['metric']}",
        **item,
        "dataComponents": [component],
    }


class DashboardListView(V6View):
    required_permissions = {"GET": VIEW_TESTS}

    @extend_schema(
        responses=OpenApiTypes.OBJECT, summary="Dashboards of the account group", operation_id="dashboards_list"
    )
    def get(self, request, format=None):
        dashboards = services.dashboards(self.access).select_related("created_by")
        return Response({"dashboards": [dashboard_summary(d) for d in dashboards]})


class DashboardDetailView(V6View):
    required_permissions = {"GET": VIEW_TESTS}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="A dashboard with its widgets' data (state 'ok', 'no longer shared' or 'test deleted')",
    )
    def get(self, request, dashboard_id, format=None):
        dashboard = services.get_dashboard(self.access, self.int_id(dashboard_id))
        out = dashboard_summary(dashboard)
        out["widgets"] = [v6_widget(w) for w in services.widget_data(self.access, dashboard)]
        return Response({"dashboards": [out]})


def windowed(item: dict, end: int) -> dict:
    """A widget item as v6 gives it with its window: `startRoundId`/`endRoundId` (a dashboard snapshot's frozen
    window, or a live dashboard's ending now)."""
    item["startRoundId"], item["endRoundId"] = end - item["period"], end
    return v6_widget(item)


class DashboardDataView(V6View):
    required_permissions = {"GET": VIEW_TESTS}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="A dashboard's widgets with their live points, in the shape of a dashboard snapshot's data",
        operation_id="dashboards_data",
    )
    def get(self, request, dashboard_id, format=None):
        dashboard = services.get_dashboard(self.access, self.int_id(dashboard_id))
        now = int(time.time())
        out = dashboard_summary(dashboard)
        out["widgets"] = [windowed(w, now) for w in services.widget_data(self.access, dashboard, now=now)]
        return Response({"dashboards": [out]})


class DashboardDeleteView(V6View):
    required_permissions = {"POST": EDIT_TESTS}

    @extend_schema(request=None, responses={204: None}, summary="Delete a dashboard (its snapshots stay)")
    def post(self, request, dashboard_id, format=None):
        services.delete_dashboard(services.get_dashboard(self.access, self.int_id(dashboard_id)))
        return Response(status=status.HTTP_204_NO_CONTENT)
