"""The one-line summary of a snapshot's window for link previews, from the window's per-round aggregates
(timeline.window_totals: the hour rollups where they hold the frozen window, its rows elsewhere)."""

from spyglass.monitoring import timeline
from spyglass.monitoring.models import Test

from .scope_provider import scope_of


def _fmt(value, unit: str, digits=1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def one_line(snapshot) -> str:
    scope = scope_of(snapshot)
    parts = []
    net = timeline.window_totals(scope, "net")
    if net["rows"]:
        parts.append(f"avg loss {_fmt(net['loss'], '%')}, avg latency {_fmt(net['latency'], ' ms')}")
    agents = net["agents"]
    if snapshot.test.type == Test.HTTP_SERVER:
        http = timeline.window_totals(scope, "http")
        if http["rows"]:
            availability = 100.0 * (http["rows"] - http["errors"]) / http["rows"]
            parts.append(f"availability {availability:.1f}%, avg total time {_fmt(http['total_time'], ' ms')}")
        agents = max(agents, http["agents"])
    if not parts:
        return "no results in this window"
    return f"{'; '.join(parts)} ({agents} agent{'s' if agents != 1 else ''})"


def summary_of(snapshot) -> str:
    """one_line(snapshot), computed once per release and content version (stored.stamp): the first view stores it
    on the snapshot (its window is frozen)."""
    from .models import Snapshot
    from .stored import stamp

    current = stamp(snapshot)
    if not snapshot.summary or snapshot.summary_stamp != current:
        snapshot.summary, snapshot.summary_stamp = one_line(snapshot), current
        # Not over a newer version's: a write that changed the page since this view's lookup bumped the version.
        unchanged = Snapshot.objects.filter(id=snapshot.id, content_version=snapshot.content_version)
        unchanged.update(summary=snapshot.summary, summary_stamp=current)
    return snapshot.summary
