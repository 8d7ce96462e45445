"""Dev's dashboard over its own test and Ops' test live-shared with Dev: what the dashboard and the dashboard
snapshot tests build their `board` fixture from (tests/test_dashboards.py, tests/test_dashboard_snapshots.py)."""

from datetime import UTC, datetime

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services
from spyglass.lib.rounds import round_of
from spyglass.liveshares import services as live_shares
from tests.conftest import make_agent, make_test
from tests.liveshares.conftest import write_net_rounds

NOW = round_of(1_795_000_000, 60)


def build_board(cast, dev, time_machine, widgets):
    """Dev's dashboard with `widgets`, each (which test: "own" or "shared", metric, period), in that order. Ops' test
    is shared with Dev 10 minutes before NOW; both tests have two agents, at 10 and 30 ms, for the last 30 minutes
    (so a per-round average is checkable). Returns (dashboard, own test, shared test, share), the clock held at
    NOW + 30 s."""
    time_machine.move_to(datetime.fromtimestamp(NOW - 600, UTC), tick=False)
    own = make_test(cast.other_group, name="dev api")
    shared = make_test(cast.owner, name="ops edge")
    share = live_shares.create(access_for(cast.owner.user, None), shared.id, aid=cast.other_group.aid)
    live_shares.accept(dev, share.id)
    time_machine.move_to(datetime.fromtimestamp(NOW + 30, UTC), tick=False)
    rounds = list(range(NOW - 1800, NOW + 60, 60))
    for test, person in ((own, cast.other_group), (shared, cast.owner)):
        write_net_rounds(test, make_agent(person, name=f"{test.name} a"), rounds, latency=10.0)
        write_net_rounds(test, make_agent(person, name=f"{test.name} b"), rounds, latency=30.0)
    dashboard = services.default_dashboard(dev)
    for which, metric, period in widgets:
        services.add_widget(dev, dashboard, {"own": own, "shared": shared}[which].id, metric, period)
    return dashboard, own, shared, share
