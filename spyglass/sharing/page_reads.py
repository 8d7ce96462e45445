"""The share page's per-request reads, with their SQL compiled by the ORM once per process.

A repeat view of a share page reads a stored render (stored.py), so what is left per request is small indexed reads,
and the ORM spent about 0.2–0.6 ms compiling each of them, more than the database took to answer (docs/benchmarks.md,
row 4). Each query here is built with the ORM as usual, compiled once with placeholder values, and run with the
request's values through a cursor (the fields' conversions applied as the ORM would) or `raw()`."""

import functools

from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from spyglass.lib.compiled import Compiled, CompiledQuery

from .audience import may_open
from .models import Snapshot, SnapshotComment, SnapshotRender, SnapshotVisitTally


def _count(model):
    rows = model.objects.filter(snapshot_id=OuterRef("id")).order_by().values("snapshot_id")
    return Coalesce(Subquery(rows.annotate(n=Count("id")).values("n")), 0)


def _tally():
    """The snapshot's visits: the sum of its tally rows (SnapshotVisitTally, kept by triggers), not a count."""
    rows = SnapshotVisitTally.objects.filter(snapshot_id=OuterRef("id")).order_by().values("snapshot_id")
    return Coalesce(Subquery(rows.annotate(n=Sum("visits")).values("n")), 0)


USER_PLACEHOLDER = -7_392_015_448  # a value no constant of the query has (a placeholder is matched by its value)


def _annotations() -> dict:
    # A stored render is current only at the snapshot's content version (stored.py; bumped by database triggers).
    render = SnapshotRender.objects.filter(
        snapshot_id=OuterRef("id"), key="key-placeholder", version=OuterRef("content_version")
    ).values("html")[:1]
    return {
        "page_test_name": F("test__name"),
        "page_test_type": F("test__type"),
        "page_creator_name": F("created_by__name"),
        "page_creator_email": F("created_by__email"),
        "page_visits": _tally(),
        "page_comments": _count(SnapshotComment),
        "page_render": Subquery(render),
        "page_allowed": may_open(USER_PLACEHOLDER),
    }


@functools.cache
def _snapshot_by_link() -> CompiledQuery:
    # One statement for what every view of the page needs: the snapshot, the header's facts about its test and
    # creator (the full Test row, 40 columns, is read lazily when a component has to be rendered), the visit and
    # comment counts, the stored render the request asks for, and whether the visitor may open it at all.
    annotations = _annotations()
    qs = Snapshot.objects.filter(link_id="link-placeholder").annotate(**annotations).order_by()
    return CompiledQuery(
        qs,
        annotations=dict.fromkeys(annotations),
        link_id="link-placeholder",
        key="key-placeholder",
        user=USER_PLACEHOLDER,
    )


def snapshot_by_link_sql() -> str:
    return _snapshot_by_link().sql


def snapshot_by_link_params(link_id: str, render_key: str, user_id) -> list:
    return _snapshot_by_link().params(link_id=link_id, key=render_key, user=user_id)


def snapshot_by_link(link_id: str, render_key: str = "", user_id=None) -> Snapshot | None:
    """The snapshot with this (well-formed) link id, or None. Annotated: page_test_name, page_test_type,
    page_creator_name, page_creator_email, page_visits, page_comments, page_render (the stored render under
    `render_key`, or None) and page_allowed (audience.may_open for `user_id`, None when signed out). Callers check
    the id's form first (links.find_shared)."""
    with connection.cursor() as cursor:
        cursor.execute(snapshot_by_link_sql(), snapshot_by_link_params(link_id, render_key, user_id))
        row = cursor.fetchone()
    return None if row is None else snapshot_from_row(row)


def snapshot_from_row(row) -> Snapshot:
    """A Snapshot with its annotations from a row laid out as _snapshot_by_link's (extra trailing columns ignored)."""
    query = _snapshot_by_link()
    return query.instance(row)


@functools.cache
def _comments() -> Compiled:
    qs = (
        SnapshotComment.objects.filter(snapshot_id=-1)
        .order_by("date", "id")
        .only("author_name", "date", "body", "user")
    )
    return Compiled(qs, snapshot_id=-1)


def comments(snapshot_id: int) -> list[SnapshotComment]:
    """The snapshot's comments, oldest first (author, date, body and whether a user posted it loaded)."""
    compiled = _comments()
    return list(SnapshotComment.objects.raw(compiled.sql, compiled.params(snapshot_id=snapshot_id)))
