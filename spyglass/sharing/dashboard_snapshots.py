"""Dashboard snapshots: a dashboard frozen into a share link — created, read, listed, revoked here, for the web app
(and any API) alike.

As for test snapshots nothing is copied: each widget keeps its definition (test, metric) and its window of rounds,
clamped to what the creator's account group could read then (a live share's start, its agents), and reads its
source test's rows written before the freeze (ReadScope.frozen_at); a RetentionPin keeps the window through
retention. A widget read through a live share dies with the share (_end_dashboard_widgets)."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from spyglass.accounts.roles import VIEW_ALL_SNAPSHOTS
from spyglass.dashboards.metrics import METRICS, PERIODS, series
from spyglass.dashboards.services import NO_LONGER_SHARED, OK, TEST_DELETED
from spyglass.liveshares import services as liveshares
from spyglass.monitoring.models import RetentionPin
from spyglass.monitoring.results import lock_test_for_freeze
from spyglass.monitoring.scope import ReadScope, read_scope
from spyglass.monitoring.tests_service import purge_deleted_test, visible_tests

from . import limits, links
from .errors import NotFound, SharingError
from .models import DashboardSnapshot, DashboardSnapshotWidget
from .services import _text, check_may_create, check_may_edit, expiry_date, idempotency_key_of

WIDGETS_PERIODS = 0  # the window choice "each widget's own period"
WEB_WINDOWS = (WIDGETS_PERIODS, *PERIODS)  # what the dashboard page offers: the widgets' periods or 1 h … 7 days
MIN_WINDOW, MAX_WINDOW = 60, 7 * 24 * 3600  # one window for all (the API may ask for any in between)
API_EXPIRY_DAYS = 365  # v7's default: a year


def api_expiry_days() -> int:
    """The API's default expiry: a year, or the organization's maximum when that is shorter."""
    ceiling = settings.SNAPSHOT_MAX_EXPIRY_DAYS
    return min(API_EXPIRY_DAYS, ceiling) if ceiling else API_EXPIRY_DAYS


def create_dashboard_snapshot(
    access,
    dashboard,
    *,
    window: int = WIDGETS_PERIODS,
    end: int | None = None,
    expires_in_days=None,
    expires_at=None,
    display_name="",
    idempotency_key="",
) -> DashboardSnapshot:
    """Freeze the dashboard's widgets over `window` (seconds up to 7 days, or WIDGETS_PERIODS) ending at `end`
    (epoch seconds, default and at most now) into a share link. Expiry: `expires_in_days` (None = never) or an
    `expires_at` datetime, either within the organization's maximum. Counts toward the organization's snapshot
    creation limit; the same idempotency key from the same creator returns the snapshot already made (`replayed`
    True). Raises a SharingError subclass when refused."""
    key = idempotency_key_of(idempotency_key)
    check_may_create(access)
    if dashboard.account_group_id != access.account_group.id:
        raise NotFound()
    if key:
        earlier = _made_with(access, key, dashboard)
        if earlier is not None:
            return earlier
    if isinstance(window, bool) or not isinstance(window, int):
        raise SharingError("must be a number of seconds", "window")
    if window != WIDGETS_PERIODS and not MIN_WINDOW <= window <= MAX_WINDOW:
        raise SharingError("must be the widgets' periods or one window of 1 minute to 7 days", "window")
    if end is not None and end > timezone.now().timestamp():
        raise SharingError("must not be in the future", "endDate")
    name = _text(display_name or dashboard.name, "displayName", 255)
    _expires(expires_in_days, expires_at, timezone.now())  # refuse before taking the limit
    widgets = list(dashboard.widgets.order_by("position", "id"))
    if not widgets:
        raise SharingError("the dashboard has no widgets to freeze", "dashboard")
    try:
        with transaction.atomic():
            expiry = (expires_in_days, expires_at)
            return _create(access, dashboard, widgets, window, end, expiry, name, key)
    except IntegrityError:
        earlier = _made_with(access, key, dashboard) if key else None
        if earlier is None:
            raise
        return earlier


def _made_with(access, key: str, dashboard) -> DashboardSnapshot | None:
    earlier = DashboardSnapshot.objects.filter(created_by=access.user, idempotency_key=key).first()
    if earlier is None:
        return None
    if earlier.dashboard_id != dashboard.id or earlier.account_group_id != access.account_group.id:
        raise SharingError("was already used for another snapshot; send a new key", "idempotencyKey")
    earlier.replayed = True  # type: ignore[attr-defined]
    return earlier


def _expires(days, at, now):
    """The expiry date: `at` when given (in the future, within the organization's maximum), else `days` from now."""
    if at is None:
        return expiry_date(days, now)
    if at <= now:
        raise SharingError("must be in the future", "expirationDate")
    ceiling = settings.SNAPSHOT_MAX_EXPIRY_DAYS
    if ceiling and at > now + timedelta(days=ceiling):
        raise SharingError(f"snapshots may live at most {ceiling} days here", "expirationDate")
    return at


def _create(access, dashboard, widgets, window, end, expiry, name, key) -> DashboardSnapshot:
    tests = {t.id: t for t in visible_tests(access).filter(id__in=[w.test_id for w in widgets if w.test_id])}
    # Live shares first (the order every creation takes its locks in): a share that ends meanwhile either ends
    # before us (its widget freezes as "no longer shared") or waits and then ends this widget too.
    shares = {}
    for test in sorted(tests.values(), key=lambda t: t.id):
        if test.live_share:
            shares[test.id] = liveshares.granting_share(access, test, lock=True)
    if key:
        limits.lock(access.organization_id)
        earlier = _made_with(access, key, dashboard)
        if earlier is not None:
            return earlier
    limits.take(access.organization_id)
    for test_id in sorted(tests):
        lock_test_for_freeze(test_id)
    frozen_at = timezone.now()
    now = int(frozen_at.timestamp()) if end is None else end
    snapshot = DashboardSnapshot.objects.create(
        dashboard=dashboard,
        account_group=access.account_group,
        link_id=links.new_link_id(),
        display_name=name,
        window=window,
        frozen_at=frozen_at,
        created_by=access.user,
        created_date=frozen_at,
        expires_date=_expires(expiry[0], expiry[1], frozen_at),
        idempotency_key=key,
    )
    rows = []
    for position, widget in enumerate(widgets):
        period = window or widget.period
        test = tests.get(widget.test_id)
        row = DashboardSnapshotWidget(
            snapshot=snapshot,
            position=position,
            source_test=test,
            test_name=test.name if test else widget.test_name,
            metric=widget.metric,
            period=period,
            start_round=now - period,
            end_round=now,
        )
        if test is None or (test.live_share and shares.get(test.id) is None):
            row.source_test = None
            row.state = NO_LONGER_SHARED if widget.live_share or widget.test_id else TEST_DELETED
        else:
            allowed = read_scope(access, test)  # never more than the group could see: a live share's start
            start, end = allowed.clamp(now - period, now)  # both given, so both come back
            row.start_round, row.end_round = int(start or 0), int(end or 0)
            row.agent_ids = sorted(allowed.agent_ids) if allowed.agent_ids is not None else None
            row.live_share = shares.get(test.id)
            row.pin = RetentionPin.objects.create(
                test=test,
                start_round=row.start_round,
                end_round=row.end_round,
                reason=f"dashboard snapshot {snapshot.id}",
            )
        rows.append(row)
    DashboardSnapshotWidget.objects.bulk_create(rows)
    snapshot.replayed = False  # type: ignore[attr-defined]
    return snapshot


def frozen_widget_data(snapshot: DashboardSnapshot) -> list[dict]:
    """Every widget of the snapshot in order, shaped as dashboards.services.widget_data's items (plus `end`, the
    frozen window's last round): one aggregate per widget, over its window's rows as they were when frozen."""
    out = []
    for widget in snapshot.widgets.select_related("source_test").order_by("position"):
        item: dict = {
            "widgetId": widget.id,
            "order": widget.position,
            "testId": widget.source_test_id,
            "testName": widget.test_name,
            "metric": widget.metric,
            "unit": METRICS[widget.metric].unit if widget.metric in METRICS else "",
            "period": widget.period,
            "liveShare": int(widget.live_share_id is not None),
            "state": widget.state,
            "step": None,
            "data": [],
            "end": widget.end_round,
        }
        if widget.state == OK and widget.source_test is None:
            item["state"] = TEST_DELETED
        elif widget.state == OK and widget.metric in METRICS:
            scope = ReadScope(
                source_test_id=widget.source_test.id,  # type: ignore[union-attr]  # None went to the branch above
                start_round=widget.start_round,
                end_round=widget.end_round,
                agent_ids=frozenset(widget.agent_ids) if widget.agent_ids is not None else None,
                frozen_at=snapshot.frozen_at,
            )
            item["step"], item["data"] = series(
                widget.source_test, widget.metric, widget.period, widget.end_round, scope
            )
        out.append(item)
    return out


def find_shared(link_id) -> DashboardSnapshot | None:
    """The dashboard snapshot with this link id, or None; malformed ids never reach the database."""
    if not links.is_well_formed(link_id):
        return None
    return DashboardSnapshot.objects.select_related("created_by", "account_group").filter(link_id=link_id).first()


def record_visit(snapshot: DashboardSnapshot) -> None:
    """One more view, counted in SQL: concurrent views never overwrite each other."""
    DashboardSnapshot.objects.filter(id=snapshot.id).update(visits=F("visits") + 1)


def visible_dashboard_snapshots(access):
    """Dashboard snapshots of the caller's account group, by the rule of test snapshots' visible_snapshots."""
    qs = DashboardSnapshot.objects.filter(account_group=access.account_group)
    if not access.can(VIEW_ALL_SNAPSHOTS):
        qs = qs.filter(created_by=access.user)
    return qs


def change_expiry(access, snapshot: DashboardSnapshot, *, expires_in_days=None, expires_at=None) -> None:
    """A new expiry from now (`expires_in_days`, None = never) or at `expires_at`, within the organization's maximum;
    by the creator or a role that may edit every snapshot, as for test snapshots."""
    check_may_edit(access, snapshot)
    snapshot.expires_date = _expires(expires_in_days, expires_at, timezone.now())
    snapshot.save(update_fields=["expires_date"])


def revoke_dashboard_snapshot(access, snapshot: DashboardSnapshot) -> None:
    """Delete the snapshot, its widgets and pins: the link answers 404 on every process at once."""
    check_may_edit(access, snapshot)
    _delete(snapshot)


def _delete(snapshot: DashboardSnapshot) -> None:
    with transaction.atomic():
        widgets = list(snapshot.widgets.values_list("pin_id", "source_test_id"))
        RetentionPin.objects.filter(id__in=[pin for pin, _ in widgets if pin]).delete()
        snapshot.delete()
        for test_id in {test for _, test in widgets if test}:
            purge_deleted_test(test_id)


EXPIRED_KEPT_DAYS = 30


def purge_expired(now=None) -> int:
    """Delete dashboard snapshots expired more than EXPIRED_KEPT_DAYS ago, releasing their pins. Run by the worker."""
    cutoff = (now or timezone.now()) - timedelta(days=EXPIRED_KEPT_DAYS)
    expired = list(DashboardSnapshot.objects.filter(expires_date__lt=cutoff))
    for snapshot in expired:
        _delete(snapshot)
    return len(expired)


@liveshares.register_ending
def _end_dashboard_widgets(share_ids) -> None:
    """Live shares are ending: widgets frozen through them lose their data, in the same transaction."""
    ended = DashboardSnapshotWidget.objects.filter(live_share_id__in=share_ids)
    pins = [pin for pin in ended.values_list("pin_id", flat=True) if pin]
    ended.update(state=NO_LONGER_SHARED, source_test=None, live_share=None, pin=None)
    RetentionPin.objects.filter(id__in=pins).delete()
