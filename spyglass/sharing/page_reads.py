"""The share page's per-request reads, with their SQL compiled by the ORM once per process.

A repeat view of a share page reads a stored render (stored.py), so what is left per request is small indexed reads
— and the ORM spent about 0.2–0.6 ms compiling each of them, more than the database took to answer (docs/benchmarks.md,
row 4). Each query here is built with the ORM as usual, compiled once with placeholder values,
and run with the request's values through `raw()` (which still applies the fields' converters) or a cursor."""

import functools

from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from .models import Snapshot, SnapshotComment, SnapshotRender, SnapshotVisit


class Compiled:
    """A queryset's SQL and its parameters: the placeholders' (distinct values, named) and the constants the ORM
    put there itself (a COALESCE default, say), kept as they are."""

    def __init__(self, queryset, **placeholders):
        self.sql, params = queryset.query.sql_with_params()
        by_value = {value: name for name, value in placeholders.items()}
        if len(by_value) != len(placeholders) or not set(by_value) <= set(params):
            raise ValueError("every placeholder must be a distinct value that the query uses")
        self.slots = [(by_value.get(p), p) for p in params]

    def params(self, **values) -> list:
        return [constant if name is None else values[name] for name, constant in self.slots]


def _count(model):
    rows = model.objects.filter(snapshot_id=OuterRef("id")).order_by().values("snapshot_id")
    return Coalesce(Subquery(rows.annotate(n=Count("id")).values("n")), 0)


@functools.cache
def _snapshot_by_link() -> Compiled:
    # One statement for what every view of the page needs: the snapshot, the header's facts about its test and
    # creator (the full Test row, 40 columns, is read lazily when a component has to be rendered), the visit and
    # comment counts, and the stored render the request asks for.
    render = SnapshotRender.objects.filter(snapshot_id=OuterRef("id"), key="key-placeholder").values("html")[:1]
    qs = (
        Snapshot.objects.filter(link_id="link-placeholder")
        .annotate(
            page_test_name=F("test__name"),
            page_test_type=F("test__type"),
            page_creator_name=F("created_by__name"),
            page_creator_email=F("created_by__email"),
            page_visits=_count(SnapshotVisit),
            page_comments=_count(SnapshotComment),
            page_render=Subquery(render),
        )
        .order_by()
    )
    return Compiled(qs, link_id="link-placeholder", key="key-placeholder")


def snapshot_by_link(link_id: str, render_key: str = "") -> Snapshot | None:
    """The snapshot with this (well-formed) link id, or None. Annotated: page_test_name, page_test_type,
    page_creator_name, page_creator_email, page_visits, page_comments, and page_render (the stored render under
    `render_key`, or None). Callers check the id's form first (links.find_shared)."""
    compiled = _snapshot_by_link()
    params = compiled.params(link_id=link_id, key=render_key)
    return next(iter(Snapshot.objects.raw(compiled.sql, params)), None)


@functools.cache
def _comments() -> Compiled:
    qs = SnapshotComment.objects.filter(snapshot_id=-1).order_by("date", "id").only("author_name", "date", "body")
    return Compiled(qs, snapshot_id=-1)


def comments(snapshot_id: int) -> list[SnapshotComment]:
    """The snapshot's comments, oldest first (author, date and body loaded)."""
    compiled = _comments()
    return list(SnapshotComment.objects.raw(compiled.sql, compiled.params(snapshot_id=snapshot_id)))
