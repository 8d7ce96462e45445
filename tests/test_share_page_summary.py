"""The share page's one-line summary is computed once per snapshot: its window is frozen, so later views reuse it
instead of aggregating every row of the window again."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from spyglass.monitoring.models import NetResult
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot
from tests.conftest import make_snapshot, make_test

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC


def _window_aggregates(queries) -> list[str]:
    """Reads of the results (the window's per-round aggregates, which the summary sums)."""
    table = NetResult._meta.db_table
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_it_shows_the_same_summary_on_every_view_and_aggregates_the_window_once(cast):
    test = make_test(cast.owner, "agent-to-server", name="edge", interval=60)
    seed(test, agents=3, hours=4, random_seed=5, now=ROUND + 3600)
    snapshot = make_snapshot(cast.owner, test, hours=2, anchor=ROUND, display_name="edge outage")
    client = Client()

    with CaptureQueriesContext(connection) as first:
        one = client.get(f"/s/{snapshot.link_id}/", REMOTE_ADDR="198.51.100.4")
    stored = Snapshot.objects.get(id=snapshot.id).summary
    assert stored.startswith("avg loss ") and stored.endswith("(3 agents)")
    assert f'<dd class="summary">{stored}</dd>' in one.content.decode()
    assert _window_aggregates(first)

    with CaptureQueriesContext(connection) as second:
        two = client.get(f"/s/{snapshot.link_id}/", REMOTE_ADDR="198.51.100.4")
    assert f'<dd class="summary">{stored}</dd>' in two.content.decode()
    assert _window_aggregates(second) == []
