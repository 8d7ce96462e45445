"""Scheduled dashboard snapshots ("reports"): a dashboard's schedule is set and removed here (for the web page and
the v7 API alike), and the worker runs what is due (run_due).

A run makes one dashboard snapshot of the period before it through create_dashboard_snapshot — as the person who
saved the schedule, with their access of now, counted against the organization's creation limit — records a
ReportRun and queues the link for every recipient in the durable outbox, all in one transaction. Each due schedule
is claimed by moving its next_run_at to the next occurrence after now with a conditional UPDATE (on PostgreSQL
after SELECT … FOR UPDATE SKIP LOCKED; SQLite has one writer at a time), so two workers never run one occurrence
twice, and a schedule missed for several periods (the worker was down) runs once, not once per period. A refusal
(no access any more, no permission, the limit) is a failed run with its reason; the person who saved it is told
by e-mail while they still belong to the account group."""

import logging
from datetime import UTC, datetime, time, timedelta

from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from spyglass.accounts.roles import access_for
from spyglass.accounts.services import zone_of
from spyglass.dashboards.models import Dashboard, ReportRun, ReportSchedule
from spyglass.dashboards.schedules import (
    MAX_DAY_OF_MONTH,
    PERIOD_SECONDS,
    WEEKDAYS,
    Rule,
    next_occurrence,
    rule_of,
)
from spyglass.lib.timefmt import format_v6_date
from spyglass.mail.outbox import enqueue

from .dashboard_snapshots import MAX_WINDOW, create_dashboard_snapshot
from .errors import SharingError
from .links import view_url
from .models import DashboardSnapshot
from .services import _text, check_may_create, expiry_date, recipients_of

log = logging.getLogger(__name__)
RUNS_LISTED = 10
RUNS_PER_PASS = 50
FREQUENCY_NAMES = {value for value, _ in ReportSchedule.FREQUENCIES}


def may_schedule(access) -> bool:
    """Who may set or remove a dashboard's schedule: who may create its snapshots (check_may_create's rule)."""
    try:
        check_may_create(access)
    except SharingError:
        return False
    return True


def default_window(frequency: str) -> int:
    """The data a report holds: the last day, week or month — at most what a dashboard snapshot holds (7 days)."""
    return min(PERIOD_SECONDS[frequency], MAX_WINDOW)


def set_schedule(
    access,
    dashboard: Dashboard,
    *,
    frequency,
    time_of_day,
    weekday=None,
    day_of_month=None,
    recipients=(),
    expires_days=None,
    window=None,
    name="",
    enabled=True,
    starts_at: datetime | None = None,
    now: datetime | None = None,
) -> ReportSchedule:
    """Create or replace the dashboard's schedule. `time_of_day` is in the organization's time zone; `weekday` 0–6
    (Monday first) for weekly, `day_of_month` 1–28 or ReportSchedule.LAST_DAY for monthly; `window` seconds of data
    up to 7 days (default: the last period); `expires_days` each snapshot's expiry (None = never), within the
    organization's maximum; `starts_at`: not before then. Refused with a SharingError naming the field; the person
    saving it becomes the one the runs act as."""
    check_may_create(access)
    if dashboard.account_group_id != access.account_group.id:
        raise SharingError("not a dashboard of this account group", "dashboard")
    if not isinstance(frequency, str) or frequency not in FREQUENCY_NAMES:
        raise SharingError("must be daily, weekly or monthly", "frequency")
    if not isinstance(time_of_day, time):
        raise SharingError("must be a time of day, HH:MM", "time")
    rule = Rule(frequency, time_of_day.replace(second=0, microsecond=0, tzinfo=None))
    if frequency == ReportSchedule.WEEKLY:
        if isinstance(weekday, bool) or weekday not in range(7):
            raise SharingError(f"must be one of {', '.join(WEEKDAYS)}", "weekday")
        rule = Rule(frequency, rule.time_of_day, weekday=weekday)
    elif frequency == ReportSchedule.MONTHLY:
        if isinstance(day_of_month, bool) or day_of_month not in range(MAX_DAY_OF_MONTH + 1):
            raise SharingError(f"must be a day from 1 to {MAX_DAY_OF_MONTH}, or the last day", "day")
        rule = Rule(frequency, rule.time_of_day, day_of_month=day_of_month)
    addresses = recipients_of(list(recipients) if isinstance(recipients, list | tuple) else recipients)
    window = default_window(frequency) if window is None else window
    if isinstance(window, bool) or not isinstance(window, int) or not 3600 <= window <= MAX_WINDOW:
        raise SharingError("must be 1 hour to 7 days of data", "window")
    if expires_days is not None and (isinstance(expires_days, bool) or not isinstance(expires_days, int)):
        raise SharingError("must be a number of days", "expiry")
    if expires_days is not None and expires_days < 1:
        raise SharingError("must be at least 1 day", "expiry")
    now = now or timezone.now()
    expiry_date(expires_days, now)  # within the organization's maximum
    name = _text(name, "name", 255, required=False)
    try:
        with transaction.atomic():
            schedule = ReportSchedule.objects.select_for_update().filter(dashboard=dashboard).first()
            schedule = schedule or ReportSchedule(dashboard=dashboard)
            schedule.frequency, schedule.time_of_day = rule.frequency, rule.time_of_day
            schedule.weekday, schedule.day_of_month = rule.weekday, rule.day_of_month
            schedule.recipients, schedule.window, schedule.expires_days = addresses, window, expires_days
            schedule.name, schedule.enabled = name, bool(enabled)
            schedule.created_by, schedule.modified_date = access.user, now
            after = max(now, starts_at - timedelta(seconds=1)) if starts_at else now  # starts_at may be the first
            schedule.next_run_at = _next(schedule, after) if schedule.enabled else None
            schedule.save()
    except IntegrityError:  # another request made the dashboard's first schedule at the same moment
        raise SharingError("was set by someone else meanwhile; look at it and try again", "schedule") from None
    return schedule


def remove_schedule(access, dashboard: Dashboard) -> bool:
    """Remove the dashboard's schedule (the snapshots it made stay); False when it had none."""
    check_may_create(access)
    removed, _ = ReportSchedule.objects.filter(
        dashboard=dashboard, dashboard__account_group=access.account_group
    ).delete()
    return removed > 0


def schedule_of(dashboard: Dashboard) -> ReportSchedule | None:
    return ReportSchedule.objects.select_related("created_by").filter(dashboard=dashboard).first()


def _zone_of_dashboard(dashboard: Dashboard):
    return zone_of(dashboard.account_group.organization)


def _next(schedule: ReportSchedule, after: datetime) -> datetime:
    return next_occurrence(rule_of(schedule), _zone_of_dashboard(schedule.dashboard), after)


def reschedule_organization(organization_id: int, now: datetime | None = None) -> int:
    """The organization's time zone changed: every enabled schedule's next run in the new zone."""
    now = now or timezone.now()
    schedules = ReportSchedule.objects.select_related("dashboard__account_group__organization").filter(
        enabled=True, dashboard__account_group__organization_id=organization_id
    )
    count = 0
    for schedule in schedules:
        ReportSchedule.objects.filter(id=schedule.id).update(next_run_at=_next(schedule, now))
        count += 1
    return count


def last_runs(dashboard: Dashboard, now: datetime | None = None, limit: int = RUNS_LISTED) -> list[dict]:
    """The dashboard's latest runs, newest first, each with its snapshot's link while the snapshot still opens."""
    now = now or timezone.now()
    runs = list(dashboard.report_runs.order_by("-ran_at", "-id")[:limit])
    links = {r.snapshot_link_id for r in runs if r.snapshot_link_id}
    alive = {
        s.link_id
        for s in DashboardSnapshot.objects.filter(link_id__in=links, account_group_id=dashboard.account_group_id)
        if not s.is_expired(now)
    }
    return [
        {"run": r, "link": view_url(r.snapshot_link_id, dashboard=True) if r.snapshot_link_id in alive else ""}
        for r in runs
    ]


# --- the worker's side ---------------------------------------------------------------------------------------------


def run_due(now: datetime | None = None) -> dict:
    """Run every schedule due at `now` once; returns counts of runs made and failed."""
    now = now or timezone.now()
    counts = {"ok": 0, "failed": 0}
    due = ReportSchedule.objects.filter(enabled=True, next_run_at__lte=now).order_by("next_run_at", "id")
    for schedule_id in list(due.values_list("id", flat=True)[:RUNS_PER_PASS]):
        try:
            status = _run_claimed(schedule_id, now)
        except Exception:  # one broken schedule must not stop the others; it stays due and is tried again
            log.exception("report schedule %s failed to run", schedule_id)
            continue
        if status:
            counts[status] += 1
    return counts


def _run_claimed(schedule_id: int, now: datetime) -> str | None:
    with transaction.atomic():
        due = ReportSchedule.objects.filter(id=schedule_id, enabled=True, next_run_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        schedule = due.select_related("dashboard__account_group__organization", "created_by").first()
        if schedule is None:  # another worker has it, or ran it meanwhile
            return None
        scheduled_for = schedule.next_run_at
        following = _next(schedule, now)  # the next future occurrence: missed ones are not run one by one
        claimed = ReportSchedule.objects.filter(id=schedule.id, next_run_at=scheduled_for).update(
            next_run_at=following, last_run_at=now
        )
        if not claimed:
            return None
        return _run(schedule, scheduled_for, now)


def _run(schedule: ReportSchedule, scheduled_for, now: datetime) -> str:
    dashboard = schedule.dashboard
    creator = schedule.created_by
    access = access_for(creator, dashboard.account_group_id) if creator and creator.is_active else None
    run = ReportRun(dashboard=dashboard, ran_at=now, scheduled_for=scheduled_for, status=ReportRun.FAILED)
    if access is None:
        if creator is not None and not creator.is_active:
            run.error = f"the account of {creator.email}, who set the schedule, is deactivated; set the schedule again"
        else:
            who = creator.email if creator else "the person who set the schedule"
            group = dashboard.account_group.name
            run.error = f"{who} no longer belongs to the account group {group}; set the schedule again"
        run.save()
        return run.status
    try:
        snapshot = create_dashboard_snapshot(
            access,
            dashboard,
            window=schedule.window,
            end=min(int(now.timestamp()), int(timezone.now().timestamp())),
            expires_in_days=schedule.expires_days,
            display_name=_snapshot_name(schedule, now),
            idempotency_key=f"report-{schedule.id}-{int(scheduled_for.timestamp())}",
        )
    except SharingError as exc:
        run.error = str(exc)[:500]
        run.save()
        _tell_creator(schedule, run, creator)
        return run.status
    run.status, run.snapshot_link_id, run.recipients = ReportRun.OK, snapshot.link_id, len(schedule.recipients)
    run.save()
    _send(schedule, snapshot)
    return run.status


def _snapshot_name(schedule: ReportSchedule, now: datetime) -> str:
    base = schedule.name or schedule.dashboard.name
    local = now.astimezone(_zone_of_dashboard(schedule.dashboard))
    return f"{base}: {schedule.get_frequency_display().lower()} report {local:%Y-%m-%d}"[:255]


def _email_context(schedule: ReportSchedule, **extra) -> dict:
    dashboard = schedule.dashboard
    return {
        "dashboard": dashboard.name,
        "account_group": dashboard.account_group.name,
        "when": rule_of(schedule).describe(dashboard.account_group.organization.time_zone),
        "frequency": schedule.get_frequency_display().lower(),
        **extra,
    }


def _send(schedule: ReportSchedule, snapshot: DashboardSnapshot) -> None:
    start = int(snapshot.frozen_at.timestamp()) - schedule.window if schedule.window else None
    context = _email_context(
        schedule,
        snapshot=snapshot,
        link=view_url(snapshot.link_id, dashboard=True),
        window_start=format_v6_date(start) if start else "",
        window_end=format_v6_date(int(snapshot.frozen_at.timestamp())),
        expires=snapshot.expires_date.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if snapshot.expires_date else "",
    )
    subject = " ".join(snapshot.display_name.split())[:200]
    text = render_to_string("sharing/email/report.txt", context)
    html = render_to_string("sharing/email/report.html", context)
    for address in schedule.recipients:  # one message each: recipients do not see one another
        enqueue([address], subject, text, html, kind="dashboard-report")


def _tell_creator(schedule: ReportSchedule, run: ReportRun, creator) -> None:
    if creator is None or not creator.email:
        return
    context = _email_context(schedule, error=run.error)
    enqueue(
        [creator.email],
        f"Scheduled report of {schedule.dashboard.name} not made"[:200],
        render_to_string("sharing/email/report_failed.txt", context),
        kind="dashboard-report-failed",
    )
