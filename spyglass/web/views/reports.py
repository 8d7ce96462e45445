"""The dashboard's scheduled report: its form and last runs on the dashboard page, and the form's two posts (set or
change it, remove it). What a schedule may be and how it runs are spyglass.sharing.reports'; this module only reads
the form and lays out the answer."""

import re
from datetime import time

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from spyglass.accounts.services import zone_of
from spyglass.dashboards.models import ReportSchedule
from spyglass.dashboards.schedules import MAX_DAY_OF_MONTH, WEEKDAYS, rule_of
from spyglass.sharing import reports
from spyglass.sharing.errors import SharingError
from spyglass.sharing.services import MAX_RECIPIENTS

from ..checkpoint import can_edit_organization, can_schedule_reports, member_view, schedule_dashboard_or_404
from ..sharing_panel import addresses, default_dashboard_expiry, expiry_choices

SECTION = "web/dashboard/_schedule.html"
SAVED = "The dashboard's scheduled report was saved."
TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
LAST = "last"


def schedule_context(access, board, *, form=None, error="") -> dict:
    """What the page's "Scheduled report" section shows: the schedule in words with its next run, the form (for
    those who may change it), and the last runs with their links while the snapshots still open."""
    schedule = reports.schedule_of(board)
    organization = access.account_group.organization
    zone = zone_of(organization)
    expiries = expiry_choices()
    if form is None:
        form = _form_of(schedule, expiries)
    return {
        "schedule": schedule,
        "schedule_when": rule_of(schedule).describe(organization.time_zone) if schedule else "",
        "schedule_next": schedule.next_run_at.astimezone(zone) if schedule and schedule.next_run_at else None,
        "schedule_window": _duration(schedule.window) if schedule else "",
        "schedule_expiry": _days(schedule.expires_days) if schedule and schedule.expires_days else "",
        "schedule_runs": reports.last_runs(board),
        "schedule_form": form,
        "schedule_error": error,
        "may_schedule": can_schedule_reports(access),
        "may_edit_organization": can_edit_organization(access),
        "time_zone": organization.time_zone,
        "frequencies": ReportSchedule.FREQUENCIES,
        "weekdays": list(enumerate(WEEKDAYS)),
        "month_days": [(str(d), str(d)) for d in range(1, MAX_DAY_OF_MONTH + 1)] + [(LAST, "Last day")],
        "schedule_expiries": expiries,
        "max_recipients": MAX_RECIPIENTS,
        "schedule_saved_message": SAVED,
    }


def _days(days: int) -> str:
    return f"{days} day{'s' * (days != 1)}"


def _duration(seconds: int) -> str:
    """A report's window in words: "7 days", "24 hours"."""
    if seconds % 86400 == 0:
        return _days(seconds // 86400) if seconds > 86400 else "24 hours"
    hours = seconds // 3600
    return f"{hours} hour{'s' * (hours != 1)}"


def _form_of(schedule: ReportSchedule | None, expiries) -> dict:
    if schedule is None:
        return {
            "frequency": ReportSchedule.WEEKLY,
            "weekday": "0",
            "day": "1",
            "time": "08:00",
            "recipients": "",
            "expiry": default_dashboard_expiry(expiries),
            "enabled": True,
        }
    day = schedule.day_of_month
    return {
        "frequency": schedule.frequency,
        "weekday": str(schedule.weekday if schedule.weekday is not None else 0),
        "day": LAST if day == ReportSchedule.LAST_DAY else str(day or 1),
        "time": schedule.time_of_day.strftime("%H:%M"),
        "recipients": "\n".join(schedule.recipients),
        "expiry": "never" if schedule.expires_days is None else str(schedule.expires_days),
        "enabled": schedule.enabled,
    }


def _parse(form: dict) -> dict:
    """The form's fields as set_schedule's arguments; a SharingError naming the field for what cannot be read."""
    match = TIME.match(form["time"].strip())
    if not match:
        raise SharingError("must be a time of day such as 08:00", "time")
    weekday = int(form["weekday"]) if form["weekday"] in {str(i) for i in range(7)} else None
    days = {str(d) for d in range(1, MAX_DAY_OF_MONTH + 1)}
    day = ReportSchedule.LAST_DAY if form["day"] == LAST else int(form["day"]) if form["day"] in days else None
    expiry = form["expiry"]
    if expiry not in {v for v, _ in expiry_choices()}:
        raise SharingError(f"must be one of {', '.join(label for _, label in expiry_choices())}", "expiry")
    return {
        "frequency": form["frequency"],
        "time_of_day": time(int(match.group(1)), int(match.group(2))),
        "weekday": weekday if form["frequency"] == ReportSchedule.WEEKLY else None,
        "day_of_month": day if form["frequency"] == ReportSchedule.MONTHLY else None,
        "recipients": addresses(form["recipients"]),
        "expires_days": None if expiry == "never" else int(expiry),
        "enabled": form["enabled"],
    }


@require_POST
@member_view
def schedule_set(request):
    """Set or change the dashboard's schedule; a refusal shows the form again with the message (nothing changed)."""
    access = request.access
    board = schedule_dashboard_or_404(access)
    post = request.POST
    form = {key: post.get(key, "")[:2000] for key in ("frequency", "weekday", "day", "time", "recipients", "expiry")}
    form["enabled"] = post.get("enabled") == "on"
    try:
        reports.set_schedule(access, board, **_parse(form))
    except SharingError as exc:
        text = f"{exc.field.capitalize()}: {exc.message}." if exc.field else f"{exc.message}."
        if request.htmx:  # the section again with the message, as 200 (browsers log every 4xx as an error)
            return render(request, SECTION, schedule_context(access, board, form=form, error=text))
        from .dashboard import _board  # the page this form is part of (which imports this module)

        return _board(request, status=exc.status, **schedule_context(access, board, form=form, error=text))
    if request.htmx:
        return render(request, SECTION, schedule_context(access, board) | {"schedule_saved": True})
    messages.success(request, SAVED)
    return redirect("web:dashboard")


@require_POST
@member_view
def schedule_remove(request):
    """Remove the schedule: no more runs; the snapshots it made and the list of runs stay."""
    board = schedule_dashboard_or_404(request.access)
    if reports.remove_schedule(request.access, board):
        messages.success(request, "The scheduled report was removed. The snapshots it made stay until they expire.")
    return redirect("web:dashboard")
