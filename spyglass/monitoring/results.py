"""Writing results set-based: one INSERT … ON CONFLICT DO UPDATE per batch, on SQLite and PostgreSQL alike.

Copy-on-write for frozen windows: a snapshot pins its window with a freezing RetentionPin instead of copying rows
(creation must not cost more for 48 h than for 1 h). When a batch is about to replace rows inside such a window that
were written before the freeze, the old rows are first copied, set-based, to the pin's `copy_to` test, in the same
transaction. Rows carry `recorded_at`, so rows first written after a freeze are simply not shown by the snapshot."""

import sqlite3
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import chain, repeat
from operator import itemgetter

from django.db import connection, transaction
from django.utils import timezone

from .models import DnsResult, HttpResult, NetResult, ResultHour, RetentionPin

KINDS = {"net": NetResult, "http": HttpResult, "dns": DnsResult}
_CONVERTED = ("JSONField", "DateTimeField")


def _prep(field, value):
    return field.get_db_prep_save(value, connection) if field.get_internal_type() in _CONVERTED else value


_CONFLICT_KEYS = {
    "net": ("test_id", "round_id", "agent_id"),
    "http": ("test_id", "round_id", "agent_id"),
    "dns": ("test_id", "round_id", "agent_id", "server"),
}
# Results are versioned by hour of roundIds (ResultHour): what an export chunk covers (spyglass.monitoring.chunks).
HOUR = 3600

# Namespace of the PostgreSQL advisory locks that order freezes against writes of the same test.
_LOCK_NAMESPACE = 0x53505947 << 24


def columns(kind: str) -> list[str]:
    """Database columns of a results table, without the primary key."""
    return [f.column for f in KINDS[kind]._meta.concrete_fields if not f.primary_key]


@lru_cache(maxsize=64)
def _upsert_sql_cached(kind: str, cols: tuple[str, ...], rows: int, placeholder: str) -> str:
    table = KINDS[kind]._meta.db_table
    keys = _CONFLICT_KEYS[kind]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    row = "(" + ", ".join([placeholder] * len(cols)) + ")"
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def _arrays(rows: list[tuple]) -> list[list] | None:
    """The rows as one list per column for PostgreSQL arrays, or None when a column mixes types psycopg cannot put
    in one array (whole numbers among floats become floats, as the float column stores them)."""
    arrays = []
    for values in zip(*rows, strict=True):
        types = set(map(type, values)) - {type(None)}
        if types == {int, float}:
            values = [v if v is None else float(v) for v in values]
        elif len(types) > 1:
            return None
        arrays.append(list(values))
    return arrays


@lru_cache(maxsize=64)
def _unnest_upsert_sql(kind: str, cols: tuple[str, ...], arrays: int) -> str:
    """PostgreSQL: the first `arrays` columns come as one array each, the rest as one value for every row
    (parameters: those values first, then the arrays)."""
    model = KINDS[kind]
    keys = _CONFLICT_KEYS[kind]
    fields = {f.column: f for f in model._meta.concrete_fields}
    types = [fields[c].db_type(connection) for c in cols]
    unnest = ", ".join(f"%s::{t}[]" for t in types[:arrays])
    select = ", ".join(["u.*", *(f"%s::{t}" for t in types[arrays:])])
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    return (
        f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) SELECT {select} FROM unnest({unnest}) AS u "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def _upsert_sql(kind: str, cols: list[str], rows: int) -> str:
    # SQLite's own "?" placeholders: Django's SQLite cursor rewrites each "%s" with a regular expression on every
    # execute, which cost about 1 ms for a statement of 500 rows; a query without "%s" passes through unchanged.
    # Not while queries are logged (DEBUG, CaptureQueriesContext): the log formats the SQL with its "%s".
    qmark = connection.vendor == "sqlite" and not connection.queries_logged
    return _upsert_sql_cached(kind, tuple(cols), rows, "?" if qmark else "%s")


def _max_params() -> int:
    """Parameters one statement may carry: SQLite's compiled-in limit, PostgreSQL's protocol limit."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return 65535


def lock_test_for_freeze(test_id: int) -> None:
    """Wait for writes in flight to this test's results and hold new ones until the caller's transaction ends.

    PostgreSQL only: SQLite runs one writing transaction at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_NAMESPACE + test_id])


def _lock_tests_for_write(test_ids) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for test_id in sorted(test_ids):
                cur.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_LOCK_NAMESPACE + test_id])


def _freezing_pins(test_ids, first_round: int, last_round: int) -> list[RetentionPin]:
    # In SQL: every batch asks, and the ORM compiling the query cost more than SQLite inserting a hundred rows.
    ids = sorted(test_ids)
    sql = (
        f"SELECT * FROM {RetentionPin._meta.db_table} WHERE test_id IN ({', '.join(['%s'] * len(ids))}) "
        "AND frozen_at IS NOT NULL AND copy_to_id IS NOT NULL AND start_round <= %s AND end_round >= %s"
    )
    return list(RetentionPin.objects.raw(sql, [*ids, last_round, first_round]))


def _copy_before_replace(kind: str, pin: RetentionPin, keys: list[tuple], cur) -> int:
    """Copy the pin's pre-freeze versions of these keys to pin.copy_to (one INSERT … SELECT)."""
    keys = [k for k in keys if k[0] == pin.test_id and pin.start_round <= k[1] <= pin.end_round]
    if not keys:
        return 0
    model = KINDS[kind]
    table = model._meta.db_table
    key_cols = _CONFLICT_KEYS[kind]
    cols = columns(kind)
    select = ", ".join("%s" if c == "test_id" else c for c in cols)
    row_values = ", ".join(["(" + ", ".join(["%s"] * (len(key_cols) - 1)) + ")"] * len(keys))
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM {table} "
        f"WHERE test_id = %s AND recorded_at <= %s "
        f"AND ({', '.join(key_cols[1:])}) IN (VALUES {row_values}) "
        f"ON CONFLICT ({', '.join(key_cols)}) DO NOTHING"
    )
    frozen = model._meta.get_field("recorded_at").get_db_prep_save(pin.frozen_at, connection)
    params = [pin.copy_to_id, pin.test_id, frozen]
    for key in keys:
        params.extend(key[1:])
    cur.execute(sql, params)
    copied = cur.rowcount or 0
    if copied and not pin.has_copies:
        RetentionPin.objects.filter(id=pin.id).update(has_copies=True)
        pin.has_copies = True
    return copied


def epoch_dates(seconds: list[float]) -> list:
    """Epoch seconds → values of a date column for the driver, as DateTimeField.get_db_prep_save makes them from
    datetime.fromtimestamp(s, UTC): naive UTC text on SQLite, aware datetimes on PostgreSQL.

    Built as epoch + timedelta(0, s), which rounds to the microsecond exactly as fromtimestamp does (half to even)
    but costs a quarter as much per row; Django's conversion per row cost more than the insert itself."""
    if connection.vendor == "sqlite":
        return list(map(str, map(_EPOCH.__add__, map(timedelta, repeat(0), seconds))))
    return list(map(_EPOCH_UTC.__add__, map(timedelta, repeat(0), seconds)))


_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def upsert_columns(kind: str, columns: dict[str, list]) -> int:
    """upsert() for rows given column by column, with `date` in epoch seconds."""
    fields = {f.column: f for f in KINDS[kind]._meta.concrete_fields}
    prepared = {
        name: (
            epoch_dates(values)
            if name == "date"
            else [_prep(fields[name], v) for v in values]
            if fields[name].get_internal_type() in _CONVERTED
            else values
        )
        for name, values in columns.items()
    }
    return upsert_values(kind, list(prepared), list(zip(*prepared.values(), strict=True)))


def upsert(kind: str, rows: list[dict], batch_size: int = 2000) -> int:
    """Insert or replace rows given as {column: value} dicts (all rows with the same keys). Returns the count."""
    if not rows:
        return 0
    fields = {f.column: f for f in KINDS[kind]._meta.concrete_fields}
    given = [c for c in rows[0] if c != "recorded_at"]
    # Values are taken with one itemgetter per row and converted by position: this loop runs for every row it writes.
    take = itemgetter(*given)
    convert = [(i, fields[c]) for i, c in enumerate(given) if fields[c].get_internal_type() in _CONVERTED]
    values = []
    for row in rows:
        row_values = take(row)
        if convert:
            row_values = list(row_values)
            for index, field in convert:
                row_values[index] = field.get_db_prep_save(row_values[index], connection)
            row_values = tuple(row_values)
        values.append(row_values)
    return upsert_values(kind, given, values, batch_size)


def _key_getter(kind: str, given: list[str], fields: dict):
    """Row tuple → its conflict key, with the model's default for a key column the caller leaves out."""
    positions = [given.index(k) if k in given else None for k in _CONFLICT_KEYS[kind]]
    if None not in positions:
        return itemgetter(*positions)
    defaults = [fields[k].get_default() for k in _CONFLICT_KEYS[kind]]
    return lambda row: tuple(row[at] if at is not None else d for at, d in zip(positions, defaults, strict=True))


def upsert_values(kind: str, given: list[str], values: list[tuple], batch_size: int = 2000) -> int:
    """upsert() for rows already converted for the driver: tuples in the order of the `given` columns."""
    if not values:
        return 0
    fields = {f.column: f for f in KINDS[kind]._meta.concrete_fields}
    # Columns a caller leaves out take the model's default, so every writer stores complete rows.
    missing = [c for c, f in fields.items() if c not in given and not f.primary_key and c != "recorded_at"]
    cols = given + missing + ["recorded_at"]
    tail = tuple(_prep(fields[c], fields[c].get_default()) for c in missing)
    key_of = _key_getter(kind, given, fields)
    test_at, round_at = given.index("test_id"), given.index("round_id")
    # Many rows to a statement: on SQLite this costs about 40 % less per row than executemany's step-and-reset loop.
    per_statement = max(1, min(batch_size, _max_params() // len(cols)))
    with transaction.atomic(), connection.cursor() as cur:
        test_ids = set(map(itemgetter(test_at), values))
        _lock_tests_for_write(test_ids)
        # Taken after the lock, so a snapshot frozen before this write sees none of it, and one after sees all.
        tail += (fields["recorded_at"].get_db_prep_save(timezone.now(), connection),)
        rounds = list(map(itemgetter(round_at), values))
        pins = _freezing_pins(test_ids, min(rounds), max(rounds))
        for i in range(0, len(values), per_statement):
            chunk = values[i : i + per_statement]
            keys = list(map(key_of, chunk))
            if len(set(keys)) < len(keys):
                # One statement may not touch a row twice (PostgreSQL refuses): the last version of a key wins, as
                # it would row by row.
                chunk = list(dict(zip(keys, chunk, strict=True)).values())
                keys = list(map(key_of, chunk))
            for pin in pins:
                _copy_before_replace(kind, pin, keys, cur)
            arrays = _arrays(chunk) if connection.vendor == "postgresql" else None
            if arrays is not None:
                # One array per column: a short statement whatever the rows (psycopg parses a long one in Python).
                cur.execute(_unnest_upsert_sql(kind, tuple(cols), len(given)), [*tail, *arrays])
            elif connection.vendor == "postgresql":
                cur.executemany(_upsert_sql(kind, cols, 1), [row + tail for row in chunk])
            else:
                params = list(chain.from_iterable(row + tail for row in chunk))
                cur.execute(_upsert_sql(kind, cols, len(chunk)), params)
        # Last, so the hours' rows stay locked only until the commit that follows.
        bump_hours(cur, set(zip(map(itemgetter(test_at), values), (r - r % HOUR for r in rounds), strict=True)))
    return len(values)


def bump_hours(cur, test_hours: set[tuple[int, int]]) -> None:
    """Count a write to each (test id, hour): export chunks built from an earlier version are then stale. Sorted, so
    concurrent writers lock the rows in the same order."""
    if not test_hours:
        return
    table = ResultHour._meta.db_table
    cur.execute(
        f"INSERT INTO {table} (test_id, hour, version) VALUES {', '.join(['(%s, %s, 1)'] * len(test_hours))} "
        f"ON CONFLICT (test_id, hour) DO UPDATE SET version = {table}.version + 1",
        list(chain.from_iterable(sorted(test_hours))),
    )
