"""The v7 shapes of a dashboard's snapshot schedule: a DashboardScheduleRequest read (`PUT
/dashboards/{dashboardId}/actions/schedule`, the SDK's update_dashboard_schedule) and the DashboardSchedule a
dashboard's body carries as `schedule`.

A DashboardScheduleRequest maps onto sharing.reports.set_schedule: `cronSpec.repeat` EVERY_DAY, EVERY_WEEK or
EVERY_MONTH; `cronSpec.startTime` read in `cronSpec.zoneCode` (which must be the organization's time zone) gives
the time of day, the weekday and the day of the month (the 29th to the 31st: the last day) and the first run is not
before it; `dataTimespan` the data each snapshot holds (at most 7 days); `dataSource.name` the snapshots' name;
`recipients`; `expiresAfter` seconds, rounded up to days; `flagEnabled`. What spyglass does not do (other repeats,
an end to the repetition, PDFs, locking) is a 400 naming the field (docs/api-v7.md)."""

import math
from datetime import UTC, datetime, timedelta

from rest_framework.exceptions import ValidationError

from spyglass.accounts.services import zone_of
from spyglass.dashboards.models import ReportSchedule
from spyglass.dashboards.schedules import representative_occurrence, rule_at, rule_of
from spyglass.sharing.dashboard_snapshots import api_expiry_days

from .conventions import iso

REPEATS = {
    "EVERY_DAY": ReportSchedule.DAILY,
    "EVERY_WEEK": ReportSchedule.WEEKLY,
    "EVERY_MONTH": ReportSchedule.MONTHLY,
}
_REPEAT_OF = {frequency: repeat for repeat, frequency in REPEATS.items()}
TIMESPAN_SECONDS = {"DAY": 86400, "WEEK": 7 * 86400}
DAY = 86400
LAST_START = 4102444800  # 2100-01-01: epoch seconds beyond are not a schedule's start
MIN_EXPIRES, MAX_EXPIRES = DAY, 157680000  # the SDK's bounds: a day to five years


def _flag(data: dict, name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ValidationError({name: "must be true or false"})
    return value


def _object(data, name: str) -> dict:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise ValidationError({name: "is required: an object"})
    return value


def _int(value, name: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValidationError({name: f"must be a whole number from {minimum} to {maximum}"})
    return value


def schedule_arguments(data, organization) -> dict:
    """A DashboardScheduleRequest as set_schedule's arguments; a 400 naming the field for anything else."""
    if not isinstance(data, dict):
        raise ValidationError("The body must be a DashboardScheduleRequest object")
    cron = _object(data, "cronSpec")
    repeat = cron.get("repeat")
    if not isinstance(repeat, str) or repeat not in REPEATS:
        raise ValidationError({"cronSpec.repeat": "must be EVERY_DAY, EVERY_WEEK or EVERY_MONTH here"})
    if cron.get("endRepeat") not in (None, {"endConditionType": "NEVER"}):
        raise ValidationError({"cronSpec.endRepeat": "schedules here repeat until removed: leave it out or NEVER"})
    if cron.get("zoneCode") != organization.time_zone:
        raise ValidationError(
            {"cronSpec.zoneCode": f"must be the organization's time zone, '{organization.time_zone}'"}
        )
    start = _int(cron.get("startTime"), "cronSpec.startTime", 0, LAST_START)
    starts_at = datetime.fromtimestamp(start, UTC)
    rule = rule_at(REPEATS[repeat], starts_at, zone_of(organization))
    span = _object(data, "dataTimespan")
    if not isinstance(span.get("period"), str) or span["period"] not in TIMESPAN_SECONDS:
        raise ValidationError({"dataTimespan.period": "must be DAY or WEEK: a snapshot holds at most 7 days"})
    window = _int(span.get("n"), "dataTimespan.n", 1, 7) * TIMESPAN_SECONDS[span["period"]]
    source = _object(data, "dataSource")
    name = source.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"dataSource.name": "is required: the snapshots' name"})
    if "flagEnabled" not in data:
        raise ValidationError({"flagEnabled": "is required: true or false"})
    if _flag(data, "flagLocked", False):
        raise ValidationError({"flagLocked": "is not supported: whoever may snapshot the dashboard may change it"})
    if _flag(data, "flagAttachPdfToEmail", False):
        raise ValidationError({"flagAttachPdfToEmail": "is not supported: the e-mail carries the snapshot's link"})
    if not _flag(data, "flagAutoShare", True):
        raise ValidationError({"flagAutoShare": "must be true: the recipients always get the link"})
    _flag(data, "flagIsIncludePiiUserData", False)  # a dashboard snapshot holds no user data either way
    expires = data.get("expiresAfter")
    days = (
        api_expiry_days()
        if expires is None
        else math.ceil(_int(expires, "expiresAfter", MIN_EXPIRES, MAX_EXPIRES) / DAY)
    )
    recipients = data.get("recipients") or []
    return {
        "frequency": rule.frequency,
        "time_of_day": rule.time_of_day,
        "weekday": rule.weekday,
        "day_of_month": rule.day_of_month,
        "recipients": recipients,
        "expires_days": days,
        "window": window,
        "name": name,
        "enabled": _flag(data, "flagEnabled", True),
        "starts_at": starts_at,
    }


SERVICE_FIELDS = {  # set_schedule's field names → the request's
    "time": "cronSpec.startTime",
    "expiry": "expiresAfter",
    "window": "dataTimespan",
    "name": "dataSource.name",
}


def schedule_body(schedule: ReportSchedule, now: datetime | None = None) -> dict:
    """A DashboardSchedule: the rule as a cronSpec whose startTime is an occurrence of it, and nextDate."""
    organization = schedule.dashboard.account_group.organization
    rule = rule_of(schedule)
    if schedule.next_run_at and rule.day_of_month != ReportSchedule.LAST_DAY:
        start = schedule.next_run_at
    else:  # paused, or "the last day", which a February 28th would not say
        after = schedule.next_run_at or now or datetime.now(UTC)
        start = representative_occurrence(rule, zone_of(organization), after - timedelta(seconds=1))
    week = schedule.window % TIMESPAN_SECONDS["WEEK"] == 0
    body = {
        "cronSpec": {
            "startTime": int(start.timestamp()),
            "zoneCode": organization.time_zone,
            "repeat": _REPEAT_OF[schedule.frequency],
            "endRepeat": {"endConditionType": "NEVER"},
        },
        "dataSource": {"name": schedule.name or schedule.dashboard.name},
        "dataTimespan": {"n": 1, "period": "WEEK"} if week else {"n": max(schedule.window // DAY, 1), "period": "DAY"},
        "flagEnabled": schedule.enabled,
        "flagLocked": False,
        "flagAutoShare": True,
        "flagIsIncludePiiUserData": False,
        "flagAttachPdfToEmail": False,
        "recipients": list(schedule.recipients),
        "nextDate": iso(schedule.next_run_at) if schedule.next_run_at else None,
    }
    if schedule.expires_days is not None:
        body["expiresAfter"] = min(max(schedule.expires_days * DAY, MIN_EXPIRES), MAX_EXPIRES)
    return body
