"""Dashboards: list, add / reorder / remove widgets, and the widgets' data. One place for the API and the web page.

A widget shows a test the account group can see right now (visible_tests) and only the rounds it may read
(read_scope); a live-shared test that was revoked shows "no longer shared" instead of failing."""

import time

from django.db import transaction
from django.http import Http404
from rest_framework.exceptions import ValidationError

from spyglass.monitoring.scope import read_scope
from spyglass.monitoring.tests_service import visible_tests

from .metrics import METRICS, PERIODS, series
from .models import Dashboard, Widget

OK, NO_LONGER_SHARED, TEST_DELETED = "ok", "no longer shared", "test deleted"
DEFAULT_NAME = "Dashboard"


def dashboards(access):
    return Dashboard.objects.filter(account_group=access.account_group).order_by("id")


def get_dashboard(access, dashboard_id: int) -> Dashboard:
    """The caller's group's dashboard, or 404 (another group's dashboard does not exist for the caller)."""
    dashboard = dashboards(access).filter(id=dashboard_id).first()
    if dashboard is None:
        raise Http404
    return dashboard


def default_dashboard(access) -> Dashboard:
    """The account group's dashboard, made on first use."""
    dashboard = dashboards(access).first()
    if dashboard is None:
        dashboard = Dashboard.objects.create(
            account_group=access.account_group, name=DEFAULT_NAME, created_by=access.user
        )
    return dashboard


def create_dashboard(access, name: str) -> Dashboard:
    return Dashboard.objects.create(account_group=access.account_group, name=_name(name), created_by=access.user)


def rename_dashboard(dashboard: Dashboard, name: str) -> None:
    dashboard.name = _name(name)
    dashboard.save(update_fields=["name"])


def delete_dashboard(dashboard: Dashboard) -> None:
    dashboard.delete()


def _name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"title": "must be a non-empty string"})
    if len(name.strip()) > Dashboard._meta.get_field("name").max_length:
        raise ValidationError({"title": "must be at most 200 characters"})
    return name.strip()


@transaction.atomic
def replace_widgets(access, dashboard: Dashboard, widgets: list[tuple[int, str, int]]) -> None:
    """The dashboard's widgets become these (testId, metric, period), in this order, each checked as add_widget
    checks it."""
    dashboard.widgets.all().delete()
    for test_id, metric, period in widgets:
        add_widget(access, dashboard, test_id, metric, period)


def metrics_for(test_type: str) -> list[str]:
    return [name for name, spec in METRICS.items() if test_type in spec.test_types]


@transaction.atomic
def add_widget(access, dashboard: Dashboard, test_id: int, metric: str, period: int) -> Widget:
    """Add a widget at the end: an own or live-shared test, a metric that fits its type, a period from PERIODS."""
    test = visible_tests(access).filter(id=test_id).first()
    if test is None:
        raise ValidationError({"testId": f"no test {test_id} among this account group's tests"})
    if metric not in metrics_for(test.type):
        raise ValidationError({"metric": f"must be one of {', '.join(metrics_for(test.type))} for a {test.type} test"})
    if period not in PERIODS:
        raise ValidationError({"period": f"must be one of {', '.join(map(str, PERIODS))} seconds"})
    last = dashboard.widgets.order_by("-position").values_list("position", flat=True).first()
    return Widget.objects.create(
        dashboard=dashboard,
        test=test,
        test_name=test.name,
        live_share=test.live_share,
        metric=metric,
        period=period,
        position=0 if last is None else last + 1,
    )


@transaction.atomic
def reorder(access, dashboard: Dashboard, widget_ids: list[int]) -> None:
    """Put the dashboard's widgets in the given order; the list must name each of them once."""
    widgets = {w.id: w for w in dashboard.widgets.select_for_update()}
    if sorted(widget_ids) != sorted(widgets):
        raise ValidationError({"widgets": "must list every widget of the dashboard exactly once"})
    for position, widget_id in enumerate(widget_ids):
        widgets[widget_id].position = position
    Widget.objects.bulk_update(widgets.values(), ["position"])


def remove_widget(access, dashboard: Dashboard, widget_id: int) -> None:
    if not dashboard.widgets.filter(id=widget_id).delete()[0]:
        raise Http404


def widget_data(access, dashboard: Dashboard, now: int | None = None) -> list[dict]:
    """Every widget in order with its state and points: per test one scope lookup, per test, kind and window one
    read of the rollups."""
    now = int(time.time() if now is None else now)
    widgets = list(dashboard.widgets.order_by("position", "id"))
    tests = {t.id: t for t in visible_tests(access).filter(id__in=[w.test_id for w in widgets if w.test_id])}
    out = []
    scopes: dict = {}
    shared: dict = {}  # widgets of one test, kind and window read its rollups once
    for widget in widgets:
        test = tests.get(widget.test_id)
        item = {
            "widgetId": widget.id,
            "order": widget.position,
            "testId": widget.test_id,
            "testName": test.name if test else widget.test_name,
            "metric": widget.metric,
            "unit": METRICS[widget.metric].unit if widget.metric in METRICS else "",
            "period": widget.period,
            "liveShare": int(bool(test and test.live_share)),
            "state": OK,
            "step": None,
            "data": [],
        }
        if widget.test_id is None and not widget.live_share:
            item["state"] = TEST_DELETED
        elif test is None:
            item["state"] = NO_LONGER_SHARED
        elif widget.metric in METRICS:
            if test.id not in scopes:
                scopes[test.id] = read_scope(access, test)
            scope = scopes[test.id]
            item["step"], item["data"] = series(test, widget.metric, widget.period, now, scope, shared)
        out.append(item)
    return out
