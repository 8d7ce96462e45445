"""Querysets whose SQL the ORM builds once per process, run many times with other values.

Django compiles a queryset on every run: 0.2–0.6 ms for a lookup with a few joins, more than the database takes to
answer it. The hot per-request reads (the API's access check and test lookup, the share page) are built with the ORM
as usual, their SQL taken once and run with each request's values (docs/benchmarks.md).

Only documented Django is used, so that an upgrade within the LTS series cannot break it: the SQL is the statement
the ORM hands a connection (read through `connection.execute_wrapper`, and not run), its columns are the ones named
here (`values_list`), and rows become instances through `Model.from_db` with each field's own conversion
(`from_db_value`, `to_python`)."""

import datetime
import functools
import threading

import msgspec
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


class Compiled:
    """A queryset's SQL and its parameters: the placeholders' (distinct values, named) and the constants the ORM
    put there itself (a COALESCE default, say), kept as they are."""

    def __init__(self, queryset, **placeholders):
        self.sql, params = statement_of(queryset)
        self.slots = _slots(params, placeholders)

    def params(self, **values) -> list:
        return _params(self.slots, values)


class _Taken(Exception):
    """Raised in place of running the statement the ORM built."""


def statement_of(queryset) -> tuple[str, list]:
    """The SQL and parameters the ORM sends for this queryset, without running it.

    Taken on a thread of its own, whose connection is its own: the statement handed over there is not logged among
    the caller's queries (connection.queries, CaptureQueriesContext), which it never ran."""
    taken, failed = [], []

    def take(execute, sql, params, many, context):
        taken.append((sql, list(params or ())))
        raise _Taken

    def build():
        try:
            with connections[queryset.db].execute_wrapper(take):
                list(queryset)
        except _Taken:
            pass
        except Exception as exc:  # raised again on the caller's thread
            failed.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=build, name="compiled-sql")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    if len(taken) != 1:
        raise ValueError("the queryset must run as exactly one statement")
    return taken[0]


def _params(slots: list, values: dict) -> list:
    return [constant if name is None else values[name] for name, constant in slots]


def _slots(params, placeholders: dict) -> list:
    by_value = {value: name for name, value in placeholders.items()}
    if len(by_value) != len(placeholders) or not set(by_value) <= set(params):
        raise ValueError("every placeholder must be a distinct value that the query uses")
    return [(by_value.get(p), p) for p in params]


class CompiledQuery:
    """Instances of a queryset's model, with the models of `related` (its foreign keys, one level) attached and the
    `annotations` set as attributes, from SQL built once. The values must not change the query's shape (an `IN` list
    would): only what is a single parameter in the SQL can be a placeholder. The queryset itself selects nothing
    related (no select_related): the columns are named here, in this order, so the layout is ours, not the ORM's.

    `annotations`: {name: a function converting the database's value (None to keep it)}; a boolean expression
    comes back from SQLite as 0 or 1."""

    def __init__(self, queryset, related: tuple[str, ...] = (), annotations: dict | None = None, **placeholders):
        # Built once per process and kept: always the primary's, even when first built where reads may go to a
        # replica (lib/replicas.py) — these are the per-request lookups that must be current.
        queryset = queryset.using(DEFAULT_DB_ALIAS)
        self.db = queryset.db
        self.model = queryset.model
        connection = connections[self.db]
        self.parts = []  # (relation path or None, model, attnames, start, end, converters)
        names: list[str] = []
        for path, model in [(None, self.model)] + [(p, self.model._meta.get_field(p).related_model) for p in related]:
            fields = _columns(model)
            start = len(names)
            names += [f.attname if path is None else f"{path}__{f.attname}" for f in fields]
            converters = [(i, c) for i, f in enumerate(fields) if (c := converter(f, connection)) is not None]
            self.parts.append((path, model, [f.attname for f in fields], start, len(names), converters))
        self.annotations = {}
        for name, convert in (annotations or {}).items():
            self.annotations[name] = (len(names), convert)
            names.append(name)
        self.sql, params = statement_of(queryset.values_list(*names))
        self.slots = _slots(params, placeholders)

    def params(self, **values) -> list:
        return _params(self.slots, values)

    def rows(self, **values) -> list:
        """The query's rows as the database sends them; instance() and annotation() read them."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self.params(**values))
            return cursor.fetchall()

    def annotation(self, row, name: str):
        position, convert = self.annotations[name]
        value = row[position]
        return value if convert is None or value is None else convert(value)

    def instance(self, row):
        """The instance of a row laid out as this query's (later columns, from a larger statement, are ignored)."""
        obj = None
        for path, model, attnames, start, end, converters in self.parts:
            values = list(row[start:end])
            for i, convert in converters:
                if values[i] is not None:
                    values[i] = convert(values[i])
            if path is None:
                obj = model.from_db(self.db, attnames, values)
            else:  # a missing row of a nullable key (LEFT JOIN) comes back as NULLs
                setattr(obj, path, None if values[0] is None else model.from_db(self.db, attnames, values))
        for name in self.annotations:
            setattr(obj, name, self.annotation(row, name))
        return obj

    def fetch(self, **values) -> list:
        return [self.instance(row) for row in self.rows(**values)]


def _columns(model) -> list:
    """The model's own columns in its fields' order (Model.from_db takes a full row in that order)."""
    return [f for f in model._meta.get_fields() if f.concrete and not f.many_to_many]


def converter(field, connection):
    """What turns the database's value of this field into the model's, or None when it already is."""
    if hasattr(field, "from_db_value"):  # JSONField: text on both databases
        if getattr(field, "decoder", True) is None:
            return functools.partial(_json_value, field, connection)
        return lambda value: field.from_db_value(value, None, connection)
    if connection.vendor != "sqlite":
        return None  # psycopg returns Python's types, datetimes aware in UTC (Django's connection time zone)
    kind = field.get_internal_type()
    if kind == "BooleanField":
        return bool
    if kind == "DateTimeField":
        return _sqlite_datetime
    if kind in ("DateField", "TimeField", "DecimalField", "UUIDField"):
        return field.to_python
    return None


_JSON = msgspec.json.Decoder()


def _json_value(field, connection, value):
    # msgspec reads JSON as the standard library's json does (integers of any size included), several times faster:
    # a list of 50 tests reads 50 JSON columns. What it refuses (NaN, Infinity, lone surrogates, which json.dumps
    # writes) goes to the field's own reading.
    try:
        return _JSON.decode(value)
    except (msgspec.DecodeError, TypeError):  # TypeError: not text
        return field.from_db_value(value, None, connection)


def _sqlite_datetime(value):
    # SQLite keeps UTC datetimes as naive text; Django's own converter makes them aware the same way.
    value = value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)
    if settings.USE_TZ and value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value
