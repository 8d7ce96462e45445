"""Dashboards: widgets over own and live-shared tests, their data (one aggregate per widget, read scope respected),
ordering and removal, and the "no longer shared" state after revocation."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import ValidationError

from spyglass.dashboards import services
from tests.conftest import make_agent, make_test
from tests.dashboard_support import NOW, build_board
from tests.liveshares.conftest import write_net_rounds


@pytest.fixture
def board(cast, dev, time_machine):
    """Dev's dashboard with a widget on its own test and one on Ops' test shared with Dev 10 minutes ago."""
    return build_board(cast, dev, time_machine, [("own", "latency", 3600), ("shared", "latency", 3600)])


def test_widgets_show_the_per_round_average_and_shared_tests_from_the_share_on(dev, board):
    dashboard, own, shared, _ = board
    mine, theirs = services.widget_data(dev, dashboard)
    assert (mine["testName"], mine["liveShare"], mine["state"]) == ("dev api", 0, "ok")
    assert (theirs["testName"], theirs["liveShare"], theirs["state"]) == ("ops edge", 1, "ok")
    # Round i of both agents: (10 + i) and (30 + i) → average 20 + i.
    first_date = datetime.fromtimestamp(NOW - 1800, UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert mine["data"][0] == {"roundId": NOW - 1800, "date": first_date, "value": 20.0}
    assert [p["value"] for p in mine["data"]] == [20.0 + i for i in range(31)]
    # The shared test's widget starts at the share's creation (NOW - 600), never before.
    assert [p["roundId"] for p in theirs["data"]] == list(range(NOW - 600, NOW + 60, 60))
    assert theirs["step"] == mine["step"] == 60


def test_a_revoked_share_shows_no_longer_shared_and_the_rest_still_works(cast, dev, board):
    dashboard, own, shared, share = board
    assert cast.owner.client.post(f"/v6/live-shares/{share.id}/delete.json").status_code == 204
    body = cast.other_group.client.get(f"/v6/dashboards/{dashboard.id}.json").json()["dashboards"][0]
    mine, theirs = body["widgets"]
    assert mine["state"] == "ok" and mine["data"]
    assert (theirs["state"], theirs["data"], theirs["testName"]) == ("no longer shared", [], "ops edge")


def test_a_deleted_test_leaves_its_widget_saying_so(cast, dev, board):
    dashboard, own, shared, _ = board
    cast.other_group.client.post(f"/v6/tests/agent-to-server/{own.id}/delete.json")
    cast.owner.client.post(f"/v6/tests/agent-to-server/{shared.id}/delete.json")
    mine, theirs = services.widget_data(dev, dashboard)
    assert (mine["state"], mine["testId"], mine["testName"]) == ("test deleted", None, "dev api")
    # For the recipient, the owner deleting a shared test is one more way of ending the share.
    assert (theirs["state"], theirs["testId"], theirs["testName"]) == ("no longer shared", None, "ops edge")


def test_widgets_reorder_and_remove(dev, board):
    dashboard, own, shared, _ = board
    first, second = [w["widgetId"] for w in services.widget_data(dev, dashboard)]
    services.reorder(dev, dashboard, [second, first])
    assert [w["testId"] for w in services.widget_data(dev, dashboard)] == [shared.id, own.id]
    with pytest.raises(ValidationError):
        services.reorder(dev, dashboard, [second])
    services.remove_widget(dev, dashboard, second)
    assert [w["testId"] for w in services.widget_data(dev, dashboard)] == [own.id]


def test_adding_a_widget_checks_test_metric_and_period(cast, dev, board):
    dashboard, own, *_ = board
    foreign = make_test(cast.other_org, name="globex")
    with pytest.raises(ValidationError, match="testId"):
        services.add_widget(dev, dashboard, foreign.id, "latency", 3600)
    with pytest.raises(ValidationError, match="metric"):
        services.add_widget(dev, dashboard, own.id, "responseTime", 3600)  # an HTTP metric on a network test
    with pytest.raises(ValidationError, match="period"):
        services.add_widget(dev, dashboard, own.id, "latency", 1234)
    assert dashboard.widgets.count() == 2


def test_long_periods_average_rounds_into_at_most_360_points(cast, dev, time_machine):
    time_machine.move_to(datetime.fromtimestamp(NOW, UTC), tick=False)
    test = make_test(cast.other_group, name="week")
    write_net_rounds(test, make_agent(cast.other_group), list(range(NOW - 24 * 3600 + 60, NOW + 60, 60)))
    widget = services.add_widget(dev, services.default_dashboard(dev), test.id, "loss", 24 * 3600)
    [data] = services.widget_data(dev, widget.dashboard)
    assert data["step"] == 240 and 359 <= len(data["data"]) <= 361


def test_one_read_of_the_rollups_per_test_kind_and_window(dev, board):
    dashboard, own, shared, _ = board
    services.widget_data(dev, dashboard)  # the first read computes and stores the hours' rollups
    with CaptureQueriesContext(connection) as two:
        services.widget_data(dev, dashboard)
    for _ in range(3):
        services.add_widget(dev, dashboard, own.id, "jitter", 3600)  # the latency widget's test, kind and window
    with CaptureQueriesContext(connection) as five:
        services.widget_data(dev, dashboard)
    assert len(five) == len(two)  # they share its read of the rollups: nothing more
    for period in (6 * 3600, 12 * 3600):
        services.add_widget(dev, dashboard, own.id, "loss", period)
    services.widget_data(dev, dashboard)
    with CaptureQueriesContext(connection) as seven:
        services.widget_data(dev, dashboard)
    assert len(seven) - len(two) == 2  # one more read per other window, nothing else


def test_the_api_lists_dashboards_and_shows_widgets(cast, board):
    dashboard, *_ = board
    listed = cast.other_group.client.get("/v6/dashboards.json").json()["dashboards"]
    assert [(d["dashboardId"], d["name"]) for d in listed] == [(dashboard.id, "Dashboard")]
    body = cast.other_group.client.get(f"/v6/dashboards/{dashboard.id}.json").json()["dashboards"][0]
    assert [(w["metric"], w["unit"], w["period"], w["order"]) for w in body["widgets"]] == [
        ("latency", "ms", 3600, 0),
        ("latency", "ms", 3600, 1),
    ]
    assert cast.owner.client.get(f"/v6/dashboards/{dashboard.id}.json").status_code == 404
