"""Reading path traces: the Path Visualization view's data (view_data) and the v6 path-vis pages (read_page).

Every read goes through a ReadScope (scope.py), like the other results: a snapshot shows the traces of its window
and agents as they were when frozen, a live share from its start on. Traces are stored packed per agent and round
(path_store.py, path_format.py); hop addresses and names come from Path, prefixes and networks from the AS table
(asn.py) at read time."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max

from spyglass.lib.timefmt import format_v6_date
from spyglass.lib.timeranges import TimeRange

from . import asn, path_format, queries
from .models import Agent, Path, PathRound
from .scope import ReadScope


@dataclass
class AgentRound:
    """One agent's traces in one round, decoded."""

    agent_id: int
    round_id: int
    date: float
    traces: list[path_format.Trace]


def _decoded(rows) -> list[AgentRound]:
    out = []
    for round_id, agent_id, packed in rows:
        date, traces = path_format.decode(round_id, packed)
        out.append(AgentRound(agent_id, round_id, date, traces))
    return out


def _paths(rounds: list[AgentRound]) -> dict[int, Path]:
    ids = {t.path_id for r in rounds for t in r.traces}
    return Path.objects.in_bulk(list(ids)) if ids else {}


def path_id_text(path: Path) -> str:
    """The opaque pathId the API and the view show: the path's digest (the same path has the same id in every
    round, and two tests taking the same path show the same id)."""
    return path.digest


def round_ids(scope: ReadScope) -> list[int]:
    """The rounds within `scope` that have traces, in order."""
    return list(scope.results(PathRound).values_list("round_id", flat=True).distinct().order_by("round_id"))


def _round_rows(scope: ReadScope, round_id: int):
    qs = scope.within(round_id, round_id).results(PathRound).order_by("agent_id")
    return qs.values_list("round_id", "agent_id", "traces")


def _previous(allowed: ReadScope, round_id: int, agent_ids: list[int]) -> dict[int, set[int]]:
    """Each agent's set of path ids in its latest round with traces before `round_id`, within what the reader may
    see. One query for the latest earlier round; one more per agent that had no trace in that round."""
    earlier = allowed.within(None, round_id - 1)
    last = earlier.results(PathRound).aggregate(m=Max("round_id"))["m"]
    if last is None:
        return {}
    found = {r.agent_id: {t.path_id for t in r.traces} for r in _decoded(_round_rows(earlier, last))}
    for agent_id in agent_ids:
        if agent_id not in found:
            qs = earlier.within(None, None, [agent_id]).results(PathRound).order_by("-round_id")
            rows = _decoded(qs.values_list("round_id", "agent_id", "traces")[:1])
            if rows:
                found[agent_id] = {t.path_id for t in rows[0].traces}
    return found


def _loss(sent: int, lost: int) -> float | None:
    return round(lost / sent * 100, 1) if sent else None


def _view_hops(trace: path_format.Trace, path: Path, networks: dict) -> list[dict]:
    hops = []
    for i, ((address, rdns), time, sent, lost) in enumerate(
        zip(path.hops, trace.times, trace.sent, trace.lost, strict=True), 1
    ):
        network = networks.get(address)
        hops.append(
            {
                "hop": i,
                "ipAddress": address or None,
                "prefix": network.prefix if network else "",
                "rdns": rdns,
                "network": network.label if network else "",
                "responseTime": time,
                "loss": _loss(sent, lost),
            }
        )
    return hops


def view_data(scope, round_id: int | None) -> dict:
    """The Path Visualization view of one round: `scope` is the results component's ResultsScope (test, allowed,
    start, end) — the window the page shows, within what the reader may see. The round shown is `round_id` when it
    has traces, else the latest round with traces before it (or the first after it, or the latest of the window).

    {"roundId", "rounds": [roundIds of the window with traces], "target": {"server", "serverIp"},
     "agents": [{"agentId", "agentName", "sourceIp", "changed", "traces": [{"pathId", "reached",
                 "hops": [{"hop", "ipAddress", "prefix", "rdns", "network", "responseTime", "loss"}]}]}]}"""
    window: ReadScope = scope.allowed.within(scope.start, scope.end)
    rounds = round_ids(window)
    test = scope.test
    out: dict = {"roundId": None, "rounds": rounds, "target": {"server": test.target, "serverIp": ""}, "agents": []}
    if not rounds:
        return out
    if round_id in rounds:
        chosen = round_id
    elif round_id is None:
        chosen = rounds[-1]
    else:
        before = [r for r in rounds if r <= round_id]
        chosen = before[-1] if before else rounds[0]
    out["roundId"] = chosen
    agent_rounds = _decoded(_round_rows(window, chosen))
    previous = _previous(scope.allowed, chosen, [r.agent_id for r in agent_rounds])
    paths = _paths(agent_rounds)
    networks = asn.lookup(a for p in paths.values() for a, _ in p.hops if a)
    names = dict(Agent.objects.filter(id__in=[r.agent_id for r in agent_rounds]).values_list("id", "name"))
    for r in agent_rounds:
        taken = [(t, paths[t.path_id]) for t in r.traces if t.path_id in paths]
        if not taken:
            continue
        first = taken[0][1]
        if first.server:
            out["target"] = {"server": first.server, "serverIp": first.server_ip}
        ids = {t.path_id for t, _ in taken}
        out["agents"].append(
            {
                "agentId": str(r.agent_id),
                "agentName": names.get(r.agent_id, ""),
                "sourceIp": first.source_ip,
                "changed": r.agent_id in previous and previous[r.agent_id] != ids,
                "traces": [
                    {
                        "pathId": path_id_text(p),
                        "reached": t.reached,
                        "hops": _view_hops(t, p, networks),
                    }
                    for t, p in taken
                ],
            }
        )
    return out


# The v6 path-vis endpoints (api/views/pathvis.py presents them).


def read_page(
    test, time_range: TimeRange, last_round_id: int | None, scope: ReadScope, limit: int | None = None
) -> queries.Page:
    """One page of `GET /v6/net/path-vis/{testId}`: one entry per agent and round, ordered by round then agent,
    never splitting a round (DATA_PAGE_ROWS entries a page, as the other data endpoints)."""
    limit = limit or settings.DATA_PAGE_ROWS
    qs = queries.latest_or_range(PathRound, time_range, last_round_id, scope)
    if qs is None:
        return queries.Page([], None)
    columns = ("round_id", "agent_id", "traces")
    ordered = qs.order_by("round_id", "agent_id").values_list(*columns)
    raw, next_round = queries.cut_page(
        list(ordered[: limit + 1]), limit, lambda r: list(ordered.filter(round_id=r).values_list(*columns))
    )
    return queries.Page(entries(test, _decoded(raw)), next_round)


def detail(test, agent_id: int, round_id: int, scope: ReadScope) -> list[dict]:
    """`GET /v6/net/path-vis/{testId}/{agentId}/{roundId}`: the agent's entry of that round with its pathTraces, or
    [] when the scope holds none."""
    qs = scope.within(round_id, round_id, [agent_id]).results(PathRound)
    return entries(test, _decoded(qs.values_list("round_id", "agent_id", "traces")), detailed=True)


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def entries(test, rounds: list[AgentRound], detailed: bool = False) -> list[dict]:
    """v6 pathVis entries of decoded agent rounds (responseTime in whole milliseconds, as v6 writes it)."""
    paths = _paths(rounds)
    agents = {
        a[0]: a
        for a in Agent.objects.filter(id__in={r.agent_id for r in rounds}).values_list("id", "name", "country_id")
    }
    addresses = {p.source_ip for p in paths.values() if p.source_ip}
    if detailed:
        addresses |= {a for p in paths.values() for a, _ in p.hops if a}
    networks = asn.lookup(addresses)
    link = queries.permalink(test.id, 0, 0).partition("?")[0]
    out = []
    for r in rounds:
        taken = [(t, paths[t.path_id]) for t in r.traces if t.path_id in paths]
        first = taken[0][1] if taken else None
        _, name, country = agents.get(r.agent_id, (r.agent_id, "", ""))
        source = networks.get(first.source_ip) if first else None
        entry: dict = {
            "agentId": r.agent_id,
            "agentName": name,
            "countryId": country,
            "date": format_v6_date(r.date),
            "roundId": r.round_id,
            "server": first.server if first else test.target,
            "serverIp": first.server_ip if first else "",
            "sourceIp": first.source_ip if first else "",
            "sourcePrefix": source.prefix if source else "",
            "permalink": f"{link}?roundId={r.round_id}&agentId={r.agent_id}",
            "endpoints": [
                {
                    "numberOfHops": len(t.times),
                    "ipAddress": p.server_ip,
                    "responseTime": _ms(t.times[-1]) if t.reached and t.times else None,
                    "pathId": path_id_text(p),
                }
                for t, p in taken
            ],
        }
        if detailed:
            entry["pathTraces"] = [{"pathId": path_id_text(p), "hops": _v6_hops(t, p, networks)} for t, p in taken]
        out.append(entry)
    return out


def _v6_hops(trace: path_format.Trace, path: Path, networks: dict) -> list[dict]:
    hops: list[dict] = []
    for i, ((address, rdns), time) in enumerate(zip(path.hops, trace.times, strict=True), 1):
        if not address:  # an unknown hop keeps its number and nothing else, as v6 shows it
            hops.append({"hop": i})
            continue
        network = networks.get(address)
        hops.append(
            {
                "hop": i,
                "ipAddress": address,
                "prefix": network.prefix if network else "",
                "rdns": rdns,
                "network": network.v6 if network else "",
                "responseTime": _ms(time),
            }
        )
    return hops
