"""Querysets compiled to SQL once per process and run many times with other values.

Django compiles a queryset on every run: 0.2–0.6 ms for a lookup with a few joins, more than the database takes to
answer it. The hot per-request reads (the API's access check and test lookup, the share page) are built with the ORM
as usual, compiled once with placeholder values, and replayed with each request's values (docs/benchmarks.md)."""

import contextlib
import time

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators


class Compiled:
    """A queryset's SQL and its parameters: the placeholders' (distinct values, named) and the constants the ORM
    put there itself (a COALESCE default, say), kept as they are."""

    def __init__(self, queryset, **placeholders):
        self.sql, params = queryset.query.sql_with_params()
        self.slots = _slots(params, placeholders)

    def params(self, **values) -> list:
        return _params(self.slots, values)


def _params(slots: list, values: dict) -> list:
    return [constant if name is None else values[name] for name, constant in slots]


def _slots(params, placeholders: dict) -> list:
    by_value = {value: name for name, value in placeholders.items()}
    if len(by_value) != len(placeholders) or not set(by_value) <= set(params):
        raise ValueError("every placeholder must be a distinct value that the query uses")
    return [(by_value.get(p), p) for p in params]


class CompiledQuery:
    """A model queryset (select_related and annotations included) whose rows become instances exactly as Django's
    ModelIterable makes them, from SQL compiled once. The values must not change the query's shape (an `IN` list
    would): only what is a single parameter in the SQL can be a placeholder."""

    def __init__(self, queryset, **placeholders):
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = compiler.as_sql()
        self.slots = _slots(params, placeholders)
        self.compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, self.db)
        self.annotations = dict(compiler.annotation_col_map or {})
        self.converters = compiler.get_converters([s[0] for s in select[0 : compiler.col_count]])

    def params(self, **values) -> list:
        return _params(self.slots, values)

    def rows(self, **values) -> list:
        """The query's rows as the ORM would see them (converters applied), not yet instances."""
        with prepared_cursor() as cursor:
            cursor.execute(self.sql, self.params(**values))
            rows = cursor.fetchall()
        return self.converted(rows)

    def converted(self, rows) -> list:
        """Rows of this query's columns (run here or inside a larger statement; later columns are left as they are)
        with the fields' converters applied."""
        return list(self.compiler.apply_converters(rows, self.converters)) if self.converters else list(rows)

    def instance(self, row):
        obj = self.model.from_db(self.db, self.init_list, row[self.start : self.end])
        for populator in self.populators:
            populator.populate(row, obj)
        for name, position in self.annotations.items():
            setattr(obj, name, row[position])
        return obj

    def fetch(self, **values) -> list:
        return [self.instance(row) for row in self.rows(**values)]


@contextlib.contextmanager
def prepared_cursor(binary: bool = False):
    """A cursor whose statements PostgreSQL prepares once per connection (elsewhere Django's own cursor), for the
    lookups every request makes (the share page's, the API's token, access and test): planning them took longer
    than running them. `binary`: results in PostgreSQL's binary format (a bytea as is, not written in hex)."""
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
    yield _PreparedCursor(db, binary)


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

    def __init__(self, db, binary: bool = False):
        import psycopg

        self.db, self.binary = db, binary
        raw = db.connection
        if raw.prepare_threshold is None:  # Django's setting: never prepare unless asked, as this cursor does
            raw.prepare_threshold = 2**31 - 1
        self.cursor = psycopg.Cursor(raw)

    def execute(self, sql, params):
        db = self.db
        start = time.monotonic()
        with db.wrap_database_errors:
            self.cursor.execute(sql, params, prepare=True, binary=self.binary)
        if db.queries_logged:
            elapsed = time.monotonic() - start
            db.queries_log.append({"sql": db.ops.compose_sql(sql, params), "time": f"{elapsed:.3f}"})

    def fetchone(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()

    def fetchall(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchall()
