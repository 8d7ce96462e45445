"""Scheduled dashboard snapshots ("reports", issue 23): the schedule's rule in the organization's time zone (weekly
across daylight saving time, the month's last day), the worker's runs (one snapshot and its e-mails per occurrence,
a missed run once, never twice for two workers), refusals recorded with their reason, and the time zone setting."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from spyglass import worker
from spyglass.accounts.models import Membership, Role
from spyglass.accounts.roles import access_for
from spyglass.accounts.services import UserInputError, set_time_zone
from spyglass.dashboards import services as dashboards
from spyglass.dashboards.models import ReportRun, ReportSchedule
from spyglass.dashboards.schedules import Rule, next_occurrence, representative_occurrence, rule_at
from spyglass.mail.models import OutboxMessage
from spyglass.sharing import reports
from spyglass.sharing.errors import SharingError
from spyglass.sharing.models import DashboardSnapshot
from tests.conftest import make_agent, make_test
from tests.liveshares.conftest import write_net_rounds
from tests.web_support import signed_in

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = 0


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the rule ------------------------------------------------------------------------------------------------------


def test_weekly_in_berlin_keeps_its_local_time_across_both_daylight_saving_changes():
    rule = Rule(ReportSchedule.WEEKLY, time(9, 0), weekday=MONDAY)
    runs, after = [], utc(2026, 3, 16, 12)
    for _ in range(3):
        after = next_occurrence(rule, BERLIN, after)
        runs.append(after)
    # 2026-03-29 clocks go forward: 09:00 CET is 08:00 UTC, 09:00 CEST 07:00 UTC
    assert runs == [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7), utc(2026, 4, 6, 7)]
    assert all(r.astimezone(BERLIN).hour == 9 and r.astimezone(BERLIN).weekday() == MONDAY for r in runs)
    # 2026-10-25 clocks go back
    assert next_occurrence(rule, BERLIN, utc(2026, 10, 20)) == utc(2026, 10, 26, 8)
    assert next_occurrence(rule, BERLIN, utc(2026, 10, 13)) == utc(2026, 10, 19, 7)


def test_a_time_missing_on_the_spring_forward_day_runs_once_that_day_and_one_happening_twice_runs_once():
    rule = Rule(ReportSchedule.DAILY, time(2, 30))
    spring = next_occurrence(rule, BERLIN, utc(2026, 3, 28, 12))
    assert spring == utc(2026, 3, 29, 1, 30)  # 02:30 does not exist: 03:30 CEST
    assert next_occurrence(rule, BERLIN, spring) == utc(2026, 3, 30, 0, 30)  # 02:30 CEST again
    autumn = next_occurrence(rule, BERLIN, utc(2026, 10, 24, 12))
    assert autumn == utc(2026, 10, 25, 0, 30)  # the first 02:30 (CEST)
    assert next_occurrence(rule, BERLIN, autumn) == utc(2026, 10, 26, 1, 30)  # not the second one that night


def test_monthly_on_the_last_day_follows_each_months_length():
    rule = Rule(ReportSchedule.MONTHLY, time(18, 0), day_of_month=ReportSchedule.LAST_DAY)
    days, after = [], utc(2027, 12, 15)
    for _ in range(5):
        after = next_occurrence(rule, ZoneInfo("UTC"), after)
        days.append(after.date())
    assert days == [date(2027, 12, 31), date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]
    on_15th = Rule(ReportSchedule.MONTHLY, time(6, 0), day_of_month=15)
    assert next_occurrence(on_15th, BERLIN, utc(2026, 1, 15, 6)) == utc(2026, 2, 15, 5)


def test_an_occurrence_gives_its_rule_back():
    for rule in (
        Rule(ReportSchedule.WEEKLY, time(9, 15), weekday=3),
        Rule(ReportSchedule.MONTHLY, time(0, 5), day_of_month=ReportSchedule.LAST_DAY),
        Rule(ReportSchedule.MONTHLY, time(23, 59), day_of_month=28),
        Rule(ReportSchedule.DAILY, time(7, 0)),
    ):
        instant = representative_occurrence(rule, BERLIN, utc(2027, 2, 10))
        assert rule_at(rule.frequency, instant, BERLIN) == rule


# --- the runs ------------------------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def ops(cast):
    return access_for(cast.owner.user, None)


@pytest.fixture
def board(cast, ops, time_machine):
    time_machine.move_to(NOW, tick=False)
    test = make_test(cast.owner, name="edge latency")
    rounds = list(range(int(NOW.timestamp()) - 3600, int(NOW.timestamp()), 60))
    write_net_rounds(test, make_agent(cast.owner), rounds)
    dashboard = dashboards.default_dashboard(ops)
    dashboards.add_widget(ops, dashboard, test.id, "latency", 3600)
    return dashboard


def weekly(ops, dashboard, **fields):
    defaults = {"frequency": ReportSchedule.WEEKLY, "weekday": MONDAY, "time_of_day": time(9, 0)}
    return reports.set_schedule(ops, dashboard, **(defaults | {"recipients": ["boss@acme.test"]} | fields))


def test_a_due_schedule_makes_one_snapshot_of_the_last_week_and_queues_its_link(ops, board, time_machine):
    schedule = weekly(ops, board, recipients=["boss@acme.test", "team@acme.test"], expires_days=30)
    assert schedule.next_run_at == utc(2026, 12, 14, 9)
    time_machine.move_to(utc(2026, 12, 14, 9, 0, 30), tick=False)
    assert reports.run_due() == {"ok": 1, "failed": 0}
    run = ReportRun.objects.get()
    snapshot = DashboardSnapshot.objects.get(link_id=run.snapshot_link_id)
    assert run.status == ReportRun.OK and run.scheduled_for == utc(2026, 12, 14, 9) and run.recipients == 2
    assert snapshot.window == 7 * 86400 and snapshot.created_by == ops.user
    assert snapshot.expires_date == timezone.now() + timedelta(days=30)
    assert snapshot.display_name == "Dashboard: weekly report 2026-12-14"
    mails = OutboxMessage.objects.filter(kind="dashboard-report").order_by("id")
    assert [m.to for m in mails] == [["boss@acme.test"], ["team@acme.test"]]
    assert f"/s/d/{snapshot.link_id}/" in mails[0].body_text
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2026, 12, 21, 9) and schedule.last_run_at == timezone.now()
    assert reports.run_due() == {"ok": 0, "failed": 0}  # that occurrence is done
    assert DashboardSnapshot.objects.count() == 1


def test_a_run_missed_for_several_periods_runs_once_and_then_waits_for_the_next_future_one(ops, board, time_machine):
    schedule = reports.set_schedule(ops, board, frequency=ReportSchedule.DAILY, time_of_day=time(6, 0))
    time_machine.move_to(utc(2026, 12, 12, 13, 0), tick=False)  # the worker was down for five mornings
    assert reports.run_due() == {"ok": 1, "failed": 0}
    assert reports.run_due() == {"ok": 0, "failed": 0}
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2026, 12, 13, 6)
    assert ReportRun.objects.get().scheduled_for == utc(2026, 12, 8, 6)  # the first one missed


def test_two_workers_never_run_one_occurrence_twice(ops, board, time_machine):
    schedule = weekly(ops, board)
    time_machine.move_to(utc(2026, 12, 14, 9, 1), tick=False)
    # the second worker saw the schedule due before the first moved it on
    assert reports._run_claimed(schedule.id, timezone.now()) == ReportRun.OK
    assert reports._run_claimed(schedule.id, timezone.now()) is None
    assert ReportRun.objects.count() == 1 and DashboardSnapshot.objects.count() == 1


def test_a_creator_who_left_the_group_makes_no_snapshot_and_the_run_says_why(cast, ops, board, time_machine):
    weekly(ops, board)
    Membership.objects.filter(user=cast.owner.user, account_group_id=board.account_group_id).delete()
    time_machine.move_to(utc(2026, 12, 14, 9, 1), tick=False)
    assert reports.run_due() == {"ok": 0, "failed": 1}
    run = ReportRun.objects.get()
    assert run.status == ReportRun.FAILED and "owner@acme.test no longer belongs to the account group Ops" in run.error
    assert not DashboardSnapshot.objects.exists() and not OutboxMessage.objects.exists()
    assert ReportSchedule.objects.get().next_run_at == utc(2026, 12, 21, 9)  # it tries again next week
    cast.owner.user.is_active = False
    cast.owner.user.save(update_fields=["is_active"])
    time_machine.move_to(utc(2026, 12, 21, 9, 1), tick=False)
    assert reports.run_due() == {"ok": 0, "failed": 1}
    assert (
        "the account of owner@acme.test, who set the schedule, is deactivated" in ReportRun.objects.latest("id").error
    )


def test_a_refusal_is_a_failed_run_with_its_reason_and_the_creator_is_told(cast, ops, board, time_machine):
    weekly(ops, board)
    regular = Role.objects.get(name="Regular User")
    Membership.objects.filter(user=cast.owner.user, account_group_id=board.account_group_id).update(role=regular)
    time_machine.move_to(utc(2026, 12, 14, 9, 1), tick=False)
    assert reports.run_due() == {"ok": 0, "failed": 1}
    assert ReportRun.objects.get().error == "Regular Users cannot create snapshots"
    assert not DashboardSnapshot.objects.exists()
    told = OutboxMessage.objects.get()
    assert told.to == ["owner@acme.test"] and told.kind == "dashboard-report-failed"
    assert "Regular Users cannot create snapshots" in told.body_text


def test_the_organizations_snapshot_limit_refuses_a_run(ops, board, settings, time_machine):
    from spyglass.lib.rates import parse_rates

    settings.SNAPSHOT_RATE = parse_rates("1/1h")
    weekly(ops, board)
    time_machine.move_to(utc(2026, 12, 14, 9, 1), tick=False)
    from spyglass.sharing.dashboard_snapshots import create_dashboard_snapshot

    create_dashboard_snapshot(ops, board)  # the hour's one snapshot
    assert reports.run_due() == {"ok": 0, "failed": 1}
    assert "snapshot" in ReportRun.objects.get().error.lower()


def test_schedule_input_is_checked_field_by_field(ops, board):
    cases = [
        ({"frequency": "hourly"}, "frequency"),
        ({"weekday": 7}, "weekday"),
        ({"frequency": ReportSchedule.MONTHLY, "day_of_month": 29}, "day"),
        ({"recipients": ["not an address"]}, "recipients"),
        ({"recipients": [f"r{i}@acme.test" for i in range(21)]}, "recipients"),
        ({"expires_days": 0}, "expiry"),
        ({"window": 8 * 86400}, "window"),
    ]
    for fields, field in cases:
        with pytest.raises(SharingError) as refused:
            weekly(ops, board, **fields)
        assert refused.value.field == field, fields
    assert not ReportSchedule.objects.exists()


def test_the_window_is_the_last_period_at_most_a_week(ops, board):
    assert reports.set_schedule(ops, board, frequency="daily", time_of_day=time(6, 0)).window == 86400
    assert reports.set_schedule(ops, board, frequency="monthly", time_of_day=time(6, 0), day_of_month=1).window == (
        7 * 86400
    )


def test_a_new_organization_time_zone_moves_every_schedules_next_run(cast, ops, board):
    schedule = weekly(ops, board)
    assert schedule.next_run_at == utc(2026, 12, 14, 9)
    organization = board.account_group.organization
    with pytest.raises(UserInputError):
        set_time_zone(organization, "Mars/Olympus_Mons")
    client = signed_in(cast.owner)
    response = client.post("/account/organization/", {"time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2026, 12, 14, 8)  # 09:00 in Berlin, winter
    assert client.post("/account/organization/", {"time_zone": "../etc/passwd"}).status_code == 400
    assert signed_in(cast.regular).post("/account/organization/", {"time_zone": "UTC"}).status_code == 404
    organization.refresh_from_db()
    assert organization.time_zone == "Europe/Berlin"
    page = signed_in(cast.regular).get("/account/organization/").content.decode()
    assert "Europe/Berlin" in page and "org-settings-form" not in page


# --- the dashboard page --------------------------------------------------------------------------------------------


def test_the_dashboard_page_sets_shows_and_removes_the_schedule(cast, ops, board, time_machine):
    client = signed_in(cast.owner)
    form = {"frequency": "weekly", "weekday": "0", "day": "1", "time": "09:00", "expiry": "7", "enabled": "on"}
    bad = client.post("/dashboard/schedule/", {**form, "time": "25:00"})
    assert bad.status_code == 400 and "Time: must be a time of day" in bad.content.decode()
    bad = client.post("/dashboard/schedule/", {**form, "recipients": "boss@acme.test, nope"})
    assert bad.status_code == 400 and "&#x27;nope&#x27; is not an e-mail address" in bad.content.decode()
    assert not ReportSchedule.objects.exists()
    saved = client.post("/dashboard/schedule/", {**form, "recipients": "boss@acme.test\nteam@acme.test"})
    assert saved.status_code == 302
    page = client.get("/dashboard/").content.decode()
    assert "Every Monday at 09:00 (UTC)" in page and "next run Mon 2026-12-14 09:00" in page
    assert "boss@acme.test, team@acme.test" in page and "No runs yet." in page
    time_machine.move_to(utc(2026, 12, 14, 9, 1), tick=False)
    reports.run_due()
    link = DashboardSnapshot.objects.get().link_id
    page = client.get("/dashboard/").content.decode()
    assert f"/s/d/{link}/" in page and "e-mailed to 2" in page
    reader = signed_in(cast.regular).get("/dashboard/").content.decode()
    assert "Every Monday at 09:00 (UTC)" in reader and "report-schedule-form" not in reader
    assert f"/s/d/{link}/" in reader
    assert signed_in(cast.regular).post("/dashboard/schedule/remove/").status_code == 404
    assert client.post("/dashboard/schedule/remove/").status_code == 302
    page = client.get("/dashboard/").content.decode()
    assert "No scheduled report." in page and f"/s/d/{link}/" in page  # the runs and their snapshots stay


# --- end to end ----------------------------------------------------------------------------------------------------


def test_a_weekly_report_reaches_the_smtp_server_with_a_link_that_opens(cast, ops, board, smtp, settings, time_machine):
    settings.BASE_URL = "http://spyglass.example"
    weekly(ops, board, recipients=["boss@acme.test"])
    time_machine.move_to(utc(2026, 12, 14, 8, 59), tick=True)
    assert worker.run_once()["reports"] == {"ok": 0, "failed": 0}  # not yet
    time_machine.move_to(utc(2026, 12, 14, 9, 0, 5), tick=True)  # the worker's next pass, after Monday 09:00
    done = worker.run_once()
    assert done["reports"] == {"ok": 1, "failed": 0} and done["mail"]["sent"] == 1
    (message,) = smtp.messages
    assert message["To"] == "boss@acme.test" and message["Subject"] == "Dashboard: weekly report 2026-12-14"
    text = message.get_body(("plain",)).get_content()
    (link,) = re.findall(r"http://spyglass\.example(/s/d/[a-z2-7]{32}/)", text)
    page = Client().get(link)  # signed out, as the recipient opens it
    assert page.status_code == 200
    assert "edge latency" in page.content.decode() and "widget-chart" in page.content.decode()
    time_machine.move_to(utc(2026, 12, 14, 9, 5), tick=True)
    assert worker.run_once()["reports"] == {"ok": 0, "failed": 0} and len(smtp.messages) == 1
