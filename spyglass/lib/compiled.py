"""Querysets compiled to SQL once per process and run many times with other values.

Django compiles a queryset on every run: 0.2–0.6 ms for a lookup with a few joins, more than the database takes to
answer it. The hot per-request reads (the API's access check and test lookup, the share page) are built with the ORM
as usual, compiled once with placeholder values, and replayed with each request's values (docs/benchmarks.md)."""

import contextlib
import time

from django.db import connections
from django.db.models.query import get_related_populators


class Compiled:
    """A queryset's SQL and its parameters: the placeholders' (distinct values, named) and the constants the ORM
    put there itself (a COALESCE default, say), kept as they are."""

    def __init__(self, queryset, **placeholders):
        self.sql, params = queryset.query.sql_with_params()
        self.slots = _slots(params, placeholders)

    def params(self, **values) -> list:
        return [constant if name is None else values[name] for name, constant in self.slots]


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

    def rows(self, **values) -> list:
        """The query's rows as the ORM would see them (converters applied), not yet instances."""
        params = [constant if name is None else values[name] for name, constant in self.slots]
        with prepared_cursor(self.db) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        return rows

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
def prepared_cursor(alias: str = "default", binary: bool = False):
    """A cursor whose statements PostgreSQL prepares once per connection (elsewhere Django's own cursor). Django binds
    parameters client-side and never prepares, so PostgreSQL plans every statement again: for the small lookups
    every request makes, planning took longer than running them. `binary`: results in PostgreSQL's binary format
    (a bytea as is, rather than written in hex and decoded)."""
    connection = connections[alias]
    with connection.cursor() as cursor:  # opens (and health-checks) the connection as Django does
        yield _PreparedCursor(connection, binary) if connection.vendor == "postgresql" else cursor


class _PreparedCursor:
    """A psycopg cursor with server-side binding on Django's connection, preparing what it runs. Errors are Django's,
    and statements are logged as Django's debug cursor logs them (connection.queries, CaptureQueriesContext)."""

    def __init__(self, connection, binary: bool = False):
        import psycopg

        raw = connection.connection
        if raw.prepare_threshold is None:  # Django's setting: never prepare unless asked, as this cursor does
            raw.prepare_threshold = 2**31 - 1
        self.connection, self.binary, self.cursor = connection, binary, psycopg.Cursor(raw)

    def execute(self, sql, params):
        start = time.monotonic()
        with self.connection.wrap_database_errors:
            self.cursor.execute(sql, params, prepare=True, binary=self.binary)
        if self.connection.queries_logged:
            elapsed = time.monotonic() - start
            sql = self.connection.ops.compose_sql(sql, params)
            self.connection.queries_log.append({"sql": sql, "time": f"{elapsed:.3f}"})

    def fetchone(self):
        with self.connection.wrap_database_errors:
            return self.cursor.fetchone()

    def fetchall(self):
        with self.connection.wrap_database_errors:
            return self.cursor.fetchall()
