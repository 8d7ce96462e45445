"""The share page's per-request reads, with their SQL compiled by the ORM once per process.

A repeat view of a share page reads a stored render (stored.py), so what is left per request is small indexed reads,
and the ORM spent about 0.2–0.6 ms compiling each of them, more than the database took to answer (docs/benchmarks.md,
row 4). Each query here is built with the ORM as usual, compiled once with placeholder values, and run with the
request's values through a cursor (the fields' converters applied as the ORM would) or `raw()`; on PostgreSQL the
lookup and the visit INSERT are also prepared once per connection (`prepared_cursor`)."""

import contextlib
import functools
import time

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from spyglass.lib.compiled import Compiled

from .models import Snapshot, SnapshotComment, SnapshotRender, SnapshotVisitTally


def _count(model):
    rows = model.objects.filter(snapshot_id=OuterRef("id")).order_by().values("snapshot_id")
    return Coalesce(Subquery(rows.annotate(n=Count("id")).values("n")), 0)


def _tally():
    """The snapshot's visits: the sum of its tally rows (SnapshotVisitTally, kept by triggers), not a count."""
    rows = SnapshotVisitTally.objects.filter(snapshot_id=OuterRef("id")).order_by().values("snapshot_id")
    return Coalesce(Subquery(rows.annotate(n=Sum("visits")).values("n")), 0)


def _annotations() -> dict:
    render = SnapshotRender.objects.filter(snapshot_id=OuterRef("id"), key="key-placeholder").values("html")[:1]
    return {
        "page_test_name": F("test__name"),
        "page_test_type": F("test__type"),
        "page_creator_name": F("created_by__name"),
        "page_creator_email": F("created_by__email"),
        "page_visits": _tally(),
        "page_comments": _count(SnapshotComment),
        "page_render": Subquery(render),
    }


@functools.cache
def _snapshot_by_link() -> Compiled:
    # One statement for what every view of the page needs: the snapshot, the header's facts about its test and
    # creator (the full Test row, 40 columns, is read lazily when a component has to be rendered), the visit and
    # comment counts, and the stored render the request asks for.
    qs = Snapshot.objects.filter(link_id="link-placeholder").annotate(**_annotations()).order_by()
    return Compiled(qs, link_id="link-placeholder", key="key-placeholder")


@contextlib.contextmanager
def prepared_cursor():
    """A cursor whose statements PostgreSQL prepares once per connection (elsewhere Django's own cursor), for the
    statements every share page view runs: planning the lookup (three joins, three subqueries) took longer than
    running it."""
    db = connections[DEFAULT_DB_ALIAS]  # once: every `connection.…` is a thread-local lookup (1.5 µs each)
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    # What Django's cursor() does first (opening the connection, health-checking it unless done locally); its own
    # cursor, which this one replaces, is not made.
    _check_health_locally(db)
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    yield _PreparedCursor(db)


def _check_health_locally(db) -> None:
    """CONN_HEALTH_CHECKS without its round trip, when the kept connection shows no sign of trouble.

    Django's check sends `SELECT 1` before a request's first query so that a connection the server has closed
    (a restart, an idle timeout, a terminated backend) is replaced instead of failing the request; for the share
    page that was one round trip in two. A server closing a connection sends a message or an end of file first,
    which makes the idle socket readable: only then is Django's check run as usual (a notice or a NOTIFY also makes
    it readable, which just costs that `SELECT 1`). What this cannot see is a peer that vanished without a word
    (a host powered off): the request then fails as any query losing its connection does, and the broken
    connection is dropped at the request's end (Django's close_if_unusable_or_obsolete)."""
    import select

    raw = db.connection
    if raw is None or not db.health_check_enabled or db.health_check_done:
        return
    if raw.closed or raw.info.transaction_status != raw.info.transaction_status.IDLE or not hasattr(select, "poll"):
        return
    poll = select.poll()
    poll.register(raw.fileno(), select.POLLIN | select.POLLPRI)
    if not poll.poll(0):
        db.health_check_done = True


class _PreparedCursor:
    """A psycopg cursor with server-side binding on Django's connection, preparing what it runs. Django binds
    parameters client-side and never prepares; its own cursors stay as they are (psycopg prepares only
    server-side-binding cursors such as this one). Errors are Django's, and statements are logged as Django's
    debug cursor does (connection.queries, CaptureQueriesContext)."""

    def __init__(self, db):
        import psycopg

        self.db = db
        raw = db.connection
        if raw.prepare_threshold is None:  # Django's setting: never prepare unless asked, as this cursor does
            raw.prepare_threshold = 2**31 - 1
        self.cursor = psycopg.Cursor(raw)

    def execute(self, sql, params):
        db = self.db
        start = time.monotonic()
        with db.wrap_database_errors:
            self.cursor.execute(sql, params, prepare=True)
        if db.queries_logged:
            elapsed = time.monotonic() - start
            db.queries_log.append({"sql": db.ops.compose_sql(sql, params), "time": f"{elapsed:.3f}"})

    def fetchone(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()


@functools.cache
def _snapshot_layout():
    """Where the model's fields and the annotations sit in a row of _snapshot_by_link, and each column's converters
    (SQLite hands dates back as text, JSON comes as text): what RawQuerySet works out again on every call."""
    qs = Snapshot.objects.filter(link_id="link-placeholder").annotate(**_annotations()).order_by()
    compiler = qs.query.get_compiler(using=qs.db)
    compiler.as_sql()
    names = [compiler.select[i][0].target.attname for i in compiler.klass_info["select_fields"]]
    positions = list(compiler.klass_info["select_fields"])
    annotations = list(compiler.annotation_col_map.items())
    converters = [
        (i, expr, convs)
        for i, (expr, _, _) in enumerate(compiler.select)
        if (convs := compiler.connection.ops.get_db_converters(expr) + expr.get_db_converters(compiler.connection))
    ]
    return names, positions, annotations, converters


def snapshot_by_link_sql() -> str:
    return _snapshot_by_link().sql


def snapshot_by_link_params(link_id: str, render_key: str) -> list:
    return _snapshot_by_link().params(link_id=link_id, key=render_key)


def snapshot_by_link(link_id: str, render_key: str = "") -> Snapshot | None:
    """The snapshot with this (well-formed) link id, or None. Annotated: page_test_name, page_test_type,
    page_creator_name, page_creator_email, page_visits, page_comments, and page_render (the stored render under
    `render_key`, or None). Callers check the id's form first (links.find_shared)."""
    with prepared_cursor() as cursor:
        cursor.execute(snapshot_by_link_sql(), snapshot_by_link_params(link_id, render_key))
        row = cursor.fetchone()
    return None if row is None else snapshot_from_row(row)


def snapshot_from_row(row) -> Snapshot:
    """A Snapshot with its annotations from a row laid out as _snapshot_by_link's (extra trailing columns ignored)."""
    names, positions, annotations, converters = _snapshot_layout()
    db = connections[DEFAULT_DB_ALIAS]
    row = list(row)
    for i, expr, convs in converters:
        for convert in convs:
            row[i] = convert(row[i], expr, db)
    snapshot = Snapshot.from_db(DEFAULT_DB_ALIAS, names, [row[i] for i in positions])
    for name, i in annotations:
        setattr(snapshot, name, row[i])
    return snapshot


@functools.cache
def _comments() -> Compiled:
    qs = SnapshotComment.objects.filter(snapshot_id=-1).order_by("date", "id").only("author_name", "date", "body")
    return Compiled(qs, snapshot_id=-1)


def comments(snapshot_id: int) -> list[SnapshotComment]:
    """The snapshot's comments, oldest first (author, date and body loaded)."""
    compiled = _comments()
    return list(SnapshotComment.objects.raw(compiled.sql, compiled.params(snapshot_id=snapshot_id)))
