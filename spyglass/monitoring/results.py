"""Writing results set-based: one INSERT … ON CONFLICT DO UPDATE per batch, on SQLite and PostgreSQL alike."""

from django.db import connection

from .models import DnsResult, HttpResult, NetResult

KINDS = {"net": NetResult, "http": HttpResult, "dns": DnsResult}
_CONFLICT_KEYS = {
    "net": ("test_id", "round_id", "agent_id"),
    "http": ("test_id", "round_id", "agent_id"),
    "dns": ("test_id", "round_id", "agent_id", "server"),
}


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


def upsert(kind: str, rows: list[dict], batch_size: int = 2000) -> int:
    """Insert or replace rows given as {column: value} dicts (all rows with the same keys). Returns the count."""
    if not rows:
        return 0
    model = KINDS[kind]
    fields = {f.column: f for f in model._meta.concrete_fields}
    given = list(rows[0].keys())
    # Columns a caller leaves out take the model's default, so every writer stores complete rows.
    defaults = {c: f.get_default() for c, f in fields.items() if c not in given and not f.primary_key}
    if defaults:
        rows = [{**defaults, **row} for row in rows]
    cols = given + list(defaults)
    sql = _upsert_sql(kind, cols)
    # Only JSON and date columns need Django's conversion; plain numbers and strings go to the driver as they are.
    convert = {c: fields[c] for c in cols if fields[c].get_internal_type() in ("JSONField", "DateTimeField")}
    with connection.cursor() as cur:
        for i in range(0, len(rows), batch_size):
            batch = [
                tuple(convert[c].get_db_prep_save(row[c], connection) if c in convert else row[c] for c in cols)
                for row in rows[i : i + batch_size]
            ]
            cur.executemany(sql, batch)
    return len(rows)
