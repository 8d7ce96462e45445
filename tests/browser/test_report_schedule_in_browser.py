"""A dashboard's scheduled report in a real browser: the form shows the weekday for a weekly schedule and the day
for a monthly one (report_schedule.js), a refusal is shown beside the form, the saved schedule is listed in words
with its next run, a run's snapshot link opens from the list of runs, and the schedule is removed through the
page's confirmation dialog."""

from datetime import time

import pytest

from spyglass.accounts.roles import access_for
from spyglass.accounts.services import set_time_zone
from spyglass.dashboards import services as dashboards
from spyglass.dashboards.models import ReportSchedule
from spyglass.monitoring.seed import seed
from spyglass.sharing import reports
from tests.conftest import make_test

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_set_a_weekly_schedule_see_it_listed_and_remove_it(live_server, page, cast, settings):
    settings.BASE_URL = base = live_server.url
    web = make_test(cast.owner, "http-server", name="shop front", interval=300)
    seed(web, agents=2, hours=2, random_seed=5)
    access = access_for(cast.owner.user, None)
    set_time_zone(access.account_group.organization, "Europe/Berlin")
    board = dashboards.default_dashboard(access)
    dashboards.add_widget(access, board, web.id, "totalTime", 3600)

    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/dashboard/")
    form = page.locator("#report-schedule-form")
    assert page.locator("#report-schedule-summary").inner_text().startswith("No scheduled report.")
    page.wait_for_function("() => document.querySelector('[data-for-frequency=monthly]').hidden")  # weekly first
    page.select_option("#rs-frequency", "monthly")
    assert form.locator("#rs-day").is_visible() and not form.locator("#rs-weekday").is_visible()
    page.select_option("#rs-frequency", "weekly")
    assert form.locator("#rs-weekday").is_visible() and not form.locator("#rs-day").is_visible()
    page.select_option("#rs-weekday", "4")  # Friday
    page.fill("#rs-time", "17:30")
    page.fill("#rs-recipients", "boss@acme.test, not an address")
    page.click("#report-schedule-save")
    page.wait_for_selector("#report-schedule-error")
    assert "is not an e-mail address" in page.locator("#report-schedule-error").inner_text()
    assert not ReportSchedule.objects.exists()

    page.fill("#rs-recipients", "boss@acme.test\nteam@acme.test")
    page.click("#report-schedule-save")
    page.wait_for_selector("#report-schedule-saved")
    summary = page.locator("#report-schedule-summary").inner_text()
    assert summary.startswith("Every Friday at 17:30 (Europe/Berlin); next run Fri ")
    assert page.locator("#report-schedule-recipients").inner_text() == "boss@acme.test, team@acme.test"
    assert page.locator("#rs-weekday").input_value() == "4" and page.locator("#rs-time").input_value() == "17:30"
    assert page.locator("#rs-weekday").is_visible() and not page.locator("#rs-day").is_visible()  # set up again
    schedule = ReportSchedule.objects.get()
    assert (schedule.weekday, schedule.time_of_day, schedule.created_by) == (4, time(17, 30), cast.owner.user)

    # A run (the worker's, made due now) is listed with its snapshot's link, which opens.
    ReportSchedule.objects.filter(id=schedule.id).update(next_run_at=schedule.modified_date)
    assert reports.run_due() == {"ok": 1, "failed": 0}
    page.goto(f"{base}/dashboard/")
    row = page.locator("#report-runs tbody tr")
    assert row.count() == 1 and "made" in row.inner_text() and "e-mailed to 2" in row.inner_text()
    row.locator("a", has_text="Open").click()
    page.wait_for_function("() => document.querySelectorAll('.widget-chart canvas').length === 1")
    assert "/s/d/" in page.url

    page.goto(f"{base}/dashboard/")
    page.click("#report-schedule-remove")
    page.locator("dialog[open] button", has_text="Remove").click()
    page.wait_for_selector(".flash-success")
    assert page.locator("#report-schedule-summary").inner_text().startswith("No scheduled report.")
    assert page.locator("#report-runs tbody tr").count() == 1  # the run and its snapshot stay
    assert not ReportSchedule.objects.exists()
    assert not page.console_errors, page.console_errors
