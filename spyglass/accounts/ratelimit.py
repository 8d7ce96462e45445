"""Fixed-window counters kept in the database, so every app process sees the same count: the API's per-organization
request limit, failed logins by address (API, web sign-in, agents), snapshot creation, misses on share links."""

import time

from django.db import connection, transaction

from spyglass.accounts.models import RateCounter
from spyglass.lib.compiled import prepared_cursor

FAILED_LOGIN_WINDOW = 3600  # seconds: failed logins are counted per address per hour


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def failed_login_key(request) -> str:
    """The counter of the request's address's failed logins (API, web sign-in and agents share it)."""
    return f"login-fail:{client_ip(request)}"


def hit(key: str, window_seconds: int, amount: int = 1, now: float | None = None) -> tuple[int, int]:
    """Add to the counter of the current window; returns (count after, epoch second the window resets)."""
    start = window_start(window_seconds, now)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Committed without waiting for the disk: the wait (2–4 ms here) cost more than the rest of an API request,
        # and a crash can lose at most the last moments' counts. One prepared statement, its own transaction, to
        # which set_config(…, true) applies as SET LOCAL would. Never inside a caller's transaction, whose own
        # writes must stay durable.
        with prepared_cursor() as cur:
            cur.execute(_RELAXED_HIT, [key, start, amount])
            count = cur.fetchone()[0]
    else:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(_HIT, [key, start, amount])
            count = cur.fetchone()[0]
    return count, start + window_seconds


_TABLE = RateCounter._meta.db_table
_ADD = f"ON CONFLICT (key, window_start) DO UPDATE SET count = {_TABLE}.count + excluded.count RETURNING count"
_HIT = f"INSERT INTO {_TABLE} (key, window_start, count) VALUES (%s, %s, %s) {_ADD}"
# set_config is volatile, so PostgreSQL evaluates it although nothing reads its value.
_RELAXED_HIT = (
    f"INSERT INTO {_TABLE} (key, window_start, count) SELECT %s::text, %s::bigint, %s::integer "
    f"FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed {_ADD}"
)


def now() -> float:
    return time.time()


def window_start(window_seconds: int, now: float | None = None) -> int:
    return int(time.time() if now is None else now) // window_seconds * window_seconds


def peek(key: str, window_seconds: int, now: float | None = None) -> int:
    start = window_start(window_seconds, now)
    # In SQL: every API request and every share-link view asks, and compiling the ORM query cost more than running it.
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count FROM {RateCounter._meta.db_table} WHERE key = %s AND window_start = %s", [key, start]
        )
        row = cur.fetchone()
    return row[0] if row else 0


def purge_older_than(seconds: int) -> int:
    deleted, _ = RateCounter.objects.filter(window_start__lt=int(time.time()) - seconds).delete()
    return deleted
