"""The background worker: work that must not run on a request — sending queued e-mail and pushing streams' rounds to
their receivers (often: spyglass.streams.push), dashboards' scheduled reports and the per-round rollups of the hours
just written (every minute: spyglass.sharing.reports, spyglass.monitoring.rollups), retention purge and expired
counters (hourly).

Several workers may run at once against PostgreSQL: e-mail rows and due report schedules are claimed with a
conditional UPDATE, streams with SELECT … FOR UPDATE SKIP LOCKED and a lease, and the housekeeping passes are
idempotent and set-based."""

import logging
import signal
import time

from django.db import close_old_connections

log = logging.getLogger(__name__)
MAIL_EVERY = 2
RETENTION_EVERY = 3600
ROLLUPS_EVERY = 60
REPORTS_EVERY = 60


class _Stop:
    requested = False


def run_once(now: float | None = None) -> dict:
    from django.utils import timezone

    from spyglass.accounts import ratelimit
    from spyglass.monitoring.retention import purge_old_results
    from spyglass.sharing import dashboard_snapshots, limits, services

    snapshots = services.purge_expired() + dashboard_snapshots.purge_expired()
    purged = purge_old_results(now)
    counters = ratelimit.purge_older_than(2 * 3600)
    creations = limits.purge_log(timezone.now())
    reports = run_reports()  # before the mail: a report's e-mails leave in the same pass
    mail = deliver_mail()
    streams = push_streams()
    rollups = refresh_rollups()
    return {
        "rollup_hours_computed": rollups,
        "results_purged": purged,
        "counters_purged": counters,
        "creations_purged": creations,
        "expired_snapshots_purged": snapshots,
        "reports": reports,
        "mail": mail,
        "streams": streams,
    }


def run_reports() -> dict:
    """Dashboards' scheduled snapshots that are due (each occurrence once, whatever the number of workers)."""
    from spyglass.sharing.reports import run_due

    return run_due()


def refresh_rollups() -> int:
    """The rollups of the hours written lately, so that the first timeline read after a write rarely computes them
    (a read computes what is still stale: this is never needed for correctness)."""
    from spyglass.monitoring.rollups import refresh

    return refresh()


def deliver_mail() -> dict:
    from spyglass.mail.outbox import deliver_due

    return deliver_due()


def push_streams() -> dict:
    from spyglass.streams.push import push_due

    return push_due()


def run_forever() -> int:
    stop = _Stop()

    def _handle(signum, frame):
        stop.requested = True

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    last_housekeeping = last_rollups = last_reports = 0.0
    while not stop.requested:
        close_old_connections()
        try:
            if time.time() - last_housekeeping >= RETENTION_EVERY:
                run_once()
                last_housekeeping = time.time()
                last_reports = time.time()
            else:
                if time.time() - last_reports >= REPORTS_EVERY:
                    run_reports()
                    last_reports = time.time()
                deliver_mail()
                push_streams()
            if time.time() - last_rollups >= ROLLUPS_EVERY:
                refresh_rollups()
                last_rollups = time.time()
        except Exception as exc:  # keep the worker alive; the next pass retries
            from spyglass.api.unavailable import is_database_unavailable

            if is_database_unavailable(exc):  # a failover: one line a pass, not a traceback
                log.warning(
                    "worker pass: the database is unavailable (%s); trying again", (str(exc).splitlines() or [""])[0]
                )
            else:
                log.exception("worker pass failed")
        for _ in range(MAIL_EVERY * 10):
            if stop.requested:
                break
            time.sleep(0.1)
    return 0
