"""Freezing while results are being rewritten (PostgreSQL, real concurrent transactions): a snapshot never changes
after it is taken, and always shows one whole batch — never half of one."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from spyglass.monitoring import results
from spyglass.monitoring.models import NetResult
from spyglass.monitoring.seed import seed
from spyglass.sharing.scope_provider import scope_of
from tests.conftest import make_snapshot, make_test

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="concurrent writing transactions need the PostgreSQL run (scripts/test.sh runs it)",
    ),
]
START = 1_795_000_000 // 3600 * 3600


def values(snapshot):
    return dict(
        ((r, a), v)
        for r, a, v in scope_of(snapshot).results(NetResult).values_list("round_id", "agent_id", "avg_latency")
    )


def test_a_snapshot_taken_during_rewrites_never_changes_afterwards(cast, settings):
    settings.SNAPSHOT_RATE = [(1000, 60)]
    test = make_test(cast.owner, name="busy", interval=60)
    seed(test, agents=4, hours=2, random_seed=1, now=START + 7200)
    rows = list(NetResult.objects.filter(test=test, round_id__gte=START, round_id__lte=START + 3600).values())
    for row in rows:
        row.pop("id")
    stop = threading.Event()
    errors = []
    written = threading.Condition()
    batches = [0]  # rewrites committed so far

    def rewrite_forever():
        try:
            version = 1000.0
            while not stop.is_set():
                version += 1
                results.upsert("net", [{**row, "avg_latency": version} for row in rows])
                with written:
                    batches[0] += 1
                    written.notify_all()
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()
            with written:
                written.notify_all()

    def wait_for_rewrites(more: int):
        """Until the writer has committed `more` further batches (or failed), however busy the machine is."""
        with written:
            target = batches[0] + more
            assert written.wait_for(lambda: batches[0] >= target or errors, timeout=60), "the writer stalled"

    writer = threading.Thread(target=rewrite_forever)
    writer.start()
    try:
        taken = []
        for _ in range(8):
            wait_for_rewrites(1)  # each snapshot between two rewrites
            snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START)
            taken.append((snapshot, values(snapshot)))
        wait_for_rewrites(3)  # rewrites after the last snapshot, which none may see
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not errors
    for snapshot, first in taken:
        assert len(first) == len(rows)
        assert len(set(first.values())) == 1  # one whole batch
        assert values(snapshot) == first  # unchanged by every rewrite since
