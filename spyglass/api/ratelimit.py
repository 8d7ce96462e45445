"""Fixed-window counters kept in the database, so every app process sees the same count."""

import time

from django.db import connection, transaction

from spyglass.accounts.models import RateCounter


def hit(key: str, window_seconds: int, amount: int = 1, now: float | None = None) -> tuple[int, int]:
    """Add to the counter of the current window; returns (count after, epoch second the window resets)."""
    start = window_start(window_seconds, now)
    table = RateCounter._meta.db_table
    sql = (
        f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, %s) "
        f"ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + excluded.count RETURNING count"
    )
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # One round trip, committed without waiting for the disk: PostgreSQL runs the statements of one message as
        # one transaction, to which SET LOCAL applies. The wait (2–4 ms here) cost more than the rest of an API
        # request, and a crash can lose at most the last moments' counts. Never inside a caller's transaction,
        # whose own writes must stay durable.
        with connection.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit TO OFF; " + sql, [key, start, amount])
            cur.nextset()
            count = cur.fetchone()[0]
    else:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [key, start, amount])
            count = cur.fetchone()[0]
    return count, start + window_seconds


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
