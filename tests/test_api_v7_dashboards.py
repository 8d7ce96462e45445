"""v7 dashboards through the official SDK's DashboardsApi against a live server: spyglass widgets read as
"Time Series: Line" widgets, and dashboards are created, updated and deleted with them."""

import time

import pytest
from thousandeyes_sdk.core.exceptions import ApiException
from thousandeyes_sdk.dashboards import DashboardsApi
from thousandeyes_sdk.dashboards.models import ApiDuration, ApiTimeseriesWidget, ApiWidget, Dashboard

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services
from spyglass.monitoring.seed import seed
from tests.conftest import make_test

pytestmark = pytest.mark.django_db(transaction=True)


def _line(test_id, metric="WEB_TTFB", hours=6):
    return ApiWidget(
        ApiTimeseriesWidget(
            type="Time Series: Line",
            metric=metric,
            filters={"TEST": [str(test_id)]},
            fixedTimespan=ApiDuration(value=hours, unit="Hours"),
        )
    )


def test_the_web_dashboard_reads_as_time_series_widgets(cast, v7):
    test = make_test(cast.owner, "http-server", name="shop")
    seed(test, agents=2, hours=2, random_seed=2, now=time.time())
    access = access_for(cast.owner.user, None)
    board = services.default_dashboard(access)
    services.add_widget(access, board, test.id, "totalTime", 3600)
    api = DashboardsApi(v7(cast.owner))
    listed = api.get_dashboards()
    assert [(d.dashboard_id, d.title, d.is_default_for_account) for d in listed] == [(str(board.id), "Dashboard", True)]
    got = api.get_dashboard(str(board.id))
    (line,) = [w.actual_instance for w in got.widgets]
    assert (line.type, line.metric.value, line.metric_group.value) == ("Time Series: Line", "WEB_FETCH", "HTTP_SERVER")
    assert line.filters == {"TEST": [str(test.id)]} and line.title == "shop: totalTime"
    assert (line.fixed_timespan.value, line.fixed_timespan.unit.value) == (1, "Hours")


def test_create_update_and_delete_with_widgets(cast, v7):
    test = make_test(cast.owner, "http-server", name="shop")
    dns = make_test(cast.owner, "dns-server", name="names")
    api = DashboardsApi(v7(cast.owner))
    created = api.create_dashboard(Dashboard(title="NOC wall", widgets=[_line(test.id)]))
    assert created.title == "NOC wall"
    (line,) = [w.actual_instance for w in created.widgets]
    assert (line.metric.value, line.fixed_timespan.value) == ("WEB_TTFB", 6)
    updated = api.update_dashboard(
        created.dashboard_id,
        Dashboard(title="NOC", widgets=[_line(dns.id, "DNS_SERVER_TIME", 24), _line(test.id, "WEB_AVAILABILITY")]),
    )
    assert updated.title == "NOC"
    assert [w.actual_instance.metric.value for w in updated.widgets] == ["DNS_SERVER_TIME", "WEB_AVAILABILITY"]
    assert updated.widgets[0].actual_instance.fixed_timespan.unit.value == "Days"
    with pytest.raises(ApiException) as bad:
        api.update_dashboard(created.dashboard_id, Dashboard(widgets=[_line(test.id, "BGP_REACHABILITY")]))
    assert bad.value.status == 400 and bad.value.data.errors[0].var_field == "widgets[0]"
    api.delete_dashboard(created.dashboard_id)
    with pytest.raises(ApiException) as gone:
        api.get_dashboard(created.dashboard_id)
    assert gone.value.status == 404


def test_refusals(cast, v7):
    board = services.default_dashboard(access_for(cast.owner.user, None))
    with pytest.raises(ApiException) as regular:
        DashboardsApi(v7(cast.regular)).delete_dashboard(str(board.id))
    assert regular.value.status == 403
    for outsider in (cast.other_group, cast.other_org):
        with pytest.raises(ApiException) as hidden:
            DashboardsApi(v7(outsider)).get_dashboard(str(board.id))
        assert hidden.value.status == 404
    assert DashboardsApi(v7(cast.regular)).get_dashboard(str(board.id)).title == "Dashboard"
