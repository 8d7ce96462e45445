"""Fixed-window counters kept in the database, so every app process sees the same count: the API's per-organization
request limit, failed logins (failed_logins.py), snapshot creation, misses on share links, comments."""

import functools
import time

from django.conf import settings
from django.db import connection, transaction

from spyglass.accounts.models import RateCounter
from spyglass.lib.addresses import client_address


def client_ip(request) -> str:
    """The client's address, through the trusted reverse proxies (SPYGLASS_TRUSTED_PROXIES) only."""
    meta = request.META
    return client_address(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""), settings.TRUSTED_PROXIES)


def hit(key: str, window_seconds: int, amount: int = 1, now: float | None = None) -> tuple[int, int]:
    """Add to the counter of the current window; returns (count after, epoch second the window resets)."""
    count = hit_keys([key], window_seconds, amount, now)[key]
    return count, window_start(window_seconds, now) + window_seconds


def hit_keys(keys: list[str], window_seconds: int, amount: int = 1, now: float | None = None) -> dict[str, int]:
    """Add to several counters of the current window in one statement; returns each key's count after."""
    keys = sorted(set(keys))  # one order for every caller, so two statements never wait on each other's rows
    start = window_start(window_seconds, now)
    params = [value for key in keys for value in (key, start, amount)]
    plain, relaxed = _statements(len(keys))
    return {key: count for count, key in write_counters(plain, relaxed, params)}


def write_counters(plain: str, relaxed: str, params: list) -> list[tuple]:
    """Run a counter's upsert (`plain`), or on PostgreSQL outside a transaction its `relaxed` form, which commits
    without waiting for the disk; returns the rows it returns. Counters elsewhere (spyglass.telemetry) write here."""
    if connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cur:  # a savepoint in the caller's transaction
            cur.execute(plain, params)
            rows = cur.fetchall()
    else:
        # Its own transaction, the one statement's (autocommit): SQLite takes the write lock as it starts, under the
        # busy timeout, so BEGIN and COMMIT around it only cost an API request two more statements. PostgreSQL
        # commits it without waiting for the disk: the wait (2–4 ms here) cost more than the rest of an API request,
        # and a crash can lose at most the last moments' counts; set_config(…, true) applies to this transaction as
        # SET LOCAL would. Never inside a caller's transaction, whose own writes must stay durable.
        with connection.cursor() as cur:
            cur.execute(relaxed if connection.vendor == "postgresql" else plain, params)
            rows = cur.fetchall()
    return rows


_TABLE = RateCounter._meta.db_table


@functools.cache
def _statements(rows: int) -> tuple[str, str]:
    """The upsert of `rows` counters: as it is, and committing without waiting for the disk (PostgreSQL)."""
    add = f"ON CONFLICT (key, window_start) DO UPDATE SET count = {_TABLE}.count + excluded.count RETURNING count, key"
    plain = f"INSERT INTO {_TABLE} (key, window_start, count) VALUES " + ", ".join(["(%s, %s, %s)"] * rows)
    # set_config is volatile, so PostgreSQL evaluates it although nothing reads its value.
    values = ", ".join(["(%s::text, %s::bigint, %s::integer)"] * rows)
    relaxed = (
        f"INSERT INTO {_TABLE} (key, window_start, count) SELECT v.key, v.window_start, v.count "
        f"FROM (VALUES {values}) AS v (key, window_start, count), "
        "(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
    )
    return f"{plain} {add}", f"{relaxed} {add}"


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
