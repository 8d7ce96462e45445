"""A share page view on PostgreSQL in one statement: the link lookup (page_reads), whether this visitor may see a
saved event (audience.may_open, read with the link), and the visit's INSERT, as one data-modifying CTE — one round trip instead of two.

Each round trip woke the app and a PostgreSQL backend on the same two cores; after the stored renders and the SQL built once,
those wake-ups were most of what a repeat view cost (docs/benchmarks.md, row 4). SQLite has no
data-modifying CTE and no round trip to save: it keeps the lookup then record_visit (views.load_shared_snapshot)."""

import functools

from django.db import connection

from . import page_reads
from .models import SnapshotVisit


def supported() -> bool:
    return connection.vendor == "postgresql"


@functools.cache
def _sql() -> str:
    quote = connection.ops.quote_name
    visit = SnapshotVisit._meta
    columns = ", ".join(quote(visit.get_field(name).column) for name in ("snapshot", "date", "ip", "user"))  # type: ignore[union-attr, arg-type]
    # The visit is inserted only when the view will be served (`page_allowed`, the lookup's own audience.may_open,
    # and not expired at the request's `now`), which the caller checks again with the same `now` from the row. A
    # CTE's SELECT sees the database as before the INSERT, so the visit count read with the link excludes this
    # visit, as it did when the INSERT came second.
    return f"""WITH page AS (
        SELECT found.* FROM ({page_reads.snapshot_by_link_sql()}) AS found
    ), visit AS (
        INSERT INTO {quote(visit.db_table)} ({columns})
        SELECT page.id, %s::timestamptz, %s::varchar, %s::bigint FROM page
        WHERE page.page_allowed AND (page.expires_date IS NULL OR page.expires_date > %s::timestamptz)
        RETURNING 1
    )
    SELECT page.*, EXISTS (SELECT 1 FROM visit) FROM page"""


def visit_by_link(link_id: str, render_key: str, user_id, ip: str, now):
    """page_reads.snapshot_by_link's snapshot (page_allowed included) with one more attribute, page_visited (this
    visit was recorded: allowed and not expired at `now`), or None. Callers check the id's form first
    (links.visit_shared)."""
    lookup = page_reads.snapshot_by_link_params(link_id, render_key, user_id)
    params = [*lookup, now, ip[:64], user_id, now]
    with connection.cursor() as cursor:
        cursor.execute(_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    snapshot = page_reads.snapshot_from_row(row)
    snapshot.page_visited = row[-1]  # type: ignore[attr-defined]  # for the view
    return snapshot
