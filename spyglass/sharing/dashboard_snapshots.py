"""Dashboard snapshots: a dashboard frozen into a share link — created, read, listed, revoked here, for the web app
(and any API) alike.

As for test snapshots nothing is copied: each widget keeps its definition (test, metric) and its window of rounds,
clamped to what the creator's account group could read then (a live share's start, its agents), and reads its
source test's rows written before the freeze (ReadScope.frozen_at). A freezing RetentionPin keeps the window
through retention and, as a test snapshot's does, has results.upsert copy a row to a copy store (a hidden Test row,
one per source test of the snapshot) before replacing it, so a rewritten row shows as it was. A widget read through
a live share dies with the share (_end_dashboard_widgets)."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from spyglass.accounts.roles import VIEW_ALL_SNAPSHOTS
from spyglass.dashboards.metrics import METRICS, PERIODS, series_and_agents, series_by_agent
from spyglass.dashboards.services import NO_LONGER_SHARED, OK, TEST_DELETED
from spyglass.lib import anonymize
from spyglass.liveshares import services as liveshares
from spyglass.monitoring.models import Agent, RetentionPin, Test
from spyglass.monitoring.results import lock_test_for_freeze
from spyglass.monitoring.scope import ReadScope, read_scope
from spyglass.monitoring.tests_service import purge_deleted_test, visible_tests

from . import limits, links
from .errors import NotFound, SharingError
from .models import DashboardSnapshot, DashboardSnapshotRecipient, DashboardSnapshotWidget
from .services import (
    _text,
    add_recipients,
    check_may_create,
    check_may_edit,
    copy_store,
    expiry_date,
    idempotency_key_of,
    recipients_of,
)

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
    recipients=(),
    note="",
    comments_signed_in_only=True,
    anonymized=False,
) -> DashboardSnapshot:
    """Freeze the dashboard's widgets over `window` (seconds up to 7 days, or WIDGETS_PERIODS) ending at `end`
    (epoch seconds, default and at most now) into a share link. Expiry: `expires_in_days` (None = never) or an
    `expires_at` datetime, either within the organization's maximum. Counts toward the organization's snapshot
    creation limit; the same idempotency key from the same creator returns the snapshot already made (`replayed`
    True). `recipients` get the link and `note` by e-mail; `anonymized` names agents "Agent N" everywhere it is
    read. Raises a SharingError subclass when refused."""
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
    fields = {
        "display_name": name,
        "note": _text(note, "note", 2000, required=False, multiline=True),
        "comments_signed_in_only": bool(comments_signed_in_only),
        "anonymized": bool(anonymized),
    }
    addresses = recipients_of(list(recipients))
    _expires(expires_in_days, expires_at, timezone.now())  # refuse before taking the limit
    widgets = list(dashboard.widgets.order_by("position", "id"))
    if not widgets:
        raise SharingError("the dashboard has no widgets to freeze", "dashboard")
    try:
        with transaction.atomic():
            expiry = (expires_in_days, expires_at)
            snapshot = _create(access, dashboard, widgets, window, end, expiry, fields, key)
            if not snapshot.replayed:  # type: ignore[attr-defined]
                add_recipients(snapshot, addresses)
            return snapshot
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


def _create(access, dashboard, widgets, window, end, expiry, fields, key) -> DashboardSnapshot:
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
        window=window,
        frozen_at=frozen_at,
        created_by=access.user,
        created_date=frozen_at,
        expires_date=_expires(expiry[0], expiry[1], frozen_at),
        idempotency_key=key,
        **fields,
    )
    rows = []
    copies: dict[int, Test] = {}  # per source test, where its rows replaced after the freeze are copied
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
            if test.id not in copies:
                copies[test.id] = copy_store(test, access, frozen_at)
            # Frozen as a test snapshot is: a row replaced later is first copied to the copy store (results.upsert),
            # and the widget reads the rows written before the freeze plus those copies (frozen_widget_data).
            pin: dict = {"start_round": row.start_round, "end_round": row.end_round}
            pin["reason"] = f"dashboard snapshot {snapshot.id}"
            row.pin = RetentionPin.objects.create(test=test, frozen_at=frozen_at, copy_to=copies[test.id], **pin)
            RetentionPin.objects.create(test=copies[test.id], **pin)  # keeps the copied rows through retention
        rows.append(row)
    DashboardSnapshotWidget.objects.bulk_create(rows)
    snapshot.replayed = False  # type: ignore[attr-defined]
    return snapshot


def _stores_with_copies(widgets) -> set[int]:
    """The copy stores of these widgets that hold rows (one query). Asked of every pin into a store: widgets of one
    test share its store, and only the pin whose copy came first is marked (results._copy_before_replace)."""
    stores = {w.pin.copy_to_id for w in widgets if w.pin is not None and w.pin.copy_to_id}
    if not stores:
        return set()
    marked = RetentionPin.objects.filter(copy_to_id__in=stores, has_copies=True)
    return set(marked.values_list("copy_to_id", flat=True))


def _scope(snapshot: DashboardSnapshot, widget: DashboardSnapshotWidget, with_copies: set[int]) -> ReadScope:
    """What the widget reads: its window of its source test's rows as they were when frozen — the rows written
    before the freeze, and those replaced since from the copy store (the pin's copy_to) — for its agents."""
    pin = widget.pin
    store = pin.copy_to_id if pin is not None else None
    return ReadScope(
        source_test_id=widget.source_test_id,  # type: ignore[arg-type]  # only widgets with a test are read
        start_round=widget.start_round,
        end_round=widget.end_round,
        agent_ids=frozenset(widget.agent_ids) if widget.agent_ids is not None else None,
        frozen_at=snapshot.frozen_at,
        copies_test_id=store if store in with_copies else None,
    )


def agent_order(snapshot: DashboardSnapshot, seen=()) -> tuple[int, ...] | None:
    """An anonymized snapshot's agents of all widgets by id — "Agent 1" is the first, in every widget, download and
    API body alike — written by the first read from the agents it saw (`seen`: every widget's frozen window's), then
    read back unchanged. None when the snapshot names agents."""
    if not snapshot.anonymized:
        return None
    if snapshot.agent_order is None:
        order = sorted(set(seen))
        DashboardSnapshot.objects.filter(id=snapshot.id, agent_order__isnull=True).update(agent_order=order)
        snapshot.agent_order = DashboardSnapshot.objects.values_list("agent_order", flat=True).get(id=snapshot.id)
    return tuple(snapshot.agent_order or ())


def _agent_names(order: tuple[int, ...] | None, agent_ids) -> dict[int, str]:
    """{agent id: the name the snapshot shows for it}, in the order it lists them: pseudonyms by number when
    anonymized (`order`), else names (one query)."""
    if order is not None:
        ranked = sorted(set(agent_ids), key=lambda a: anonymize.agent_rank(order, a))
        return {a: anonymize.agent_label(order, a) for a in ranked}
    found = Agent.objects.filter(id__in=set(agent_ids)).values_list("id", "name")
    return dict(sorted(found, key=lambda pair: (pair[1].casefold(), pair[0])))


def frozen_widget_data(snapshot: DashboardSnapshot) -> list[dict]:
    """Every widget of the snapshot in order, shaped as dashboards.services.widget_data's items (plus `end`, the
    frozen window's last round, and `agents`, the names — or pseudonyms — of the agents it shows): one read of the
    per-round rollups per widget, over its window's rows as they were when frozen."""
    widgets = list(snapshot.widgets.select_related("source_test", "pin").order_by("position"))
    with_copies = _stores_with_copies(widgets)
    out: list[dict] = []
    seen: dict[int, set] = {}
    shared: dict = {}  # widgets of one test, kind and window read its rollups once
    for widget in widgets:
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
            "agents": [],
            "end": widget.end_round,
        }
        if widget.state == OK and widget.source_test is None:
            item["state"] = TEST_DELETED
        elif widget.state == OK and widget.metric in METRICS:
            item["step"], item["data"], seen[widget.position] = series_and_agents(
                widget.source_test,
                widget.metric,
                widget.period,
                widget.end_round,
                _scope(snapshot, widget, with_copies),
                shared,
            )
        out.append(item)
    every = {a for agents in seen.values() for a in agents}
    names = _agent_names(agent_order(snapshot, every), every)
    for item in out:
        agents = seen.get(item["order"], set())
        item["agents"] = [name for a, name in names.items() if a in agents]
    return out


def frozen_widget(snapshot: DashboardSnapshot, position: int) -> dict | None:
    """One widget of frozen_widget_data with, under `byAgent`, its metric per agent and round as frozen: [{"agent":
    name or pseudonym, "data": points}], agents in the order the page names them. None when there is no such
    widget. What the downloads and the API's widget data give."""
    item = next((w for w in frozen_widget_data(snapshot) if w["order"] == position), None)
    if item is None:
        return None
    item["byAgent"] = []
    widget = snapshot.widgets.select_related("source_test", "pin").filter(position=position).first()
    if widget is None or item["state"] != OK or widget.metric not in METRICS or widget.source_test is None:
        return item
    scope = _scope(snapshot, widget, _stores_with_copies([widget]))
    per_agent = series_by_agent(widget.source_test, widget.metric, widget.period, widget.end_round, scope)
    names = _agent_names(agent_order(snapshot), per_agent)
    item["byAgent"] = [{"agent": name, "data": per_agent[a]} for a, name in names.items()]
    return item


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


def shared_with(user):
    """Dashboard snapshots whose e-mail recipients include the user's login e-mail ("Shared with me"), as
    services.shared_with for test snapshots (a dashboard snapshot is always a share link: being e-mailed it opens it)."""
    mailed = DashboardSnapshotRecipient.objects.filter(email=user.email.lower()).values("snapshot_id")
    return DashboardSnapshot.objects.filter(id__in=mailed)


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
        widgets = list(snapshot.widgets.values_list("pin_id", "source_test_id", "pin__copy_to_id"))
        RetentionPin.objects.filter(id__in=[pin for pin, _, _ in widgets if pin]).delete()
        Test.objects.filter(id__in={copy for _, _, copy in widgets if copy}).delete()  # copies and their pins
        snapshot.delete()
        for test_id in {test for _, test, _ in widgets if test}:
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
    held = list(ended.values_list("pin_id", "pin__copy_to_id"))
    ended.update(state=NO_LONGER_SHARED, source_test=None, live_share=None, pin=None)
    RetentionPin.objects.filter(id__in=[pin for pin, _ in held if pin]).delete()
    Test.objects.filter(id__in={copy for _, copy in held if copy}).delete()  # the copies go with the data
