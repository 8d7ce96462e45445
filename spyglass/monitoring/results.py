"""Writing results set-based: one INSERT … ON CONFLICT DO UPDATE per batch, on SQLite and PostgreSQL alike.

Copy-on-write for frozen windows: a snapshot pins its window with a freezing RetentionPin instead of copying rows
(creation must not cost more for 48 h than for 1 h). When a batch is about to replace rows inside such a window that
were written before the freeze, the old rows are first copied, set-based, to the pin's `copy_to` test, in the same
transaction. Rows carry `recorded_at`, so rows first written after a freeze are simply not shown by the snapshot."""

from operator import itemgetter

from django.db import connection, transaction
from django.utils import timezone

from .models import DnsResult, HttpResult, NetResult, RetentionPin

KINDS = {"net": NetResult, "http": HttpResult, "dns": DnsResult}
_CONVERTED = ("JSONField", "DateTimeField")


def _prep(field, value):
    return field.get_db_prep_save(value, connection) if field.get_internal_type() in _CONVERTED else value


_CONFLICT_KEYS = {
    "net": ("test_id", "round_id", "agent_id"),
    "http": ("test_id", "round_id", "agent_id"),
    "dns": ("test_id", "round_id", "agent_id", "server"),
}
# Namespace of the PostgreSQL advisory locks that order freezes against writes of the same test.
_LOCK_NAMESPACE = 0x53505947 << 24


def columns(kind: str) -> list[str]:
    """Database columns of a results table, without the primary key."""
    return [f.column for f in KINDS[kind]._meta.concrete_fields if not f.primary_key]


def _upsert_sql(kind: str, cols: list[str]) -> str:
    table = KINDS[kind]._meta.db_table
    keys = _CONFLICT_KEYS[kind]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    placeholders = ", ".join(["%s"] * len(cols))
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


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


def _freezing_pins(test_ids, rounds: list[int]) -> list[RetentionPin]:
    return list(
        RetentionPin.objects.filter(
            test_id__in=test_ids,
            frozen_at__isnull=False,
            copy_to__isnull=False,
            start_round__lte=max(rounds),
            end_round__gte=min(rounds),
        )
    )


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


def upsert(kind: str, rows: list[dict], batch_size: int = 2000) -> int:
    """Insert or replace rows given as {column: value} dicts (all rows with the same keys). Returns the count."""
    if not rows:
        return 0
    model = KINDS[kind]
    fields = {f.column: f for f in model._meta.concrete_fields}
    given = [c for c in rows[0] if c != "recorded_at"]
    # Columns a caller leaves out take the model's default, so every writer stores complete rows.
    missing = [c for c, f in fields.items() if c not in given and not f.primary_key and c != "recorded_at"]
    cols = given + missing
    sql = _upsert_sql(kind, cols + ["recorded_at"])
    # Only JSON and date columns need Django's conversion; plain numbers and strings go to the driver as they are.
    # Values are taken with one itemgetter per row and converted by position: this loop runs for every row an
    # agent sends, and per-column Python showed in the ingestion profile.
    take = itemgetter(*given)
    convert = [(i, fields[c]) for i, c in enumerate(given) if fields[c].get_internal_type() in _CONVERTED]
    tail = tuple(_prep(fields[c], fields[c].get_default()) for c in missing)
    key_cols = _CONFLICT_KEYS[kind]
    with transaction.atomic(), connection.cursor() as cur:
        test_ids = {row["test_id"] for row in rows}
        _lock_tests_for_write(test_ids)
        # Taken after the lock, so a snapshot frozen before this write sees none of it, and one after sees all.
        tail += (fields["recorded_at"].get_db_prep_save(timezone.now(), connection),)
        pins = _freezing_pins(test_ids, [row["round_id"] for row in rows])
        for i in range(0, len(rows), batch_size):
            chunk = rows[i : i + batch_size]
            if pins:
                keys = [tuple(row.get(k, fields[k].get_default()) for k in key_cols) for row in chunk]
                for pin in pins:
                    _copy_before_replace(kind, pin, keys, cur)
            batch = []
            for row in chunk:
                values = take(row)
                if len(given) == 1:
                    values = (values,)
                if convert:
                    values = list(values)
                    for index, field in convert:
                        values[index] = field.get_db_prep_save(values[index], connection)
                    values = tuple(values)
                batch.append(values + tail)
            cur.executemany(sql, batch)
    return len(rows)
