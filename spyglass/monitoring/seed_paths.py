"""Path traces for `spyglass seed`: what a path view of a real test looks like.

Every agent leaves through access hops of its own (its gateway, its ISP's routers, for some a router that never
answers), enters the transit network at one of two ingress routers, crosses the shared core and the target's edge.
For a fifth of the window a third of the agents are routed over another core (a route change, and back); for a
while one core router drops probes, so loss starts there and carries on to the target; an agent that is down
reaches its gateway and nothing after it. Response times grow along the path to the agent's latency of that round
(seed.py's model), with a little jitter per trace.

Rounds are written packed (path_format.py) straight through results.upsert_columns, the paths once through
path_store.path_ids: the seed writes 50 agents × 48 h in seconds."""

import random

from . import path_format, path_store, results

TARGET_IP = "203.0.113.10"  # seed.py's net rows name this server address
_INGRESS = [
    ("198.51.100.1", "ae-1.ingress1.fra.transit.example"),
    ("198.51.100.5", "ae-3.ingress2.ams.transit.example"),
]
_CORE = [
    ("198.51.100.9", "et-0-0-1.core1.fra.transit.example"),
    ("198.51.100.13", "et-1-0-0.core2.par.transit.example"),  # the lossy router
    ("198.51.100.17", "et-0-1-2.core3.lon.transit.example"),
]
_ALTERNATE_CORE = [
    ("198.51.100.65", "et-4-0-0.core7.bru.transit.example"),
    ("198.51.100.69", "et-4-1-0.core8.dub.transit.example"),
    ("198.51.100.73", "et-2-0-0.core9.lon.transit.example"),
]
_EDGE = [("203.0.113.1", "lb1.edge.target.example"), (TARGET_IP, "www.target.example")]
LOSSY_HOP = _CORE[1][0]
PROBES = 3


def _access(index: int, city: str) -> list[tuple[str, str]]:
    slug = "".join(c for c in city.lower().split(",")[0] if c.isalnum()) or "site"
    hops = [
        (f"10.{index // 250}.{index % 250}.1", ""),  # the agent's own gateway: no reverse name
        (f"100.64.{index % 250}.1", f"bras{index % 7 + 1}.{slug}.isp.example"),
    ]
    if index % 3 == 2:
        hops.append(("", ""))  # a router that never answers
    hops.append((f"192.0.2.{index % 250 + 1}", f"edge{index % 4 + 1}.{slug}.isp.example"))
    return hops


class SeededPaths:
    """Path traces of one test's seeded agents, round by round (add), written in batches (flush)."""

    def __init__(self, test, agents, start: int, end: int, random_seed: int | None):
        self.test = test
        self.traces = test.num_path_traces
        # A generator of its own: seed.py's history stays what it was for the same random seed.
        self.rng = random.Random(None if random_seed is None else random_seed + 19)
        span = max(end - start, test.interval)
        self.reroute = (start + int(span * 0.4), start + int(span * 0.6))
        self.lossy = (start + int(span * 0.7), start + int(span * 0.75))
        self.hops: dict[tuple[int, str], list[tuple[str, str]]] = {}
        wanted = {}
        for i, agent in enumerate(agents):
            access = _access(i, agent.location or agent.name)
            self.hops[(agent.id, "usual")] = access + [_INGRESS[i % 2]] + _CORE + _EDGE
            if i % 3 == 0:
                self.hops[(agent.id, "rerouted")] = access + [_INGRESS[i % 2]] + _ALTERNATE_CORE + _EDGE
            self.hops[(agent.id, "down")] = access[:1] + [("", "")] * 3
        self.source = {agent.id: f"10.{i // 250}.{i % 250}.2" for i, agent in enumerate(agents)}
        self.digests = {}
        for (agent_id, variant), hops in self.hops.items():
            d = path_store.digest(test.target, TARGET_IP, self.source[agent_id], [a for a, _ in hops])
            self.digests[(agent_id, variant)] = d
            row = {"server": test.target, "server_ip": TARGET_IP, "source_ip": self.source[agent_id]}
            wanted[d] = (row, [list(h) for h in hops], start, end)
        self.ids = path_store.path_ids(test.id, wanted) if self.traces else {}
        self.columns: dict[str, list] = {"test_id": [], "round_id": [], "agent_id": [], "traces": []}

    def add(self, agent, round_id: int, date: float, latency: float, down: bool) -> None:
        if not self.traces:
            return
        variant = "down" if down else "usual"
        if not down and (agent.id, "rerouted") in self.hops and self.reroute[0] <= round_id < self.reroute[1]:
            variant = "rerouted"
        hops = self.hops[(agent.id, variant)]
        path_id = self.ids[self.digests[(agent.id, variant)]]
        lossy = self.lossy[0] <= round_id < self.lossy[1]
        traces = [self._trace(i, path_id, hops, latency, down, lossy) for i in range(self.traces)]
        self.columns["test_id"].append(self.test.id)
        self.columns["round_id"].append(round_id)
        self.columns["agent_id"].append(agent.id)
        self.columns["traces"].append(path_format.encode(round_id, date, traces))

    def _trace(self, index, path_id, hops, latency, down, lossy) -> path_format.Trace:
        rnd = self.rng.random
        n = len(hops)
        times: list[float | None] = []
        lost: list[int] = []
        dropping = 0
        for h, (address, _) in enumerate(hops):
            if not address:
                times.append(None)
                lost.append(PROBES)
                continue
            # The access network takes the first few milliseconds, the transit the rest of the agent's latency;
            # each trace varies by up to ±2 %.
            base = 0.4 + (latency - 0.4) * ((h + 1) / n) ** 1.6 if h else 0.4
            times.append(round(base * (0.98 + 0.04 * rnd()), 2))
            if lossy and address == LOSSY_HOP and rnd() < 0.5:
                dropping = 1 + (rnd() < 0.3)
            lost.append(dropping)
        return path_format.Trace(
            index=index,
            path_id=path_id,
            reached=not down,
            times=times,
            sent=[PROBES] * n,
            lost=lost,
        )

    def flush(self) -> int:
        count = len(self.columns["round_id"])
        if count:
            results.upsert_columns("path", self.columns)
        self.columns = {name: [] for name in self.columns}
        return count * self.traces
