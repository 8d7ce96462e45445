"""Fixed-window counters kept in the database, so every app process sees the same count."""

import time

from django.db import connection, transaction

from spyglass.accounts.models import RateCounter


def hit(key: str, window_seconds: int, amount: int = 1, now: float | None = None) -> tuple[int, int]:
    """Add to the counter of the current window; returns (count after, epoch second the window resets)."""
    now = time.time() if now is None else now
    start = int(now) // window_seconds * window_seconds
    table = RateCounter._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, %s) "
            f"ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + excluded.count RETURNING count",
            [key, start, amount],
        )
        count = cur.fetchone()[0]
    return count, start + window_seconds


def now() -> float:
    return time.time()


def peek(key: str, window_seconds: int, now: float | None = None) -> int:
    now = time.time() if now is None else now
    start = int(now) // window_seconds * window_seconds
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
