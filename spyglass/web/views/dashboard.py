"""The account group's dashboard: widgets, each one test's metric over a period (own or live-shared tests alike),
added, moved up or down (or dragged: the new order at once) and removed. What a widget may show and its data are spyglass.dashboards.services'; this
module only lays them out. Changes swap the board in place with htmx and fall back to plain forms without it."""

import time

from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from spyglass.accounts.roles import CREATE_SNAPSHOTS
from spyglass.dashboards import services
from spyglass.dashboards.metrics import METRICS, PERIODS
from spyglass.dashboards.present import METRIC_LABELS, PERIOD_LABELS, decorate
from spyglass.lib.error_messages import message_of
from spyglass.lib.text import is_digits
from spyglass.monitoring.tests_service import visible_tests
from spyglass.sharing import dashboard_snapshots, links
from spyglass.sharing import services as services_sharing
from spyglass.sharing.errors import SharingError

from ..checkpoint import (
    can_edit_dashboard,
    dashboard_or_404,
    dashboard_snapshot_or_404,
    member_view,
    widget_or_404,
    widgets_or_404,
)
from ..sharing_panel import addresses, default_dashboard_expiry, expiry_choices, new_idempotency_key
from . import reports

DEFAULT_PERIOD = 24 * 3600
MAX_ID_DIGITS = 18


def _board_context(request, *, form=None, error="") -> dict:
    access = request.access
    board = dashboard_or_404(access)
    now = int(time.time())
    widgets = decorate(services.widget_data(access, board, now=now), now)
    tests = list(visible_tests(access).filter(saved_event=False).order_by("name"))
    metric_types = {name: " ".join(spec.test_types) for name, spec in METRICS.items()}
    return {
        "board": board,
        "widgets": widgets,
        "can_edit": can_edit_dashboard(access),
        "own_tests": [t for t in tests if not t.live_share],
        "shared_tests": [t for t in tests if t.live_share],
        "metrics": [(name, METRIC_LABELS.get(name, name), metric_types[name]) for name in METRICS],
        "periods": [(p, PERIOD_LABELS[p]) for p in PERIODS],
        "form": form or {"period": str(DEFAULT_PERIOD)},
        "error": error,
        **_snapshot_form(access),
    }


def _snapshot_form(access) -> dict:
    """The "Snapshot this dashboard" form: the window choices, the expiries within the organization's maximum, and a
    fresh idempotency key (a doubled or retried post answers the snapshot the first one made)."""
    if access.read_only or not access.can(CREATE_SNAPSHOTS):
        return {"may_snapshot": False}
    expiries = expiry_choices()
    windows = [(dashboard_snapshots.WIDGETS_PERIODS, "Each widget's own period")]
    windows += [(p, f"{PERIOD_LABELS[p]} for every widget") for p in PERIODS]
    return {
        "may_snapshot": True,
        "snapshot_windows": windows,
        "snapshot_expiries": expiries,
        "snapshot_default_expiry": default_dashboard_expiry(expiries),
        "snapshot_key": new_idempotency_key(),
    }


def _board(request, *, form=None, error="", status=None, **extra):
    """The board: the whole page, or for htmx just the #dashboard region."""
    template = "web/dashboard/_board.html" if request.htmx else "web/dashboard/page.html"
    context = _board_context(request, form=form, error=error)
    if not request.htmx:  # the scheduled report's section is outside the board htmx swaps
        context |= reports.schedule_context(request.access, context["board"])
    context |= extra
    return render(request, template, context, status=status or (400 if error else 200))


def _done(request):
    """After a change: the fresh board for htmx, a redirect (post/redirect/get) for a plain form."""
    return _board(request) if request.htmx else redirect("web:dashboard")


@member_view
def dashboard_page(request):
    return _board(request)


def _int_or_none(raw):
    return int(raw) if raw and is_digits(raw) and len(raw) <= MAX_ID_DIGITS else None


@require_POST
@member_view
def widget_add(request):
    board = dashboard_or_404(request.access, for_edit=True)
    form = {key: request.POST.get(key, "") for key in ("test", "metric", "period")}
    test_id, period = _int_or_none(form["test"]), _int_or_none(form["period"])
    if test_id is None:
        return _board(request, form=form, error="Choose a test.")
    if period is None:
        return _board(request, form=form, error="Choose a period.")
    try:
        services.add_widget(request.access, board, test_id, form["metric"], period)
    except ValidationError as exc:
        detail = exc.detail
        text = "; ".join(message_of(v) for v in detail.values()) if isinstance(detail, dict) else message_of(detail)
        return _board(request, form=form, error=text[:1].upper() + text[1:] + ".")
    return _done(request)


def _widget_ids(board) -> list[int]:
    return list(board.widgets.order_by("position", "id").values_list("id", flat=True))


@require_POST
@member_view
def widget_move(request, widget_id):
    """Move a widget one place up or down: the new order goes through services.reorder like any other order."""
    widget = widget_or_404(request.access, widget_id, for_edit=True)
    board = widget.dashboard
    ids = _widget_ids(board)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction"))
    if step is None:
        return _board(request, error="Move a widget up or down.")
    if widget.id not in ids:  # removed meanwhile
        return _board(request, error="The dashboard changed meanwhile; nothing was moved. Try again.")
    i = ids.index(widget.id)
    j = i + step
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        try:
            services.reorder(request.access, board, ids)
        except ValidationError:  # a widget was added or removed meanwhile
            return _board(request, error="The dashboard changed meanwhile; nothing was moved. Try again.")
    return _done(request)


@require_POST
@member_view
def widget_order(request):
    """The order after a drag and drop: every widget's id, in the new order. An id that is not a widget of this
    dashboard answers 404; a list that leaves one out or repeats one, 400. Either way nothing moves."""
    board, ids = widgets_or_404(request.access, request.POST.getlist("widget"), for_edit=True)
    if not ids:
        return _board(request, error="Give the widgets in their new order; nothing was moved.")
    try:
        services.reorder(request.access, board, ids)
    except ValidationError:
        return _board(
            request, error="List every widget of the dashboard once (it may have changed meanwhile); nothing was moved."
        )
    return _done(request)


@require_POST
@member_view
def widget_remove(request, widget_id):
    widget = widget_or_404(request.access, widget_id, for_edit=True)
    services.remove_widget(request.access, widget.dashboard, widget.id)
    return _done(request)


@require_POST
@member_view
def dashboard_snapshot_create(request):
    """ "Snapshot this dashboard": freeze every widget over the chosen window into a share link, shown on the page."""
    access = request.access
    board = dashboard_or_404(access)
    post = request.POST
    window, expiry = post.get("window", ""), post.get("expiry", "")
    recipients = addresses(post.get("recipients", ""))
    values = {k: post.get(k, "") for k in ("recipients", "note")}
    try:
        if not is_digits(window) or len(window) > 7 or int(window) not in dashboard_snapshots.WEB_WINDOWS:
            raise SharingError("choose the widgets' periods or one window for all", "window")
        if expiry != "never" and expiry not in {v for v, _ in expiry_choices()}:
            raise SharingError(f"must be one of {', '.join(label for _, label in expiry_choices())}", "expiry")
        snapshot = dashboard_snapshots.create_dashboard_snapshot(
            access,
            board,
            window=int(window),
            expires_in_days=None if expiry == "never" else int(expiry),
            display_name=post.get("display_name", ""),
            idempotency_key=post.get("idempotency_key", ""),
            recipients=recipients,
            note=post.get("note", ""),
            anonymized=post.get("anonymize") == "on",
            comments_signed_in_only=post.get("guest_comments") != "on",
        )
    except SharingError as exc:
        return _board(request, status=exc.status, snapshot_error=str(exc), snapshot_values=values)
    sent_to = sorted(snapshot.recipients.values_list("email", flat=True))
    url = links.view_url(snapshot.link_id, dashboard=True)
    return _board(request, snapshot_made=snapshot, snapshot_url=url, snapshot_sent_to=sent_to)


@require_POST
@member_view
def dashboard_snapshot_email(request, link_id):
    """The result's "E-mail it", as the test share panel's: the snapshot just made, with its note, e-mailed to more
    addresses — the same link, no new snapshot (services.email_snapshot: who may change it may send it)."""
    access = request.access
    snapshot = dashboard_snapshot_or_404(access, link_id)
    made = {"snapshot_made": snapshot, "snapshot_url": links.view_url(snapshot.link_id, dashboard=True)}
    try:
        services_sharing.email_snapshot(access, snapshot, addresses(request.POST.get("email_to", "")))
    except SharingError as exc:
        return _board(request, status=exc.status, snapshot_email_error=str(exc), **made)
    sent_to = sorted(snapshot.recipients.values_list("email", flat=True))
    return _board(request, snapshot_sent_to=sent_to, **made)
