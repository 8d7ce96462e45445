"""The server's health counters, in the database so that every app process and worker adds to the same count:
answers by status (`requests:<code>`, counted by middleware.RequestCountMiddleware) and result rows written
(`rounds:<kind>`, counted after each write of results commits). Counted only while the metrics endpoint is on
(SPYGLASS_METRICS_TOKEN): each count is one upsert, committed as the rate limits' counters are (accounts.ratelimit)."""

import functools
import logging

from django.conf import settings
from django.db import DatabaseError, transaction

from spyglass.accounts.ratelimit import write_counters

from .models import Counter

REQUESTS = "requests:"
ROUNDS = "rounds:"
_TABLE = Counter._meta.db_table

log = logging.getLogger(__name__)


@functools.cache
def _statements() -> tuple[str, str]:
    add = f"ON CONFLICT (key) DO UPDATE SET value = {_TABLE}.value + excluded.value RETURNING value"
    plain = f"INSERT INTO {_TABLE} (key, value) VALUES (%s, %s) {add}"
    # set_config is volatile, so PostgreSQL evaluates it although nothing reads its value (as in accounts.ratelimit).
    relaxed = (
        f"INSERT INTO {_TABLE} (key, value) SELECT v.key, v.value FROM (VALUES (%s::text, %s::bigint)) AS v (key, value), "
        f"(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed {add}"
    )
    return plain, relaxed


def add(key: str, amount: int = 1) -> None:
    """Add to a counter. A failure is logged and forgotten: a count never changes the answer it counts."""
    try:
        write_counters(*_statements(), [key, amount])
    except DatabaseError:
        log.warning("could not count %s", key, exc_info=True)


def count_request(status: int) -> None:
    if settings.METRICS_TOKEN:
        add(f"{REQUESTS}{status}")


def count_results(kind: str, rows: int) -> None:
    """After a write of results commits (never inside its transaction, whose rows would wait on the counter)."""
    if settings.METRICS_TOKEN and rows:
        transaction.on_commit(lambda: add(f"{ROUNDS}{kind}", rows))


def totals() -> dict[str, int]:
    """Every counter, by key (one query)."""
    return dict(Counter.objects.values_list("key", "value"))
