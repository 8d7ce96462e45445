"""Reading path traces: the Path Visualization view's data (view_data) and the v6 path-vis pages (read_page).

Every read goes through a ReadScope (scope.py), like the other results: a snapshot shows the traces of its window
and agents as they were when frozen, a live share from its start on. Traces are stored packed per agent and round
(path_store.py, path_format.py); hop addresses and names come from Path, prefixes and networks from the AS table
(asn.py) at read time."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db.models import Max

from spyglass.lib import anonymize
from spyglass.lib.timefmt import format_v6_date
from spyglass.lib.timeranges import TimeRange

from . import asn, path_format, queries
from .models import Agent, Path, PathRound
from .scope import ReadScope

T = TypeVar("T")


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


def path_id_text(path: Path, scope: ReadScope | None = None) -> str:
    """The opaque pathId the API and the view show: the path's digest (the same path has the same id in every
    round, and two tests taking the same path show the same id). In an anonymized snapshot, a keyed digest of it: the
    plain digest hashes the path's addresses, so a reader could confirm a guess of the hidden ones."""
    if scope is not None and scope.anonymized:
        return anonymize.keyed_id(settings.SECRET_KEY, path.digest)
    return path.digest


def shown_hops(path: Path, scope: ReadScope) -> list[tuple[str, str]]:
    """The path's hops (address, reverse DNS) as `scope`'s reader sees them: in an anonymized snapshot a hop inside
    the owner's network is its pseudonym with no name (lib/anonymize.py); a silent one stays silent."""
    internal = scope.internal_hops([address for address, _ in path.hops])
    return [
        (anonymize.hop_label(i), "") if hidden and address else (address, rdns)
        for i, ((address, rdns), hidden) in enumerate(zip(path.hops, internal, strict=True), 1)
    ]


def agent_names(agent_ids, scope: ReadScope) -> dict[int, str]:
    """{agent id: its name as `scope`'s reader sees it} (one query; none when the names are pseudonyms)."""
    if scope.anonymized:
        return {a: scope.agent_name(a, "") for a in agent_ids}
    return dict(Agent.objects.filter(id__in=list(agent_ids)).values_list("id", "name"))


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


def _tracked(
    allowed: ReadScope, start: int | None, end: int | None, read: Callable[[int, int, bytes], tuple[T, set[int]]]
) -> Iterator[tuple[T, bool]]:
    """read(round_id, agent_id, packed) -> (what to yield, that round's set of path ids) for every agent round with
    traces of the window [start, end] within `allowed`, by round then agent, each with whether the agent's paths
    differ from its previous round with traces (before the window too, as far as `allowed` reaches): view_data's
    `changed` for a whole window. The window's rows are one query, read in chunks; the rounds before it cost what
    _previous costs (a few queries, at most one per agent), never one per round."""
    window = allowed.within(start, end)
    last: dict[int, set[int]] = {}
    if window.start_round is not None:
        agent_ids = list(window.results(PathRound).values_list("agent_id", flat=True).distinct())
        last = _previous(allowed, window.start_round, agent_ids)
    rows = window.results(PathRound).order_by("round_id", "agent_id").values_list("round_id", "agent_id", "traces")
    for round_id, agent_id, packed in rows.iterator(chunk_size=2000):
        value, ids = read(round_id, agent_id, packed)
        before = last.get(agent_id)
        last[agent_id] = ids
        yield value, before is not None and before != ids


def _read_round(round_id: int, agent_id: int, packed) -> tuple[AgentRound, set[int]]:
    (agent_round,) = _decoded([(round_id, agent_id, packed)])
    return agent_round, {t.path_id for t in agent_round.traces}


def _read_ids(round_id: int, agent_id: int, packed) -> tuple[int, set[int]]:
    return round_id, path_format.path_ids(packed)


def window_rounds(allowed: ReadScope, start: int | None, end: int | None) -> Iterator[tuple[AgentRound, bool]]:
    """Every agent round with traces of the window, decoded, with whether its agent's path changed (_tracked)."""
    yield from _tracked(allowed, start, end, _read_round)


def changed_rounds(allowed: ReadScope, start: int | None, end: int | None) -> list[int]:
    """The rounds of the window in which any agent's path changed: the timeline's markers. The rounds' path ids
    are read without decoding their hops."""
    out: list[int] = []
    for round_id, changed in _tracked(allowed, start, end, _read_ids):
        if changed and (not out or out[-1] != round_id):
            out.append(round_id)
    return out


def _loss(sent: int, lost: int) -> float | None:
    return round(lost / sent * 100, 1) if sent else None


def _view_hops(trace: path_format.Trace, path: Path, networks: dict, scope: ReadScope) -> list[dict]:
    hops = []
    for i, ((address, rdns), time, sent, lost) in enumerate(
        zip(shown_hops(path, scope), trace.times, trace.sent, trace.lost, strict=True), 1
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
    names = agent_names({r.agent_id for r in agent_rounds}, window)
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
                "sourceIp": window.source_ip(first.source_ip),
                "changed": r.agent_id in previous and previous[r.agent_id] != ids,
                "traces": [
                    {
                        "pathId": path_id_text(p, window),
                        "reached": t.reached,
                        "hops": _view_hops(t, p, networks, window),
                    }
                    for t, p in taken
                ],
            }
        )
    return out


def _number(value: float | None) -> float | int | None:
    """A whole number without its ".0": the download writes hundreds of thousands of them."""
    return int(value) if value is not None and value == int(value) else value


class WindowExport:
    """A window's traces for a download, compact and self-describing (docs/path-visualization.md, "Download"):
    `rounds()` gives per round and agent only which path each trace took, whether the agent's paths changed, and
    per hop its response time and loss; then `paths()` gives each distinct path once (its hops' addresses, prefixes,
    reverse DNS and networks) and `agents()` the agents' names. Rounds are read a chunk at a time; what is kept in
    memory is one Path per distinct path."""

    def __init__(self, allowed: ReadScope, start: int | None, end: int | None):
        self.allowed, self.start, self.end = allowed, start, end
        self._paths: dict[int, Path] = {}
        self._agent_ids: set[int] = set()

    def _path(self, path_id: int) -> Path | None:
        if path_id not in self._paths:
            found = Path.objects.filter(id=path_id).first()  # a query per distinct path: paths rarely change
            if found is None:
                return None
            self._paths[path_id] = found
        return self._paths[path_id]

    def rounds(self) -> Iterator[dict]:
        """{"roundId", "agents": [{"agentId", "changed", "traces": [{"pathId", "reached", "responseTime": [per
        hop], "loss": [per hop, %]}]}]}, one round at a time."""
        current: dict | None = None
        for agent_round, changed in window_rounds(self.allowed, self.start, self.end):
            traces = []
            for t in agent_round.traces:
                path = self._path(t.path_id)
                if path is None:
                    continue
                traces.append(
                    {
                        "pathId": path_id_text(path, self.allowed),
                        "reached": t.reached,
                        "responseTime": [_number(ms) for ms in t.times],
                        "loss": [_number(_loss(s, lost)) for s, lost in zip(t.sent, t.lost, strict=True)],
                    }
                )
            if not traces:
                continue
            if current is not None and current["roundId"] != agent_round.round_id:
                yield current
                current = None
            if current is None:
                current = {"roundId": agent_round.round_id, "agents": []}
            self._agent_ids.add(agent_round.agent_id)
            current["agents"].append({"agentId": str(agent_round.agent_id), "changed": changed, "traces": traces})
        if current is not None:
            yield current

    def paths(self) -> dict[str, dict]:
        """{pathId: {"server", "serverIp", "sourceIp", "hops": [{"hop", "ipAddress", "prefix", "rdns",
        "network"}]}} of every path rounds() named (call it after them)."""
        networks = asn.lookup(a for p in self._paths.values() for a, _ in p.hops if a)
        out = {}
        for path in self._paths.values():
            hops = []
            for i, (address, rdns) in enumerate(shown_hops(path, self.allowed), 1):
                network = networks.get(address)
                hops.append(
                    {
                        "hop": i,
                        "ipAddress": address or None,
                        "prefix": network.prefix if network else "",
                        "rdns": rdns,
                        "network": network.label if network else "",
                    }
                )
            out[path_id_text(path, self.allowed)] = {
                "server": path.server,
                "serverIp": path.server_ip,
                "sourceIp": self.allowed.source_ip(path.source_ip),
                "hops": hops,
            }
        return out

    def agents(self) -> dict[str, str]:
        """{agentId: agentName} of every agent rounds() named (call it after them)."""
        return {str(agent_id): name for agent_id, name in agent_names(self._agent_ids, self.allowed).items()}


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
    return queries.Page(entries(test, _decoded(raw), scope=scope), next_round)


def detail(test, agent_id: int, round_id: int, scope: ReadScope) -> list[dict]:
    """`GET /v6/net/path-vis/{testId}/{agentId}/{roundId}`: the agent's entry of that round with its pathTraces, or
    [] when the scope holds none."""
    qs = scope.within(round_id, round_id, [agent_id]).results(PathRound)
    return entries(test, _decoded(qs.values_list("round_id", "agent_id", "traces")), detailed=True, scope=scope)


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def entries(test, rounds: list[AgentRound], detailed: bool = False, scope: ReadScope | None = None) -> list[dict]:
    """v6 pathVis entries of decoded agent rounds (responseTime in whole milliseconds, as v6 writes it), named as
    `scope`'s reader sees them."""
    scope = scope or ReadScope(source_test_id=test.id)
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
        source = networks.get(first.source_ip) if first and not scope.anonymized else None
        entry: dict = {
            "agentId": r.agent_id,
            "agentName": scope.agent_name(r.agent_id, name),
            "countryId": country,
            "date": format_v6_date(r.date),
            "roundId": r.round_id,
            "server": first.server if first else test.target,
            "serverIp": first.server_ip if first else "",
            "sourceIp": scope.source_ip(first.source_ip) if first else "",
            "sourcePrefix": source.prefix if source else "",
            "permalink": f"{link}?roundId={r.round_id}&agentId={r.agent_id}",
            "endpoints": [
                {
                    "numberOfHops": len(t.times),
                    "ipAddress": p.server_ip,
                    "responseTime": _ms(t.times[-1]) if t.reached and t.times else None,
                    "pathId": path_id_text(p, scope),
                }
                for t, p in taken
            ],
        }
        if detailed:
            entry["pathTraces"] = [
                {"pathId": path_id_text(p, scope), "hops": _v6_hops(t, p, networks, scope)} for t, p in taken
            ]
        out.append(entry)
    return out


def _v6_hops(trace: path_format.Trace, path: Path, networks: dict, scope: ReadScope) -> list[dict]:
    hops: list[dict] = []
    for i, ((address, rdns), time) in enumerate(zip(shown_hops(path, scope), trace.times, strict=True), 1):
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
