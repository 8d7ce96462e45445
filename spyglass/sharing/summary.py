"""The one-line summary of a snapshot's window for link previews, from one aggregate SQL query per kind."""

from django.db.models import Avg, Count, Q

from spyglass.monitoring.models import HttpResult, NetResult, Test

from .scope_provider import scope_of


def _fmt(value, unit: str, digits=1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def one_line(snapshot) -> str:
    scope = scope_of(snapshot)
    parts = []
    net = scope.results(NetResult).aggregate(
        loss=Avg("loss"), latency=Avg("avg_latency"), agents=Count("agent_id", distinct=True), rows=Count("id")
    )
    if net["rows"]:
        parts.append(f"avg loss {_fmt(net['loss'], '%')}, avg latency {_fmt(net['latency'], ' ms')}")
    agents = net["agents"]
    if snapshot.test.type == Test.HTTP_SERVER:
        http = scope.results(HttpResult).aggregate(
            total=Avg("total_time"),
            rows=Count("id"),
            errors=Count("id", filter=~Q(error_type="None")),
            agents=Count("agent_id", distinct=True),
        )
        if http["rows"]:
            availability = 100.0 * (http["rows"] - http["errors"]) / http["rows"]
            parts.append(f"availability {availability:.1f}%, avg total time {_fmt(http['total'], ' ms')}")
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
