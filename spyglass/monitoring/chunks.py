"""Data export pages spliced from stored JSON: a test's rows of one kind are written as the data API writes them once
per hour of roundIds (ExportChunk), and a page is slices of those bytes — no row is read, built or serialized again.

Why: an export of 48 h is 144,000 rows at 50 agents, and reading them from the database alone costs several times
serializing them (docs/benchmarks.md, row 6). Results change rarely once written, so most hours are written once.

When a chunk is used: only for a test's own rows as they are now (a plain read or a live share, never a snapshot's
frozen or agent-limited scope) and only for the default row layout (not headers=1 / certificates=1) in JSON. It is
valid while (1) its `version` equals the hour's ResultHour version, which every write of results bumps in the writing
transaction (results.bump_hours, retention); the version is read before the rows a chunk is built from, so a build
racing a write is stored with the older version and rebuilt on the next read; (2) its `layout` matches the current
fields and permalink base; (3) the agents' names and countries in it are still theirs. Anything else rebuilds it.
A page is exactly what queries.read_page would return (tests/test_export_chunks.py compares both)."""

import hashlib
import secrets
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

import orjson
from django.conf import settings
from django.db import connection
from django.utils import timezone

from spyglass.lib import replicas
from spyglass.lib.jsonsplice import Spliced

from . import catalogue, chunk_format
from .models import Agent, ExportChunk, ResultHour
from .queries import as_dicts, ordered_rows, permalink
from .results import HOUR
from .scope import ReadScope

# Bump when the rows' JSON changes in a way `layout` does not capture: every stored chunk is then rebuilt.
FORMAT = 1
_RETRIES = 3


@dataclass
class JsonPage:
    rows: Spliced  # a JSON array's pieces, spliced as they are into the response (lib/jsonsplice.py)
    next_last_round_id: int | None


@dataclass
class _Chunk:
    hour: int
    version: int  # the hour's current version (ResultHour)
    stored_version: int | None
    layout: str | None
    agents: str | None
    contents_json: str | None  # chunk_format's rounds and segments, parsed only for the hours a page reads
    build: int | None
    raw: bytes | None = None  # the rows' JSON, once built in this request
    checked: bool = False  # agents verified, or built in this request
    _contents: dict | None = None

    @property
    def contents(self) -> dict:
        if self._contents is None:
            assert self.contents_json is not None  # read only for chunks loaded with their contents
            self._contents = orjson.loads(self.contents_json)
        return self._contents


def usable(test, scope: ReadScope) -> bool:
    return (
        not test.saved_event
        and scope.source_test_id == test.id
        and scope.agent_ids is None
        and scope.frozen_at is None
        and scope.copies_test_id is None
        and not scope.anonymized
    )


def read_page_json(kind, test, time_range, last_round_id=None, limit=None, scope=None) -> JsonPage | None:
    """queries.read_page's page as JSON, from the hours' chunks; None when this read cannot use them."""
    scope = scope or ReadScope(source_test_id=test.id)
    if time_range.latest_only or not usable(test, scope):
        return None
    start = time_range.start if last_round_id is None else max(time_range.start or 0, last_round_id + 1)
    lo, hi = scope.clamp(start, time_range.end)
    lo = 0 if lo is None else lo
    if lo > hi:
        return JsonPage(Spliced([b"[]"]), None)
    limit = limit or settings.DATA_PAGE_ROWS
    for _ in range(_RETRIES):
        page = _assemble(kind, test, lo, hi, limit)
        if page is not None:
            return page
    return None  # chunks kept being rebuilt under this read: the row path answers instead


def _layout(kind: str, test) -> str:
    fields = catalogue.shown(kind)
    whole = ",".join(sorted(catalogue.whole_names(kind)))
    text = f"{FORMAT}|{kind}|{','.join(fields)}|{whole}|{permalink(test.id, 0, 0)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _assemble(kind, test, lo: int, hi: int, limit: int) -> JsonPage | None:
    """One page, or None when it must be read again: a stored chunk was rebuilt by another request after this one
    read its index, or one of its agents was renamed (the chunk is rebuilt here first)."""
    layout = _layout(kind, test)
    taken, next_round = _walk(kind, test, _chunks(kind, test, lo, hi, limit), lo, hi, limit, layout)
    stored = {c.hour: (c, first, end) for c, first, end in taken if c.raw is None}
    unchecked = {c.hour: orjson.loads(c.agents) for c, _, _ in taken if not c.checked}
    bodies, agents = _read(kind, test, stored, {agent[0] for written in unchecked.values() for agent in written})
    renamed = [c for c, _, _ in taken if c.hour in unchecked and any(agents.get(a[0]) != a for a in unchecked[c.hour])]
    for chunk in renamed:  # or gone: their rows would show an agent as it no longer is
        _build(kind, test, chunk, layout)
    if renamed:
        return None
    parts: list[bytes | memoryview] = [b"["]
    for number, (chunk, first, end) in enumerate(taken):
        if number:
            parts.append(b",")
        if chunk.raw is not None:
            parts.append(memoryview(chunk.raw)[first:end])
            continue
        build, segments, data = bodies.get(chunk.hour, (None, None, None))
        if build != chunk.build:
            return None  # rebuilt by another request since this one read its index: start again
        parts += chunk_format.decode(segments, first, end, data)
    parts.append(b"]")
    return JsonPage(Spliced(parts), next_round)


def _walk(kind, test, chunks, lo, hi, limit, layout):
    """Whole rounds in order until the next one would pass the row limit, as read_page pages them.

    Returns [(chunk, first byte, end byte)] and the page's last roundId when another page follows."""
    taken, total, last_included = [], 0, None
    for chunk in chunks:
        if chunk.stored_version == chunk.version and chunk.layout == layout and chunk.contents_json is None:
            if chunk._contents is None:
                _details(kind, test, chunk)
        if chunk.stored_version != chunk.version or chunk.layout != layout:
            _build(kind, test, chunk, layout)
        first = end = None
        for round_id, rows, begin, finish in chunk.contents["rounds"]:
            if round_id < lo:
                continue
            if round_id > hi:
                break
            if total + rows > limit:
                if total == 0:  # one round larger than a page: the whole round rather than split it
                    taken.append((chunk, begin, finish))
                    return taken, round_id
                if first is not None:
                    taken.append((chunk, first, end))
                return taken, last_included
            first = begin if first is None else first
            end, total, last_included = finish, total + rows, round_id
        if first is not None:
            taken.append((chunk, first, end))
    return taken, None


def _chunks(kind, test, lo: int, hi: int, limit: int) -> list[_Chunk]:
    """Every written hour in [lo, hi] with its stored chunk's version, in one query; the index and agents only of the
    hours a page of `limit` rows can reach (the rows of the hours after the first are counted), which is most of
    what this query would otherwise carry on every page of an export."""
    rows_before = "COALESCE(SUM(c.rows) OVER (ORDER BY h.hour ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
    first_rows = "COALESCE(FIRST_VALUE(c.rows) OVER (ORDER BY h.hour), 0)"
    sql = (
        "SELECT hour, version, stored, layout, CASE WHEN reach THEN agents END, CASE WHEN reach THEN contents END, "
        "build FROM (SELECT h.hour, h.version, c.version AS stored, c.layout, c.agents, c.contents, c.build, "
        f"{rows_before} - {first_rows} < %s AS reach "
        f"FROM {ResultHour._meta.db_table} h LEFT JOIN {ExportChunk._meta.db_table} c "
        "ON c.test_id = h.test_id AND c.hour = h.hour AND c.kind = %s AND c.hour >= %s AND c.hour <= %s "
        "WHERE h.test_id = %s AND h.hour >= %s AND h.hour <= %s) x ORDER BY hour"
    )
    first_hour = lo - lo % HOUR
    with replicas.read_connection().cursor() as cursor:
        cursor.execute(sql, [limit, kind, first_hour, hi, test.id, first_hour, hi])
        rows = cursor.fetchall()
    return [_Chunk(*row) for row in rows]


def _details(kind, test, chunk: _Chunk) -> None:
    """The index and agents of a stored chunk _chunks did not expect a page to reach (its estimate is a guess when
    an earlier hour had no valid chunk yet)."""
    with replicas.read_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT agents, contents, build FROM {ExportChunk._meta.db_table} "
            "WHERE test_id = %s AND kind = %s AND hour = %s",
            [test.id, kind, chunk.hour],
        )
        found = cursor.fetchone()
    if found is None or found[2] != chunk.build:
        chunk.stored_version = None  # gone or rebuilt meanwhile: build it again
    else:
        chunk.agents, chunk.contents_json = found[0], found[1]


def _build(kind, test, chunk: _Chunk, layout: str) -> None:
    """Write one hour's rows as JSON, store them and point `chunk` at the new build."""
    model, fields = catalogue.kind(kind).model, catalogue.shown(kind)
    qs = ReadScope(source_test_id=test.id, start_round=chunk.hour, end_round=chunk.hour + HOUR - 1).results(model)
    rows = as_dicts(test, fields, list(ordered_rows(kind, fields, qs)), catalogue.whole_names(kind))
    rounds = []
    for round_id, round_rows in groupby(rows, key=itemgetter("roundId")):
        group = list(round_rows)
        rounds.append((round_id, len(group), orjson.dumps(group, default=str)[1:-1]))
    encoded = chunk_format.encode(rounds)
    agents = sorted({(r["agentId"], r["agentName"], r["countryId"]) for r in rows})
    chunk.stored_version, chunk.layout, chunk.raw, chunk.checked = chunk.version, layout, encoded.raw, True
    chunk._contents = {"rounds": encoded.rounds, "segments": encoded.segments}
    chunk.agents, chunk.build = orjson.dumps(agents).decode(), secrets.randbits(62)
    table = ExportChunk._meta.db_table
    columns = "test_id, kind, hour, version, layout, agents, contents, rows, build, built_at, body"
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns.split(", ")[3:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT (test_id, kind, hour) DO UPDATE SET {updates}",
            [
                test.id,
                kind,
                chunk.hour,
                chunk.version,
                layout,
                chunk.agents,
                orjson.dumps(chunk._contents).decode(),
                len(rows),
                chunk.build,
                ExportChunk._meta.get_field("built_at").get_db_prep_save(timezone.now(), connection),
                encoded.body,
            ],
        )


def _read(kind, test, wanted: dict, agent_ids: set) -> tuple[dict, dict]:
    """In one query: {hour: (build, segments, their stored bytes)} for {hour: (chunk, first, end)} — only the
    segments a page uses leave the database — and {agent id: [id, name, country]} of `agent_ids` as they are now."""
    branches, params, segments = [], [], {}
    postgresql = connection.vendor == "postgresql"
    if wanted:
        cut = "substring(body from %s for %s)" if postgresql else "substr(body, %s, %s)"
        cases = []
        for hour, (chunk, first, end) in wanted.items():
            segments[hour] = needed = chunk_format.segments_for(chunk.contents["segments"], first, end)
            cases.append(f"WHEN %s THEN {cut}")
            params += [hour, needed[0][2] + 1, needed[-1][3] - needed[0][2]]
        branches.append(
            f"SELECT 0, hour, build, CASE hour {' '.join(cases)} END, NULL, NULL FROM {ExportChunk._meta.db_table} "
            f"WHERE test_id = %s AND kind = %s AND hour {_among(len(wanted), postgresql)}"
        )
        params += [test.id, kind, *_values(wanted, postgresql)]
    if agent_ids:
        branches.append(
            f"SELECT 1, id, NULL, NULL, name, country_id FROM {Agent._meta.db_table} "
            f"WHERE id {_among(len(agent_ids), postgresql)}"
        )
        params += _values(sorted(agent_ids), postgresql)
    bodies: dict[int, tuple] = {}
    agents: dict[int, list] = {}
    if not branches:
        return bodies, agents
    with replicas.read_connection().cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        for branch, key, build, data, name, country in cursor.fetchall():
            if branch == 0:
                bodies[key] = (build, segments[key], data)
            else:
                agents[key] = [key, name, country]
    return bodies, agents


def _among(count: int, postgresql: bool) -> str:
    """`= ANY(array)` on PostgreSQL: one parameter, so the statement's text stays the same for any number of
    values (psycopg caches the conversion only of statements with at most 50 parameters); `IN (…)` on SQLite."""
    return "= ANY(%s::bigint[])" if postgresql else f"IN ({', '.join(['%s'] * count)})"


def _values(values, postgresql: bool) -> list:
    """The array as PostgreSQL's text literal, one string that psycopg sends as it is: a list is dumped element by
    element on every execute (30–50 µs a statement with 50 agent ids)."""
    return ["{" + ",".join(str(int(v)) for v in values) + "}"] if postgresql else list(values)
