"""What a share page computes once per snapshot and keeps in the database: the per-round rollups of its frozen window,
its one-line summary and its rendered frozen part.

They live in tables, not in a process's memory: every app process serves what any of them computed. Each is kept
under what it was made from, and read only while that still holds:

- the release (lib/release.py: the package, the third-party renderers, the page's settings and a digest of every
  file of the rendering rooms), in its key or `stamp` — a process of another release never reads it;
- the snapshot's `content_version`, which database triggers bump in the same transaction as any write that changes
  what its page shows (migration 0006: the snapshot row, its test row, its creator's name, an agent of its
  organization renamed, moved or deleted) — whichever path writes, with no signal to miss.

The window itself is frozen (docs/sharing.md: `recorded_at`, copy-on-write copies, pins): rows written later,
re-imports and retention change nothing shown, so they bump nothing."""

import orjson
from django.db.models import F

from spyglass.lib import release
from spyglass.monitoring import timeline
from spyglass.monitoring.models import RetentionPin
from spyglass.results_ui.component import parse_round

from .models import Snapshot, SnapshotRender, SnapshotRollup

# Renders kept per snapshot (the newest): one per View and round visitors open; the creator's round in every View
# fits many times over. More distinct requests than this render again, as every view did before.
RENDERS_KEPT = 48


def _copies_appeared(snapshot: Snapshot, rows) -> bool:
    """True when rows were copied on write after `rows` was built without them (scope_of reads the pin first): what
    was just computed may then miss a replaced row, so it is shown this once but never stored."""
    if rows.copies_test_id is not None:
        return False
    return RetentionPin.objects.filter(
        test_id=snapshot.source_test_id, copy_to_id=snapshot.test_id, has_copies=True
    ).exists()


def _document(views, computed: dict) -> dict:
    first = computed[views[0].key]
    values = {s.key: computed[v.key].values[i] for v in views for i, s in enumerate(v.series)}
    return {"rounds": first.rounds, "agents": first.agents, "errors": first.errors, "values": values}


def stamp(snapshot: Snapshot) -> str:
    """What a stored rollup or summary of `snapshot` was made from: this release and the snapshot's content version
    as read with it. A later bump makes it stale even when it is written after the bump."""
    return f"{release.current()}.{snapshot.content_version}"


def _rolled_up(test) -> list:
    """The Views the rollups hold: those of the test's own kind of measurement (one aggregate query). A View of
    another kind (the path view's network loss on an HTTP or DNS test) is computed when asked (timelines_of)."""
    primary = timeline.PRIMARY_KIND[test.type]
    return [v for v in timeline.views_for(test) if v.kind == primary]


def rollups(snapshot: Snapshot, rows) -> dict:
    """The snapshot's per-round aggregates for every View of its test: read, or computed with ONE aggregate query
    over `rows` (the page's scope: window, agents, freeze, copies) and stored."""
    current = stamp(snapshot)
    found = list(
        SnapshotRollup.objects.filter(snapshot_id=snapshot.id, stamp=current).values_list("data", flat=True)[:1]
    )
    if found:
        return orjson.loads(found[0])
    views = _rolled_up(snapshot.test)
    document = _document(views, timeline.timelines(rows, views))
    if not _copies_appeared(snapshot, rows):
        # One row per snapshot, replaced when stale. Two processes may compute it at once: both hold the same numbers.
        SnapshotRollup.objects.bulk_create(
            [SnapshotRollup(snapshot_id=snapshot.id, data=orjson.dumps(document).decode(), stamp=current)],
            update_conflicts=True,
            unique_fields=["snapshot"],
            update_fields=["data", "stamp", "created_date"],
        )
    return document


def timelines_of(snapshot: Snapshot, rows):
    """A ResultsScope.timelines provider: each View's Timeline from the rollups, read at most once per request."""
    loaded = {}

    def provide(view) -> timeline.Timeline:
        if view.kind != timeline.PRIMARY_KIND[snapshot.test.type]:
            return timeline.timeline(rows, view)
        if "document" not in loaded:
            loaded["document"] = rollups(snapshot, rows)
        document = loaded["document"]
        values = [document["values"][s.key] for s in view.series]
        return timeline.Timeline(document["rounds"], values, document["agents"], document["errors"])

    return provide


def request_key(request, kind: str) -> str:
    """The key of the render this request asks for — `kind` "page" (the share page's frozen part) or "part" (the
    component alone, for htmx) — from the URL's `view` and `roundId` as given ("d" when absent), so it is known
    before the snapshot is read and the stored render comes with the link lookup (which also matches the render's
    version to the snapshot's content_version). "" = neither read nor stored: a permalink marking one agent's row,
    or a View name longer than any."""
    if parse_round(request.GET.get("agentId")) is not None:
        return ""
    view = request.GET.get("view")
    if view is not None and len(view) > 40:
        return ""
    if "roundId" in request.GET:
        round_id = parse_round(request.GET.get("roundId"))
        round_part = "x" if round_id is None else f"r{round_id}"
    else:
        round_part = "d"
    return f"{release.current()}|{kind}|{'d' if view is None else 'v' + view}|{round_part}"


def store_component(snapshot: Snapshot, key: str, html: str, rows) -> None:
    """Keep a render under `key` (request_key) at the content version the snapshot was read with. Callers store only
    what the request's own parameters resolve to, so junk parameters never take the places of real renders."""
    if not key or _copies_appeared(snapshot, rows):
        return
    SnapshotRender.objects.bulk_create(
        [SnapshotRender(snapshot_id=snapshot.id, key=key, version=snapshot.content_version, html=html)],
        update_conflicts=True,
        unique_fields=["snapshot", "key"],
        update_fields=["html", "version", "created_date"],
    )
    mine = SnapshotRender.objects.filter(snapshot_id=snapshot.id)
    # Renders of another release are never read again; beyond RENDERS_KEPT the oldest go, never the page as its
    # creator opens it (usually nothing goes).
    mine.exclude(key__startswith=f"{release.current()}|").delete()
    kept = mine.exclude(key__endswith="|page|d|d").order_by("-id")
    stale = list(kept.values_list("id", flat=True)[RENDERS_KEPT:])
    if stale:
        SnapshotRender.objects.filter(id__in=stale).delete()


def forget(snapshots) -> None:
    """Make everything stored for `snapshots` (a queryset) stale, as a write that changes their pages does."""
    snapshots.update(content_version=F("content_version") + 1)
