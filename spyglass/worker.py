"""The background worker: housekeeping that must not run on a request (retention purge, expired counters).

Several workers may run at once against PostgreSQL: each pass is idempotent and set-based."""

import logging
import signal
import time

from django.db import close_old_connections

log = logging.getLogger(__name__)
PASS_SECONDS = 60
RETENTION_EVERY = 3600


class _Stop:
    requested = False


def run_once(now: float | None = None) -> dict:
    from spyglass.api import ratelimit
    from spyglass.monitoring.retention import purge_old_results

    purged = purge_old_results(now)
    counters = ratelimit.purge_older_than(2 * 3600)
    return {"results_purged": purged, "counters_purged": counters}


def run_forever() -> int:
    stop = _Stop()

    def _handle(signum, frame):
        stop.requested = True

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    last_retention = 0.0
    while not stop.requested:
        close_old_connections()
        try:
            if time.time() - last_retention >= RETENTION_EVERY:
                run_once()
                last_retention = time.time()
        except Exception:  # keep the worker alive; the next pass retries
            log.exception("worker pass failed")
        for _ in range(PASS_SECONDS):
            if stop.requested:
                break
            time.sleep(1)
    return 0
