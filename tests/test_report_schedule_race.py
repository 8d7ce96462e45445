"""Several workers at once (PostgreSQL, real concurrent transactions): a due report schedule runs once — one
snapshot, one run, one e-mail per recipient — however many workers find it due together, and a worker skips a
schedule another holds (SKIP LOCKED) instead of waiting for it."""

import threading
from datetime import time, timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboards
from spyglass.dashboards.models import ReportRun, ReportSchedule
from spyglass.mail.models import OutboxMessage
from spyglass.sharing import reports
from spyglass.sharing.models import DashboardSnapshot
from tests.conftest import make_test

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="concurrent claiming transactions need the PostgreSQL run (scripts/test.sh runs it)",
    ),
]
WORKERS = 4


@pytest.fixture
def due(cast):
    """A weekly schedule with two recipients, due a minute ago."""
    access = access_for(cast.owner.user, None)
    board = dashboards.default_dashboard(access)
    dashboards.add_widget(access, board, make_test(cast.owner, "http-server").id, "totalTime", 3600)
    schedule = reports.set_schedule(
        access,
        board,
        frequency=ReportSchedule.WEEKLY,
        weekday=0,
        time_of_day=time(9, 0),
        recipients=["boss@acme.test", "team@acme.test"],
    )
    ReportSchedule.objects.filter(id=schedule.id).update(next_run_at=timezone.now() - timedelta(minutes=1))
    return schedule


def _in_thread(target, results, index, barrier):
    try:
        barrier.wait(timeout=10)
        results[index] = target()
    finally:
        connection.close()


def test_workers_finding_one_schedule_due_together_run_it_once(due):
    barrier = threading.Barrier(WORKERS)
    results: list = [None] * WORKERS
    threads = [threading.Thread(target=_in_thread, args=(reports.run_due, results, i, barrier)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r["ok"] for r in results) == 1 and sum(r["failed"] for r in results) == 0, results
    assert ReportRun.objects.count() == 1 and DashboardSnapshot.objects.count() == 1
    assert sorted(m.to[0] for m in OutboxMessage.objects.all()) == ["boss@acme.test", "team@acme.test"]


def test_a_worker_skips_a_schedule_another_holds_and_runs_it_once_released(due):
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                ReportSchedule.objects.select_for_update().get(id=due.id)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        assert reports.run_due() == {"ok": 0, "failed": 0}  # skipped at once, not waited for
    finally:
        release.set()
        holder.join(timeout=30)
    assert reports.run_due() == {"ok": 1, "failed": 0}
    assert reports.run_due() == {"ok": 0, "failed": 0}
