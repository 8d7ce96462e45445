"""v7 `PUT`/`DELETE /dashboards/{dashboardId}/actions/schedule` (issue 23): the official SDK's
update_dashboard_schedule and delete_dashboard_schedule unchanged against a live server, the schedule in the
dashboard's body, bad input answered 400 naming the field with nothing changed, and other tenants 404."""

from datetime import UTC, datetime

import pytest
from thousandeyes_sdk.core.exceptions import ApiException
from thousandeyes_sdk.dashboards import DashboardsApi
from thousandeyes_sdk.dashboards.models import (
    DashboardScheduleCronSpec,
    DashboardScheduleDataSource,
    DashboardScheduleNonCustomCronSpec,
    DashboardScheduleRequest,
    DashboardScheduleTimespan,
)

from spyglass.accounts.roles import access_for
from spyglass.accounts.services import set_time_zone
from spyglass.dashboards import services
from spyglass.dashboards.models import ReportSchedule
from tests.conftest import make_test

# Monday 2027-01-04 09:30 in Berlin (08:30 UTC)
START = int(datetime(2027, 1, 4, 8, 30, tzinfo=UTC).timestamp())


def body(**changes) -> dict:
    out = {
        "cronSpec": {"startTime": START, "zoneCode": "Europe/Berlin", "repeat": "EVERY_WEEK"},
        "dataSource": {"name": "Weekly NOC report"},
        "dataTimespan": {"n": 1, "period": "WEEK"},
        "flagEnabled": True,
        "recipients": ["boss@acme.test"],
        "expiresAfter": 30 * 86400,
    }
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            out[outer] = {**out[outer], inner: value}
        elif value is None:
            out.pop(key)
        else:
            out[key] = value
    return out


@pytest.fixture
def board(cast):
    access = access_for(cast.owner.user, None)
    set_time_zone(access.account_group.organization, "Europe/Berlin")
    board = services.default_dashboard(access)
    services.add_widget(access, board, make_test(cast.owner, "http-server").id, "totalTime", 3600)
    return board


@pytest.mark.django_db(transaction=True)
def test_the_sdk_sets_reads_and_removes_a_schedule(cast, board, v7):
    api = DashboardsApi(v7(cast.owner))
    request = DashboardScheduleRequest(
        cronSpec=DashboardScheduleCronSpec(
            DashboardScheduleNonCustomCronSpec(startTime=START, zoneCode="Europe/Berlin", repeat="EVERY_WEEK")
        ),
        dataSource=DashboardScheduleDataSource(name="Weekly NOC report"),
        dataTimespan=DashboardScheduleTimespan(n=1, period="WEEK"),
        flagEnabled=True,
        recipients=["boss@acme.test", "team@acme.test"],
        expiresAfter=30 * 86400,
    )
    answered = api.update_dashboard_schedule(str(board.id), request)
    schedule = answered.schedule
    assert schedule.next_date == datetime(2027, 1, 4, 8, 30, tzinfo=UTC)
    spec = schedule.cron_spec.actual_instance
    assert (spec.start_time, spec.zone_code, spec.repeat.value) == (START, "Europe/Berlin", "EVERY_WEEK")
    assert schedule.recipients == ["boss@acme.test", "team@acme.test"] and schedule.expires_after == 30 * 86400
    assert (schedule.data_timespan.n, schedule.data_timespan.period.value) == (1, "WEEK")
    assert schedule.data_source.name == "Weekly NOC report" and schedule.flag_enabled is True
    stored = ReportSchedule.objects.get()
    assert (stored.frequency, stored.weekday, stored.time_of_day.strftime("%H:%M")) == ("weekly", 0, "09:30")
    assert api.get_dashboard(str(board.id)).schedule.recipients == ["boss@acme.test", "team@acme.test"]
    api.delete_dashboard_schedule(str(board.id))
    assert api.get_dashboard(str(board.id)).schedule is None
    with pytest.raises(ApiException) as again:
        api.delete_dashboard_schedule(str(board.id))
    assert again.value.status == 404


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"cronSpec.repeat": "EVERY_TWO_WEEKS"}, "cronSpec.repeat", "EVERY_DAY, EVERY_WEEK or EVERY_MONTH"),
        ({"cronSpec.zoneCode": "America/New_York"}, "cronSpec.zoneCode", "'Europe/Berlin'"),
        ({"cronSpec.endRepeat": {"endConditionType": "AFTER", "value": 3}}, "cronSpec.endRepeat", "until removed"),
        ({"cronSpec.startTime": "monday"}, "cronSpec.startTime", "whole number"),
        ({"cronSpec.startTime": 2**62}, "cronSpec.startTime", "whole number"),
        ({"cronSpec.repeat": ["EVERY_DAY"]}, "cronSpec.repeat", "EVERY_DAY, EVERY_WEEK or EVERY_MONTH"),
        ({"dataTimespan.period": {"DAY": 1}}, "dataTimespan.period", "at most 7 days"),
        ({"cronSpec": "weekly"}, "cronSpec", "an object"),
        ({"recipients": "boss@acme.test"}, "recipients", "a list of e-mail addresses"),
        ({"dataSource": {"name": "x" * 300}}, "dataSource.name", "255"),
        ({"dataTimespan.period": "MONTH"}, "dataTimespan.period", "at most 7 days"),
        ({"dataTimespan.n": 8}, "dataTimespan.n", "from 1 to 7"),
        ({"dataSource": {"name": " "}}, "dataSource.name", "is required"),
        ({"flagEnabled": None}, "flagEnabled", "is required"),
        ({"flagEnabled": "yes"}, "flagEnabled", "true or false"),
        ({"flagAttachPdfToEmail": True}, "flagAttachPdfToEmail", "the snapshot's link"),
        ({"recipients": ["boss@acme.test", "not-an-address"]}, "recipients", "'not-an-address'"),
        ({"recipients": [f"r{i}@acme.test" for i in range(21)]}, "recipients", "at most 20"),
        ({"expiresAfter": 3600}, "expiresAfter", "from 86400"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(cast, board, changes, field, words):
    response = cast.owner.client.put(f"/v7/dashboards/{board.id}/actions/schedule", body(**changes), format="json")
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["field"] == field and words in error["message"], error
    assert not ReportSchedule.objects.exists()


def test_the_organizations_longest_expiry_holds(cast, board, settings):
    settings.SNAPSHOT_MAX_EXPIRY_DAYS = 14
    response = cast.owner.client.put(f"/v7/dashboards/{board.id}/actions/schedule", body(), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": response.json()["errors"][0]["code"],
        "field": "expiresAfter",
        "message": "snapshots may live at most 14 days here",
    }
    ok = cast.owner.client.put(f"/v7/dashboards/{board.id}/actions/schedule", body(expiresAfter=None), format="json")
    assert ok.status_code == 200 and ok.json()["schedule"]["expiresAfter"] == 14 * 86400


def test_a_monthly_schedule_on_the_31st_is_the_months_last_day(cast, board):
    last = int(datetime(2027, 1, 31, 17, 0, tzinfo=UTC).timestamp())  # 18:00 in Berlin
    response = cast.owner.client.put(
        f"/v7/dashboards/{board.id}/actions/schedule",
        body(
            **{"cronSpec.repeat": "EVERY_MONTH", "cronSpec.startTime": last, "dataTimespan": {"n": 7, "period": "DAY"}}
        ),
        format="json",
    )
    assert response.status_code == 200, response.content
    schedule = ReportSchedule.objects.get()
    assert (schedule.day_of_month, schedule.window) == (ReportSchedule.LAST_DAY, 7 * 86400)
    assert response.json()["schedule"]["nextDate"] == "2027-01-31T17:00:00Z"
    assert response.json()["schedule"]["dataTimespan"] == {"n": 1, "period": "WEEK"}


def test_other_tenants_get_404_and_regular_users_403(cast, board):
    url = f"/v7/dashboards/{board.id}/actions/schedule"
    for person in (cast.other_group, cast.other_org):
        assert person.client.put(url, body(), format="json").status_code == 404
        assert person.client.delete(url).status_code == 404
    assert cast.regular.client.put(url, body(), format="json").status_code == 403
    assert cast.owner.client.get(url).status_code == 405  # the dashboard's body carries the schedule
    assert not ReportSchedule.objects.exists()
