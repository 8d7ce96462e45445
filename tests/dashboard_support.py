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


def build_board(cast, dev, time_machine, widgets, agents=None):
    """Dev's dashboard with `widgets`, each (which test: "own" or "shared", metric, period), in that order. Ops' test
    is shared with Dev 10 minutes before NOW; each test's agents report for the last 30 minutes — by default two,
    at 10 and 30 ms (so a per-round average is checkable); `agents` gives others: (which test, name, latency, the
    agent's fields). Returns (dashboard, own test, shared test, share), the clock held at NOW + 30 s."""
    time_machine.move_to(datetime.fromtimestamp(NOW - 600, UTC), tick=False)
    own = make_test(cast.other_group, name="dev api")
    shared = make_test(cast.owner, name="ops edge")
    share = live_shares.create(access_for(cast.owner.user, None), shared.id, aid=cast.other_group.aid)
    live_shares.accept(dev, share.id)
    time_machine.move_to(datetime.fromtimestamp(NOW + 30, UTC), tick=False)
    rounds = list(range(NOW - 1800, NOW + 60, 60))
    tests = {"own": (own, cast.other_group), "shared": (shared, cast.owner)}
    if agents is None:
        agents = [
            (which, f"{t.name} {suffix}", latency, {})
            for which, (t, _) in tests.items()
            for suffix, latency in (("a", 10.0), ("b", 30.0))
        ]
    for which, name, latency, fields in agents:
        test, person = tests[which]
        write_net_rounds(test, make_agent(person, name=name, **fields), rounds, latency=latency)
    dashboard = services.default_dashboard(dev)
    for which, metric, period in widgets:
        services.add_widget(dev, dashboard, tests[which][0].id, metric, period)
    return dashboard, own, shared, share
