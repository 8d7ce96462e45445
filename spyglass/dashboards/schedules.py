"""When a dashboard's report runs: the one rule (daily, weekly on a weekday, monthly on a day or the last day, at a
time of day in the organization's time zone) turned into UTC instants.

Occurrences are local wall-clock times made aware through zoneinfo, so a weekly 09:00 in Europe/Berlin stays 09:00
across daylight saving time (08:00 UTC in winter, 07:00 in summer). A time that does not exist on a spring-forward
day (02:30 in Berlin) runs at the same instant as the hour before's offset gives it (03:30 local); a time that
happens twice on a fall-back day runs at the first."""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import ReportSchedule

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# The period a report covers, in seconds: the last day, week or month before the run.
PERIOD_SECONDS = {ReportSchedule.DAILY: 86400, ReportSchedule.WEEKLY: 7 * 86400, ReportSchedule.MONTHLY: 31 * 86400}
MAX_DAY_OF_MONTH = 28  # later days are "the last day", which every month has
_SEARCH_DAYS = 400  # more than a year: every rule occurs within it


@dataclass(frozen=True)
class Rule:
    frequency: str
    time_of_day: time
    weekday: int | None = None  # weekly: 0 = Monday
    day_of_month: int | None = None  # monthly: 1–28 or ReportSchedule.LAST_DAY

    def matches(self, day: date) -> bool:
        if self.frequency == ReportSchedule.WEEKLY:
            return day.weekday() == self.weekday
        if self.frequency == ReportSchedule.MONTHLY:
            if self.day_of_month == ReportSchedule.LAST_DAY:
                return day.day == calendar.monthrange(day.year, day.month)[1]
            return day.day == self.day_of_month
        return True

    def describe(self, zone_name: str) -> str:
        at = self.time_of_day.strftime("%H:%M")
        if self.frequency == ReportSchedule.WEEKLY:
            when = f"Every {WEEKDAYS[self.weekday or 0]}"
        elif self.frequency == ReportSchedule.MONTHLY:
            last = self.day_of_month == ReportSchedule.LAST_DAY
            when = "On the last day of every month" if last else f"On day {self.day_of_month} of every month"
        else:
            when = "Every day"
        return f"{when} at {at} ({zone_name})"


def rule_of(schedule: ReportSchedule) -> Rule:
    return Rule(schedule.frequency, schedule.time_of_day, schedule.weekday, schedule.day_of_month)


def next_occurrence(rule: Rule, zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant of the rule strictly after `after` (aware), in UTC."""
    day = after.astimezone(zone).date() - timedelta(days=1)  # a day back: the local date may lag UTC's
    for _ in range(_SEARCH_DAYS):
        if rule.matches(day):
            local = datetime.combine(day, rule.time_of_day, tzinfo=zone)
            instant = local.astimezone(UTC)
            if instant > after:
                return instant
        day += timedelta(days=1)
    raise ValueError(f"the rule {rule} never occurs")


def rule_at(frequency: str, instant: datetime, zone: ZoneInfo) -> Rule:
    """The rule of `frequency` whose occurrence `instant` is (the v7 API's startTime): its local time of day, weekday
    and day of the month (the 29th to the 31st meaning the month's last day)."""
    local = instant.astimezone(zone)
    day = local.day if local.day <= MAX_DAY_OF_MONTH else ReportSchedule.LAST_DAY
    return Rule(
        frequency,
        local.time().replace(second=0, microsecond=0, tzinfo=None),
        local.weekday() if frequency == ReportSchedule.WEEKLY else None,
        day if frequency == ReportSchedule.MONTHLY else None,
    )


def representative_occurrence(rule: Rule, zone: ZoneInfo, after: datetime) -> datetime:
    """An occurrence after `after` from which rule_at gives the rule back: for "the last day" one on a 31st-or-so
    day (29–31), never a February 28th that would read as day 28."""
    instant = next_occurrence(rule, zone, after)
    while rule.day_of_month == ReportSchedule.LAST_DAY and instant.astimezone(zone).day <= MAX_DAY_OF_MONTH:
        instant = next_occurrence(rule, zone, instant)
    return instant
