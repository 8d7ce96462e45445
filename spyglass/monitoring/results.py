"""Writing results set-based: one INSERT … ON CONFLICT DO UPDATE per batch, on SQLite and PostgreSQL alike.

Copy-on-write for frozen windows: a snapshot pins its window with a freezing RetentionPin instead of copying rows
(creation must not cost more for 48 h than for 1 h). When a batch is about to replace rows inside such a window that
were written before the freeze, the old rows are first copied, set-based, to the pin's `copy_to` test, in the same
transaction. Rows carry `recorded_at`, so rows first written after a freeze are simply not shown by the snapshot."""

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain, repeat
from operator import itemgetter

import orjson
from django.db import connection, transaction
from django.utils import timezone

from .models import DnsResult, HttpResult, NetResult, PathRound, ResultHour, RetentionPin

# "path": an agent's packed path traces of a round (path_store.py packs them and writes them through here, so a
# replaced round is copied for a snapshot frozen before it like any other result).
KINDS = {"net": NetResult, "http": HttpResult, "dns": DnsResult, "path": PathRound}
_CONVERTED = ("JSONField", "DateTimeField")


def _prep(field, value):
    return field.get_db_prep_save(value, connection) if field.get_internal_type() in _CONVERTED else value


_CONFLICT_KEYS = {
    "net": ("test_id", "round_id", "agent_id"),
    "http": ("test_id", "round_id", "agent_id"),
    "dns": ("test_id", "round_id", "agent_id", "server"),
    "path": ("test_id", "round_id", "agent_id"),
}
# Results are versioned by hour of roundIds (ResultHour): what an export chunk covers (spyglass.monitoring.chunks).
HOUR = 3600

# Namespace of the PostgreSQL advisory locks that order freezes against writes of the same test.
_LOCK_NAMESPACE = 0x53505947 << 24

# Called after every write of results, inside its transaction, with the kind and the rows written
# (spyglass.telemetry counts them once the transaction commits).
_on_write: list[Callable[[str, int], None]] = []


def register_on_write(callback: Callable[[str, int], None]) -> None:
    if callback not in _on_write:
        _on_write.append(callback)


def columns(kind: str) -> list[str]:
    """Database columns of a results table, without the primary key."""
    return [f.column for f in KINDS[kind]._meta.concrete_fields if not f.primary_key]  # type: ignore[misc]  # concrete: each has a column


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


@lru_cache(maxsize=64)
def _sqlite_upsert_sql(kind: str, cols: tuple[str, ...], per_row: int, rows: int) -> str:
    """SQLite: the first `per_row` columns take parameters of their own in every row, the rest share numbered
    parameters ?1…?k given once (parameters: the shared values first, then the rows)."""
    table = KINDS[kind]._meta.db_table
    keys = _CONFLICT_KEYS[kind]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    shared = len(cols) - per_row
    tail = "".join(f", ?{i}" for i in range(1, shared + 1))
    first = f"(?{shared + 1}" + ", ?" * (per_row - 1) + tail + ")"  # an unnumbered ? follows the previous number
    row = "(?" + ", ?" * (per_row - 1) + tail + ")"
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([first] + [row] * (rows - 1))} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def _arrays(columns: list[list]) -> list[list] | None:
    """The columns as PostgreSQL arrays, or None when a column mixes types psycopg cannot put in one array (whole
    numbers among floats become floats, as the float column stores them)."""
    arrays = []
    for values in columns:
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
    return _upsert_sql_cached(kind, tuple(cols), rows, "%s")


def _sqlite_direct() -> bool:
    """Whether statements may go to SQLite's cursor as they are: Django's SQLite cursor runs a regular expression
    over the whole text on every execute (rewriting "%s" into "?"), about 1 ms for a statement of 500 rows. Not
    while queries are logged (DEBUG, CaptureQueriesContext) or wrapped: those go through Django's cursor."""
    return connection.vendor == "sqlite" and not connection.queries_logged and not connection.execute_wrappers


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


def _freezing_pins(test_ids, first_round: int, last_round: int, cur) -> list[RetentionPin]:
    # In SQL: every batch asks, and the ORM compiling the query cost more than SQLite inserting a hundred rows.
    # Usually nothing is found: the ids come first, whole pins only then.
    ids = sorted(test_ids)
    table = RetentionPin._meta.db_table
    sql = (
        f"SELECT id FROM {table} WHERE test_id IN ({', '.join(['%s'] * len(ids))}) "
        "AND frozen_at IS NOT NULL AND copy_to_id IS NOT NULL AND start_round <= %s AND end_round >= %s"
    )
    cur.execute(sql, [*ids, last_round, first_round])
    found = [pin_id for (pin_id,) in cur.fetchall()]
    return list(RetentionPin.objects.filter(id__in=found).order_by("id")) if found else []


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
    frozen = model._meta.get_field("recorded_at").get_db_prep_save(pin.frozen_at, connection)  # type: ignore[union-attr]  # a column
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

    Converted with built-ins that loop in C: Django's conversion per row cost more than the insert itself. On SQLite
    orjson writes the text (ISO 8601, microseconds only when not zero, as str() does) for a fifth of str()'s cost;
    the separator and the offset are the only "T" and "+00:00" in it."""
    dates = list(map(datetime.fromtimestamp, seconds, repeat(UTC)))
    if connection.vendor == "sqlite":
        return orjson.loads(orjson.dumps(dates).replace(b"T", b" ").replace(b"+00:00", b""))
    return dates


def upsert_columns(kind: str, columns: dict[str, list], constants: dict | None = None) -> int:
    """upsert() for rows given column by column, with `date` in epoch seconds; `constants` are columns with one
    value for every row (bound once per statement on SQLite)."""
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
    return _write(kind, list(prepared), list(prepared.values()), constants=constants)


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


def upsert_values(kind: str, given: list[str], values: list[tuple], batch_size: int = 2000) -> int:
    """upsert() for rows already converted for the driver: tuples in the order of the `given` columns."""
    return _write(kind, given, [list(c) for c in zip(*values, strict=True)], batch_size) if values else 0


def _write(
    kind: str, given: list[str], columns: list[list], batch_size: int = 2000, constants: dict | None = None
) -> int:
    """Insert or replace the rows given as one list per column (in the order of `given`, converted for the driver),
    plus `constants`, columns with one value for every row. Column lists are what validation and PostgreSQL's
    arrays take, and what SQLite's parameters are laid out from with slices, without a tuple per row."""
    fields = {f.column: f for f in KINDS[kind]._meta.concrete_fields}
    # Columns a caller leaves out take the model's default, so every writer stores complete rows.
    missing = [c for c, f in fields.items() if c not in given and c not in (constants or {})]
    missing = [c for c in missing if not fields[c].primary_key and c != "recorded_at"]
    fixed = {**(constants or {}), **{c: _prep(fields[c], fields[c].get_default()) for c in missing}}
    cols = given + list(fixed) + ["recorded_at"]
    keys_given = [given.index(k) for k in _CONFLICT_KEYS[kind] if k in given]
    count = len(columns[0])
    direct = _sqlite_direct()
    # Many rows to a statement: on SQLite this costs about 40 % less per row than executemany's step-and-reset loop.
    per_statement = max(1, min(batch_size, (_max_params() - len(fixed) - 1) // len(given)))
    # Inside the caller's transaction, without a savepoint of its own: a failure rolls the caller's back anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        test_ids = set(columns[given.index("test_id")])
        _lock_tests_for_write(test_ids)
        # Taken after the lock, so a snapshot frozen before this write sees none of it, and one after sees all.
        tail = (*fixed.values(), fields["recorded_at"].get_db_prep_save(timezone.now(), connection))
        rounds = columns[given.index("round_id")]
        pins = _freezing_pins(test_ids, min(rounds), max(rounds), cur)
        for i in range(0, count, per_statement):
            chunk = [c[i : i + per_statement] for c in columns] if count > per_statement else columns
            # Repeated keys are found among the key columns the rows carry: the others are the same for every row.
            keys = list(zip(*[chunk[k] for k in keys_given], strict=True))
            if len(set(keys)) < len(keys):
                # One statement may not touch a row twice (PostgreSQL refuses): the last version of a key wins, as
                # it would row by row.
                rows = dict(zip(keys, zip(*chunk, strict=True), strict=True)).values()
                chunk = [list(c) for c in zip(*rows, strict=True)]
            if pins:
                whole = [chunk[given.index(k)] if k in given else repeat(fixed[k]) for k in _CONFLICT_KEYS[kind]]
                keys = list(zip(*whole, strict=False))  # a repeat() stands for a constant
                for pin in pins:
                    _copy_before_replace(kind, pin, keys, cur)
            _execute_chunk(kind, cur, cols, len(given), chunk, tail, direct)
        # Last, so the hours' rows stay locked only until the commit that follows.
        hours = (r - r % HOUR for r in rounds)
        bump_hours(cur, set(zip(columns[given.index("test_id")], hours, strict=True)), tail[-1])
        for callback in _on_write:
            callback(kind, count)
    return count


def _execute_chunk(kind: str, cur, cols: list[str], per_row: int, chunk: list[list], tail: tuple, direct: bool):
    if direct:
        rows = len(chunk[0])
        # Text and whole-number columns with one value in every row (the test, the server, no error…) are bound
        # once, as the tail is: binding a value costs more than inserting it.
        same = [j for j, v in enumerate(chunk) if rows > 1 and type(v[0]) in (str, int) and v.count(v[0]) == rows]
        each = [j for j in range(per_row) if j not in same]
        order = tuple([cols[j] for j in each] + [cols[j] for j in same] + cols[per_row:])
        shared = [chunk[j][0] for j in same] + list(tail)
        # The rest row after row, laid out with one slice assignment per column.
        params = [*shared, *repeat(None, len(each) * rows)]
        for at, j in enumerate(each):
            params[len(shared) + at :: len(each)] = chunk[j]
        _execute_direct(cur, _sqlite_upsert_sql(kind, order, len(each), rows), params)
        return
    arrays = _arrays(chunk) if connection.vendor == "postgresql" else None
    if arrays is not None:
        # One array per column: a short statement whatever the rows (psycopg parses a long one in Python).
        cur.execute(_unnest_upsert_sql(kind, tuple(cols), per_row), [*tail, *arrays])
    elif connection.vendor == "postgresql":
        cur.executemany(_upsert_sql(kind, cols, 1), [row + tail for row in zip(*chunk, strict=True)])
    else:
        params = list(chain.from_iterable(row + tail for row in zip(*chunk, strict=True)))
        cur.execute(_upsert_sql(kind, cols, len(chunk[0])), params)


def _execute_direct(cur, sql: str, params: list) -> None:
    """What Django's cursor does around an execute, without its rewriting of the text (see _sqlite_direct)."""
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        sqlite3.Cursor.execute(cur.cursor, sql, params)


def bump_hours(cur, test_hours: set[tuple[int, int]], written_at) -> None:
    """Count a write to each (test id, hour): export chunks and rollups built from an earlier version are then stale;
    and keep the hour's latest `written_at` (the write's recorded_at, converted for the driver), which tells a
    snapshot whether the hour changed after its freeze. Sorted, so concurrent writers lock the rows in the same
    order; the latest time kept whichever commits first."""
    if not test_hours:
        return
    table = ResultHour._meta.db_table
    latest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    cur.execute(
        f"INSERT INTO {table} (test_id, hour, version, written_at) "
        f"VALUES {', '.join(['(%s, %s, 1, %s)'] * len(test_hours))} "
        f"ON CONFLICT (test_id, hour) DO UPDATE SET version = {table}.version + 1, "
        f"written_at = {latest}(COALESCE({table}.written_at, excluded.written_at), excluded.written_at)",
        list(chain.from_iterable((test_id, hour, written_at) for test_id, hour in sorted(test_hours))),
    )
