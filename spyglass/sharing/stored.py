"""What a share page computes once per snapshot and keeps in the database: the per-round rollups of its frozen window
and its rendered results components.

A snapshot's window never changes once frozen (docs/sharing.md: `recorded_at`, copy-on-write copies, pins), so
neither do its per-round aggregates nor the component drawn from them. Both live in tables, not in a process's
memory: every app process serves what any of them computed. They are dropped when what they show can change:
`update_snapshot` (the display name is on the page), the creator renamed or deleted, an agent renamed, moved or
deleted (its name and location are in the round table; deleting it deletes its result rows) — see `forget` and the
receivers at the end — and they are never read by code that renders differently (`_code_version`)."""

import functools
import hashlib
import importlib.metadata
from pathlib import Path

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_delete

from spyglass.monitoring import timeline
from spyglass.monitoring.models import Agent, RetentionPin
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


def rollups(snapshot: Snapshot, rows) -> dict:
    """The snapshot's per-round aggregates for every View of its test: read, or computed with ONE aggregate query
    over `rows` (the page's scope: window, agents, freeze, copies) and stored."""
    found = list(SnapshotRollup.objects.filter(snapshot_id=snapshot.id).values_list("data", flat=True)[:1])
    if found:
        return orjson.loads(found[0])
    views = timeline.views_for(snapshot.test)
    document = _document(views, timeline.timelines(rows, views))
    if not _copies_appeared(snapshot, rows):
        # Two processes may compute it at once: the first row wins, both hold the same numbers.
        SnapshotRollup.objects.bulk_create(
            [SnapshotRollup(snapshot_id=snapshot.id, data=orjson.dumps(document).decode())], ignore_conflicts=True
        )
    return document


def timelines_of(snapshot: Snapshot, rows):
    """A ResultsScope.timelines provider: each View's Timeline from the rollups, read at most once per request."""
    loaded = {}

    def provide(view) -> timeline.Timeline:
        if "document" not in loaded:
            loaded["document"] = rollups(snapshot, rows)
        document = loaded["document"]
        values = [document["values"][s.key] for s in view.series]
        return timeline.Timeline(document["rounds"], values, document["agents"], document["errors"])

    return provide


@functools.cache
def _code_version() -> str:
    """A digest of what a render is made of besides the snapshot: the templates, the component's formatting filters
    and the modules building its context, the settings written into a page (addresses, static files, debug) and
    django-htmx's version. After an upgrade or a change of any, renders stored before are never read."""
    from django_htmx import __file__ as htmx_file

    from spyglass.results_ui import component
    from spyglass.results_ui.templatetags import web_format

    digest = hashlib.sha256()
    component_templates = Path(component.__file__).parent / "templates" / "results_ui"
    own_templates = Path(__file__).parent / "templates" / "sharing"
    files = [*sorted(component_templates.glob("*.html")), *sorted(own_templates.glob("*.html"))]
    files += [Path(component.__file__), Path(web_format.__file__), Path(timeline.__file__), Path(htmx_file)]
    for path in files:
        digest.update(path.read_bytes())
    for name in ("BASE_URL", "SHARE_URL_TEMPLATE", "STATIC_URL", "DEBUG"):
        digest.update(repr(getattr(settings, name, None)).encode())
    digest.update(importlib.metadata.version("django-htmx").encode())
    return digest.hexdigest()[:12]


def request_key(request, kind: str) -> str:
    """The key of the render this request asks for — `kind` "page" (the share page's frozen part) or "part" (the
    component alone, for htmx) — from the URL's `view` and `roundId` as given ("d" when absent), so it is known
    before the snapshot is read and the stored render comes with the link lookup. "" = neither read nor stored: a
    permalink marking one agent's row, or a View name longer than any."""
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
    return f"{_code_version()}|{kind}|{'d' if view is None else 'v' + view}|{round_part}"


def store_component(snapshot: Snapshot, key: str, html: str, rows) -> None:
    """Keep a render under `key` (request_key). Callers store only what the request's own parameters resolve to, so
    junk parameters never take the places of real renders."""
    if not key or _copies_appeared(snapshot, rows):
        return
    SnapshotRender.objects.bulk_create(
        [SnapshotRender(snapshot_id=snapshot.id, key=key, html=html)], ignore_conflicts=True
    )
    # Bounded: beyond RENDERS_KEPT the oldest go, never the page as its creator opens it (usually nothing goes).
    kept = SnapshotRender.objects.filter(snapshot_id=snapshot.id).exclude(key__endswith="|page|d|d").order_by("-id")
    stale = list(kept.values_list("id", flat=True)[RENDERS_KEPT:])
    if stale:
        SnapshotRender.objects.filter(id__in=stale).delete()


def forget(snapshots, data_changed: bool = False) -> None:
    """Drop the stored renders of `snapshots` (a queryset); with data_changed also their rollups and summaries."""
    SnapshotRender.objects.filter(snapshot__in=snapshots).delete()
    if data_changed:
        SnapshotRollup.objects.filter(snapshot__in=snapshots).delete()
        snapshots.update(summary="")


# What an agent contributes to a share page: its name and location in the round table (by name, too), and its rows.
_SHOWN_AGENT_FIELDS = {"name", "location", "country_id"}


def _agent_saved(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and not _SHOWN_AGENT_FIELDS & set(update_fields)):
        return  # a new agent has no rows in any frozen window; heartbeats and registrations change nothing shown
    forget(Snapshot.objects.filter(account_group__organization_id=instance.organization_id))


def _agent_deleted(sender, instance, **kwargs):
    # Its result rows went with it (CASCADE), also inside frozen windows.
    forget(Snapshot.objects.filter(account_group__organization_id=instance.organization_id), data_changed=True)


def _creator_saved(sender, instance, created, update_fields=None, **kwargs):
    # The page shows its creator's name (or e-mail); signing in saves only last_login.
    if created or (update_fields is not None and not {"name", "email"} & set(update_fields)):
        return
    forget(Snapshot.objects.filter(created_by=instance))


def _creator_deleted(sender, instance, **kwargs):
    forget(Snapshot.objects.filter(created_by=instance))  # before: the page will say "a former user"


def connect() -> None:
    post_save.connect(_agent_saved, sender=Agent, dispatch_uid="sharing.stored.agent_saved")
    post_delete.connect(_agent_deleted, sender=Agent, dispatch_uid="sharing.stored.agent_deleted")
    user = get_user_model()
    post_save.connect(_creator_saved, sender=user, dispatch_uid="sharing.stored.creator_saved")
    pre_delete.connect(_creator_deleted, sender=user, dispatch_uid="sharing.stored.creator_deleted")
