"""Window reads of results, one query per page, rows already in v6 shape."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import CharField, Func, Max

from spyglass.lib.timeranges import TimeRange

from . import catalogue
from .scope import ReadScope

# Whole-number fields are written whole below this (exact in a double and in any JSON reader); an absurd stored
# timing beyond it stays the float it is rather than a number no 64-bit reader could hold.
WHOLE_LIMIT = 2**53


@dataclass
class Page:
    rows: list[dict]
    next_last_round_id: int | None


def permalink(test_id: int, round_id: int, agent_id: int) -> str:
    return f"{settings.BASE_URL}/tests/{test_id}/?roundId={round_id}&agentId={agent_id}"


class V6Date(Func):
    """A datetime column written by the database as v6 writes dates ('YYYY-MM-DD HH:MM:SS', UTC): an export of
    144,000 rows otherwise parses every date into a Python datetime only to format it back (seen in its profile)."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        # The format is a parameter, not SQL text: a literal % in the SQL breaks Django's query logging (DEBUG,
        # assertNumQueries), which substitutes the parameters with Python's % operator.
        column, params = compiler.compile(self.source_expressions[0])
        return f"strftime(%s, {column})", ["%Y-%m-%d %H:%M:%S", *params]

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        )


def read_page(
    kind: str,
    test,
    time_range: TimeRange,
    last_round_id: int | None = None,
    extras: tuple[str, ...] = (),
    limit: int | None = None,
    scope: ReadScope | None = None,
) -> Page:
    """Rows of one kind for a test within the range (or only its latest round), ordered by round then agent,
    limited to what the reader's scope allows (see scope.py).

    A page never splits a round: when the row limit falls inside a round, the page ends before it."""
    model, fields = catalogue.kind(kind).model, catalogue.shown(kind, tuple(sorted(extras)))
    limit = limit or settings.DATA_PAGE_ROWS
    scope = scope or ReadScope(source_test_id=test.id)
    qs = latest_or_range(model, time_range, last_round_id, scope)
    if qs is None:
        return Page([], None)
    raw, next_round = cut_page(
        list(ordered_rows(kind, fields, qs)[: limit + 1]),
        limit,
        lambda round_id: list(ordered_rows(kind, fields, qs.filter(round_id=round_id))),
    )
    rows = as_dicts(test, fields, raw, catalogue.whole_names(kind))
    if scope.anonymized:
        for row in rows:
            row["agentName"] = scope.agent_name(row["agentId"], row["agentName"])
    return Page(rows, next_round)


def latest_or_range(model, time_range: TimeRange, last_round_id: int | None, scope: ReadScope):
    """The rows of `model` a page reads: the scope's latest round (no range given), or the range from after
    `last_round_id` on."""
    if time_range.latest_only:
        qs = scope.results(model)
        latest = qs.aggregate(m=Max("round_id"))["m"]
        if latest is None:
            return None
        qs = qs.filter(round_id=latest)
        return qs.filter(round_id__gt=last_round_id) if last_round_id is not None else qs
    # The range, the page's start and the scope's own bounds folded into one lower and one upper bound: given
    # `round_id >= a AND round_id > b`, SQLite ranges its index on one and filters the other, so page N of an
    # export stepped over every row of the pages before it.
    start = time_range.start if last_round_id is None else max(time_range.start or 0, last_round_id + 1)
    return scope.within(start, time_range.end).results(model)


def cut_page(raw: list[tuple], limit: int, whole_round) -> tuple[list[tuple], int | None]:
    """A page of at most `limit` rows (tuples led by their roundId; `limit + 1` were read) that never splits a
    round, and the roundId the next page starts after (None: the last page). `whole_round(round_id)` reads one
    round's rows, for a round larger than a page, which is returned whole rather than split."""
    if len(raw) <= limit:
        return raw, None
    cut_round = raw[limit][0]
    kept = [r for r in raw[:limit] if r[0] < cut_round] or whole_round(cut_round)
    return kept, kept[-1][0]


def ordered_rows(kind: str, fields: dict, qs):
    """The rows of `qs` in export order as tuples: round, agent, agent name, country, date, then `fields`."""
    order = ["round_id", "agent_id"] + (["server"] if kind == "dns" else [])
    qs = qs.annotate(v6_date=V6Date("date"))
    columns = ["round_id", "agent_id", "agent__name", "agent__country_id", "v6_date", *fields.values()]
    return qs.order_by(*order).values_list(*columns)


def whole_number(value):
    """A value of a field both APIs write as a whole number (catalogue.whole_names), as they write it."""
    if value is not None and value < WHOLE_LIMIT:
        return int(value + 0.5)  # timings are never negative: half up, as people round
    return value


def as_dicts(test, fields: dict, raw: list[tuple], whole: frozenset[str] = frozenset()) -> list[dict]:
    """ordered_rows' tuples as v6 rows; the fields named in `whole` as whole numbers (catalogue.whole_names)."""
    names = list(fields.keys())
    rounded = [name for name in names if name in whole]
    link = permalink(test.id, 0, 0).partition("?")[0]  # formatted once: this loop runs for every exported row
    rows = []
    for r in raw:
        row = {
            "agentId": r[1],
            "agentName": r[2],
            "countryId": r[3],
            "date": r[4],
            "roundId": r[0],
            "permalink": f"{link}?roundId={r[0]}&agentId={r[1]}",
        }
        row.update(zip(names, r[5:], strict=True))
        for name in rounded:
            row[name] = whole_number(row[name])
        rows.append(row)
    return rows
