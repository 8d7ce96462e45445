"""A dashboard snapshot's share page, /s/d/<linkId>/, its per-widget downloads (JSON and CSV) and its comment form:
read-only, anyone with the link, with the share pages' headers (share_view) and refusals — malformed ids never reach
the database, unknown and revoked links are the share pages' one 404 (counted against the address's misses), an
expired one 410. Comments follow the test snapshots' rules, through the same code (views.comment_posted)."""

import csv
import io

import orjson
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt

from spyglass.dashboards.present import decorate
from spyglass.lib.timefmt import format_v6_date

from . import dashboard_snapshots, links
from .views import Refused, _check_misses, _miss, _page, _safe_cell, comment_context, comment_posted, share_view


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


def preview(snapshot, widgets) -> dict:
    """The Open Graph title and description, in a test snapshot's share page's form: "<name> — <what>" and "<window
    start> to <window end> UTC: <summary>" (the window every widget's covers together; the summary the widget count
    and the tests they show)."""
    ends = [w["end"] for w in widgets]
    start = min((w["end"] - w["period"] for w in widgets), default=int(snapshot.frozen_at.timestamp()))
    end = max(ends, default=int(snapshot.frozen_at.timestamp()))
    tests = list(dict.fromkeys(w["testName"] for w in widgets))
    count = f"{len(widgets)} widget{'s' if len(widgets) != 1 else ''}"
    summary = f"{count} on {', '.join(tests)}" if tests else count
    return {
        "title": f"{snapshot.display_name} — dashboard snapshot",
        "description": f"{format_v6_date(start)} to {format_v6_date(end)} UTC: {summary}",
    }


def _base(snapshot) -> str:
    return f"/s/d/{snapshot.link_id}/"


def _page_response(request, snapshot, form_error="", form_values=None, status=200):
    comments = list(snapshot.comments.select_related("user").order_by("date", "id"))
    live = comment_context(request, snapshot, _base(snapshot), comments, form_error, form_values)
    widgets = _widgets(snapshot)
    context = {
        "snapshot": snapshot,
        "widgets": widgets,
        "preview": preview(snapshot, widgets),
        "frozen": True,
        "share_base": _base(snapshot),
        "view_url": links.view_url(snapshot.link_id, dashboard=True),
        "comment_count": len(comments),
        "comments_html": mark_safe(render_to_string("sharing/_comments.html", live)),
    }
    return render(request, "sharing/dashboard_page.html", context, status=status)


@share_view("GET", "HEAD")
def dashboard_share_page(request, link_id):
    try:
        snapshot = _load(request, link_id)
    except Refused as refused:
        return refused.response
    if request.method == "GET":  # a HEAD showed nobody anything
        dashboard_snapshots.record_visit(snapshot)
        snapshot.visits += 1
    return _page_response(request, snapshot)


# Exempt from the middleware's check for the reason views.post_comment is: comment_posted checks a signed-in
# visitor's post in full and a guest's by the link's signed form token.
@csrf_exempt
@share_view("POST")
def dashboard_comment(request, link_id):
    try:
        snapshot = _load(request, link_id)
    except Refused as refused:
        return refused.response

    def page(error, values, status):
        return _page_response(request, snapshot, error, values, status)

    return comment_posted(request, snapshot, page, links.view_url(snapshot.link_id, dashboard=True))


def _frozen_widget(request, link_id, position):
    """(the snapshot, its widget with per-agent points), or raise Refused."""
    snapshot = _load(request, link_id)
    widget = dashboard_snapshots.frozen_widget(snapshot, int(position))
    if widget is None:
        raise Refused(_miss(request))
    return snapshot, widget


def _filename(position, extension: str) -> str:
    return f'attachment; filename="dashboard-snapshot-widget-{int(position) + 1}.{extension}"'


@share_view("GET")
def dashboard_widget_download(request, link_id, position):
    """One widget's frozen points as JSON (what its chart draws, and the same per agent), named after the
    snapshot and the widget."""
    try:
        snapshot, widget = _frozen_widget(request, link_id, position)
    except Refused as refused:
        return refused.response
    body = {
        "snapshot": snapshot.display_name,
        "frozenAt": snapshot.frozen_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **{k: widget[k] for k in ("testName", "metric", "unit", "period", "state", "step", "data", "agents")},
        "byAgent": widget["byAgent"],
    }
    response = HttpResponse(orjson.dumps(body), content_type="application/json")
    response["Content-Disposition"] = _filename(position, "json")
    return response


ALL_AGENTS = "All agents (average)"


@share_view("GET")
def dashboard_widget_csv(request, link_id, position):
    """One widget's frozen points as CSV: a row per point of the average across agents, then per agent."""
    try:
        _, widget = _frozen_widget(request, link_id, position)
    except Refused as refused:
        return refused.response
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    unit = f" ({widget['unit']})" if widget["unit"] else ""
    writer.writerow(["date", "roundId", "agent", f"{widget['metric']}{unit}"])
    for agent, points in [(ALL_AGENTS, widget["data"])] + [(a["agent"], a["data"]) for a in widget["byAgent"]]:
        for point in points:
            writer.writerow([point["date"], point["roundId"], _safe_cell(agent), point["value"]])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _filename(position, "csv")
    return response
