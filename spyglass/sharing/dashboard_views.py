"""A dashboard snapshot's share page, /s/d/<linkId>/, and its per-widget JSON downloads: read-only, anyone with the
link, with the share pages' headers (share_view) and refusals — malformed ids never reach the database, unknown and
revoked links are the share pages' one 404 (counted against the address's misses), an expired one 410."""

import orjson
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from spyglass.dashboards.present import decorate

from . import dashboard_snapshots
from .views import Refused, _check_misses, _miss, _page, share_view


def _load(request, link_id):
    snapshot = dashboard_snapshots.find_shared(link_id)
    if snapshot is None:
        _check_misses(request)
        raise Refused(_miss(request))
    if snapshot.is_expired(timezone.now()):
        raise Refused(_page(request, "sharing/expired.html", {"snapshot": snapshot}, 410))
    return snapshot


def _widgets(snapshot) -> list[dict]:
    return decorate(dashboard_snapshots.frozen_widget_data(snapshot), int(snapshot.frozen_at.timestamp()))


@share_view("GET", "HEAD")
def dashboard_share_page(request, link_id):
    try:
        snapshot = _load(request, link_id)
    except Refused as refused:
        return refused.response
    if request.method == "GET":  # a HEAD showed nobody anything
        dashboard_snapshots.record_visit(snapshot)
        snapshot.visits += 1
    context = {"snapshot": snapshot, "widgets": _widgets(snapshot), "frozen": True}
    return render(request, "sharing/dashboard_page.html", context)


@share_view("GET")
def dashboard_widget_download(request, link_id, position):
    """One widget's frozen points as JSON (what its chart draws), named after the snapshot and the widget."""
    try:
        snapshot = _load(request, link_id)
    except Refused as refused:
        return refused.response
    widget = next((w for w in dashboard_snapshots.frozen_widget_data(snapshot) if w["order"] == int(position)), None)
    if widget is None:
        return _miss(request)
    body = {
        "snapshot": snapshot.display_name,
        "frozenAt": snapshot.frozen_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **{k: widget[k] for k in ("testName", "metric", "unit", "period", "state", "step", "data")},
    }
    response = HttpResponse(orjson.dumps(body), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="dashboard-snapshot-widget-{int(position) + 1}.json"'
    return response
