"""Sharing › Snapshots: the account group's share links, the snapshots e-mailed to me, the account group's saved
events; expanded rows with recent visits, the comment restriction, expiry and revocation. Who may see, change or
revoke what is decided by spyglass.sharing.services (account group and role, never possession of the link)."""

from dataclasses import replace
from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, F
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from spyglass.accounts.roles import EDIT_ALL_SNAPSHOTS
from spyglass.dashboards.present import period_label
from spyglass.lib.timefmt import format_v6_date
from spyglass.results_ui.component import bounded, render_results
from spyglass.sharing import dashboard_snapshots, links, services, stored
from spyglass.sharing.emails import snapshot_date
from spyglass.sharing.errors import SharingError
from spyglass.sharing.scope_provider import scope_of

from ..checkpoint import dashboard_snapshot_or_404, member_view, snapshot_or_404
from ..sharing_panel import expiry_choices, new_idempotency_key

TABS = [
    ("group", "Shared by users in my account group"),
    ("with-me", "Shared with me"),
    ("saved", "Saved events"),
    ("dashboards", "Dashboard snapshots"),
]
# Sortable columns: URL key -> (heading, ORDER BY field). A second click on the sorted heading reverses it.
COLUMNS = {
    "name": ("Test Name", "test__name"),
    "date": ("Snapshot Date", "round_id"),
    "created": ("Create Date", "created_date"),
    "visits": ("Visits", "visit_count"),
    "creator": ("Created By", "created_by__name"),
}
# The same keys for a dashboard snapshot, where they apply, and its own columns (None: shown, not sortable).
DASHBOARD_COLUMNS = {
    "name": ("Name", "display_name"),
    "window": ("Window", None),
    "widgets": ("Widgets", None),
    "created": ("Create Date", "created_date"),
    "expires": ("Expires", "expires_date"),
    "visits": ("Visits", "visits"),
    "creator": ("Created By", "created_by__name"),
}
# A recipient ("Shared with me") sees the link, the test, the window and who shared it: never who visited it, nor
# how often. The account group's own tabs show the visits.
TAB_COLUMNS = {
    "group": ("name", "date", "created", "visits"),
    "with-me": ("name", "date", "created", "creator"),
    "saved": ("name", "date", "created", "visits"),
    "dashboards": ("name", "window", "widgets", "created", "expires", "visits", "creator"),
}
WITH_ME_DASHBOARD_COLUMNS = ("name", "window", "widgets", "created", "creator")
DESCENDING_FIRST = ("created", "date", "visits", "expires")  # a first click shows the newest / most visited first


def _sorting(request, columns, fields: dict) -> tuple[str, bool]:
    """(the sort key the request asks for among the sortable `columns`, else "created"; descending?)."""
    sort = request.GET.get("sort", "created")
    if sort not in columns or fields[sort][1] is None:
        sort = "created"
    return sort, request.GET.get("dir", "desc" if sort in DESCENDING_FIRST else "asc") == "desc"


def _order(field: str, descending: bool):
    """ORDER BY `field` with its empty values — an expiry of never, a former user — after every value ascending and
    before them descending, on SQLite and PostgreSQL alike (their defaults differ)."""
    return F(field).desc(nulls_first=True) if descending else F(field).asc(nulls_last=True)


def _headings(tab: str, columns, fields: dict, sort: str, descending: bool) -> list[dict]:
    """The table's headings: each sortable one links to its sort (the sorted one to the other direction)."""
    base = reverse("web:snapshots")
    headings = []
    for key in columns:
        label, field = fields[key]
        active = key == sort
        if active:
            next_dir = "asc" if descending else "desc"
        else:
            next_dir = "desc" if key in DESCENDING_FIRST else "asc"
        url = f"{base}?tab={tab}&sort={key}&dir={next_dir}" if field is not None else None
        state = ("descending" if descending else "ascending") if active else None
        headings.append({"key": key, "label": label, "url": url, "sort": state})
    return headings


def _listing(access, tab: str):
    if tab == "with-me":
        return services.shared_with(access.user)
    qs = services.visible_snapshots(access)
    return qs.filter(is_public=tab != "saved")


# The date columns a group of snapshots sorts by: its latest snapshot's value, in either direction.
GROUP_LATEST = {"date": "round_id", "created": "created_date"}


def _groups(snapshots, sort: str, descending: bool, show_visits: bool) -> list[dict]:
    """Snapshots of the same test together, so a test with several links can be expanded to tell them apart. Groups
    come in the order of their first snapshot (the list is sorted already), of their total visits, or — on the date
    columns — of their latest snapshot, both ways (never a group kept on top because its earliest came first)."""
    groups: dict[int, dict] = {}
    for snapshot in snapshots:
        group = groups.setdefault(snapshot.source_test_id, {"key": snapshot.source_test_id, "snapshots": []})
        group["snapshots"].append(snapshot)
    for group in groups.values():
        items = group["snapshots"]
        group["test_name"] = items[0].test.name
        group["visits"] = sum(s.visit_count for s in items) if show_visits else None
        group["latest_date"] = max(items, key=lambda s: s.round_id)
        group["latest_created"] = max(items, key=lambda s: s.created_date)
    out = list(groups.values())
    if sort == "visits":
        out.sort(key=lambda g: g["visits"], reverse=descending)
    elif sort in GROUP_LATEST:
        field = GROUP_LATEST[sort]
        out.sort(key=lambda g: max(getattr(s, field) for s in g["snapshots"]), reverse=descending)
    return out


@member_view
def snapshot_list(request):
    access = request.access
    tab = request.GET.get("tab", "group")
    if tab not in dict(TABS):
        tab = "group"
    base = reverse("web:snapshots")
    context: dict = {
        "tabs": [(key, label, f"{base}?tab={key}", key == tab) for key, label in TABS],
        "tab": tab,
        "expiries": expiry_choices(),
    }
    if tab == "dashboards":
        columns = TAB_COLUMNS[tab]
        sort, descending = _sorting(request, columns, DASHBOARD_COLUMNS)
        listed = dashboard_snapshots.visible_dashboard_snapshots(access)
        rows = _dashboard_rows(access, listed, sort, descending)
        context |= {
            "dashboard_snapshots": rows,
            "dashboard_headings": _headings(tab, columns, DASHBOARD_COLUMNS, sort, descending),
            "count": len(rows),
        }
        return render(request, "web/sharing/snapshots.html", context)
    columns = TAB_COLUMNS[tab]
    show_visits = "visits" in columns
    sort, descending = _sorting(request, columns, COLUMNS)
    listed = _listing(access, tab).select_related("test", "created_by", "account_group")
    if show_visits:
        listed = listed.annotate(visit_count=Count("visits", distinct=True))
    snapshots = list(listed.order_by(_order(COLUMNS[sort][1], descending), "-id"))
    recent = services.recent_visits([s.id for s in snapshots]) if show_visits else {}
    may_edit_all = access.can(EDIT_ALL_SNAPSHOTS) and not access.read_only
    for snapshot in snapshots:
        snapshot.date_label = snapshot_date(snapshot)
        snapshot.window_label = (
            f"{format_v6_date(snapshot.start_round)[:16]} – {format_v6_date(snapshot.end_round)[:16]} UTC"
        )
        snapshot.url = links.view_url(snapshot.link_id)
        snapshot.recent_visits = recent.get(snapshot.id, [])
        snapshot.may_edit = _may_edit(access, snapshot, may_edit_all)
    context |= {
        "headings": _headings(tab, columns, COLUMNS, sort, descending),
        "groups": _groups(snapshots, sort, descending, show_visits),
        "show_visits": show_visits,
        "column_count": len(columns),
        "count": len(snapshots),
    }
    if tab == "with-me":  # and the dashboard snapshots e-mailed to me, sorted by the same heading where it applies
        columns = WITH_ME_DASHBOARD_COLUMNS
        sort, descending = _sorting(request, columns, DASHBOARD_COLUMNS)
        rows = _dashboard_rows(access, dashboard_snapshots.shared_with(access.user), sort, descending)
        context |= {
            "dashboard_snapshots": rows,
            "dashboard_headings": _headings(tab, columns, DASHBOARD_COLUMNS, sort, descending),
            "count": len(snapshots) + len(rows),
        }
    return render(request, "web/sharing/snapshots.html", context)


def _may_edit(access, snapshot, may_edit_all: bool) -> bool:
    """Whether the row offers its settings and Revoke: services.check_may_edit's rule, asked without raising."""
    return snapshot.account_group_id == access.account_group.id and (
        may_edit_all or (snapshot.created_by_id == access.user.id and not access.read_only)
    )


def _dashboard_rows(access, listed, sort: str, descending: bool) -> list:
    """Dashboard snapshots as the tables show them: sorted, with their link, widget count, window and whether the
    signed-in user may change or revoke them (by account group and role, as a test snapshot)."""
    listed = listed.select_related("created_by", "account_group").prefetch_related("widgets")
    snapshots = list(listed.order_by(_order(DASHBOARD_COLUMNS[sort][1], descending), "-id"))
    may_edit_all = access.can(EDIT_ALL_SNAPSHOTS) and not access.read_only
    for snapshot in snapshots:
        snapshot.url = links.view_url(snapshot.link_id, dashboard=True)
        snapshot.widget_count = len(snapshot.widgets.all())
        snapshot.window_label = period_label(snapshot.window) if snapshot.window else "each widget's period"
        snapshot.may_edit = _may_edit(access, snapshot, may_edit_all)
    return snapshots


def _back(request):
    tab = request.POST.get("tab", "group")
    return redirect(f"{reverse('web:snapshots')}?tab={tab if tab in dict(TABS) else 'group'}")


@member_view
def snapshot_in_app(request, link_id):
    """A snapshot of the account group (a saved event above all) opened inside the app for its members: the same
    read-only component as the share link, limited to the frozen window and agents, without counting a visit."""
    snapshot = snapshot_or_404(request.access, link_id)
    page_url = reverse("web:snapshot-in-app", args=[snapshot.link_id])
    scope = bounded(
        snapshot.test, scope_of(snapshot), snapshot.start_round, snapshot.end_round, page_url, read_only=True
    )
    scope = replace(scope, timelines=stored.timelines_of(snapshot, scope.rows))  # the share link's stored rollups
    label = f"{'Saved event' if not snapshot.is_public else 'Snapshot'} “{snapshot.display_name}” · {snapshot_date(snapshot)}"
    return render_results(
        request,
        scope,
        template="web/results/page.html",
        extra_context={"snapshot_label": label, "in_app_snapshot": snapshot},
        default_round=snapshot.round_id,
        default_view=snapshot.view or None,
    )


@member_view
@require_POST
def snapshot_update(request, link_id):
    """The expanded row's comment restriction and expiry."""
    access = request.access
    snapshot = snapshot_or_404(access, link_id)
    changes = {"comments_signed_in_only": request.POST.get("signed_in_only") == "on"}
    expiry = request.POST.get("expiry", "keep")
    if expiry == "never":
        changes["expires_date"] = None
    elif expiry.isdigit() and expiry in {v for v, _ in expiry_choices()}:
        changes["expires_date"] = timezone.now() + timedelta(days=int(expiry))
    elif expiry != "keep":
        messages.error(request, "Expiry must be never, 1, 7 or 30 days.")
        return _back(request)
    try:
        services.update_snapshot(access, snapshot, changes)
    except SharingError as exc:
        messages.error(request, str(exc))
        return _back(request)
    messages.success(request, f"Updated “{snapshot.display_name}”.")
    return _back(request)


@member_view
@require_POST
def snapshot_revoke(request, link_id):
    access = request.access
    snapshot = snapshot_or_404(access, link_id)
    try:
        services.revoke_snapshot(access, snapshot)
    except SharingError as exc:
        if request.htmx:  # the share panel's Revoke: the message in the panel
            return render(request, "web/results/_share_result.html", {"error": exc.message, "field": exc.field})
        messages.error(request, str(exc))
        return _back(request)
    if request.htmx:
        context = {"revoked": snapshot.display_name, "new_key": new_idempotency_key()}
        return render(request, "web/results/_share_result.html", context)
    messages.success(request, f"Revoked “{snapshot.display_name}”: its link no longer works.")
    return _back(request)


@member_view
@require_POST
def dashboard_snapshot_revoke(request, link_id):
    access = request.access
    snapshot = dashboard_snapshot_or_404(access, link_id)
    try:
        dashboard_snapshots.revoke_dashboard_snapshot(access, snapshot)
    except SharingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Revoked “{snapshot.display_name}”: its link no longer works.")
    return redirect(f"{reverse('web:snapshots')}?tab=dashboards")


@member_view
@require_POST
def dashboard_snapshot_update(request, link_id):
    """The Dashboard snapshots tab's expiry change: never, or a choice of the share panel from now."""
    access = request.access
    snapshot = dashboard_snapshot_or_404(access, link_id)
    expiry = request.POST.get("expiry", "")
    back = redirect(f"{reverse('web:snapshots')}?tab=dashboards")
    if expiry != "never" and expiry not in {v for v, _ in expiry_choices()}:
        messages.error(request, f"Expiry must be one of {', '.join(label for _, label in expiry_choices())}.")
        return back
    try:
        dashboard_snapshots.change_expiry(access, snapshot, expires_in_days=None if expiry == "never" else int(expiry))
    except SharingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Updated “{snapshot.display_name}”.")
    return back
