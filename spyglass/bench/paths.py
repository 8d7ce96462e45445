"""Bench row 12: what path traces cost on disk. Each distinct path is stored once (Path) and each agent's round as
one packed row (PathRound), so a round of 3 traces of an unchanging 15-hop path costs its times, not its addresses.

The size is the database's own count of the tables' bytes, indexes included (PostgreSQL: pg_total_relation_size;
SQLite: the dbstat table), grown while the row writes its test's traces, divided by agents × rounds."""

import random
import time

from .data import own_organization
from .rows import row

HOPS = 15
TRACES = 3


def _tables() -> list[str]:
    from spyglass.monitoring.models import Path, PathRound

    return [PathRound._meta.db_table, Path._meta.db_table]


def stored_bytes() -> int:
    """Bytes of the path tables and their indexes, as the database counts them."""
    from django.db import connection

    tables = _tables()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"SELECT SUM(pg_total_relation_size(t::regclass)) FROM unnest(ARRAY[{', '.join(['%s'] * len(tables))}]) t",
                tables,
            )
        else:
            cur.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                f"(SELECT name FROM sqlite_master WHERE tbl_name IN ({', '.join(['%s'] * len(tables))}))",
                tables,
            )
        return int(cur.fetchone()[0] or 0)


def _agent_paths(agents: int, rng: random.Random) -> list[tuple[list[str], list[float]]]:
    """Per agent, its 15 hop addresses and base response times (ms): its own access hops, a shared core."""
    out = []
    for i in range(agents):
        access = [f"10.{i // 250}.{i % 250}.1", f"100.64.{i % 250}.1", f"192.0.2.{i % 250 + 1}"]
        core = [f"198.51.100.{4 * h + 1}" for h in range(HOPS - 4)]
        addresses = access + core + ["203.0.113.10"]
        scale = rng.uniform(0.5, 3.0)  # 25 ms to 150 ms to the target
        base = [0.4, 1.2, 3.0] + [scale * (5 + 45 * (h + 1) / (HOPS - 3)) for h in range(HOPS - 3)]
        out.append((addresses, base))
    return out


def write_history(test, agents, rounds: list[int], change_every: int | None, rng: random.Random) -> None:
    """3 traces per agent and round through path_store.store (the agent API's writer); with `change_every`, hop 9 of
    each agent moves to another address every that many rounds (a new path each time)."""
    from spyglass.monitoring import path_store

    per_agent = _agent_paths(len(agents), rng)
    gauss = rng.gauss
    batch: list[dict] = []
    for n, round_id in enumerate(rounds):
        for agent, (addresses, base) in zip(agents, per_agent, strict=True):
            if change_every:
                k = n // change_every  # a new address, never seen before in this history
                addresses = [
                    *addresses[:8],
                    f"198.{18 + k // 62500 % 2}.{k // 250 % 250}.{k % 250 + 1}",
                    *addresses[9:],
                ]
            for index in range(TRACES):
                hops = [
                    {
                        "hop": h + 1,
                        "ip_address": address,
                        "rdns": f"hop{h + 1}.bench.example",
                        "response_time": round(t * (1 + gauss(0, 0.02)), 3),
                        "sent": 3,
                        "lost": 0,
                    }
                    for h, (address, t) in enumerate(zip(addresses, base, strict=True))
                ]
                batch.append(
                    {
                        "test_id": test.id,
                        "agent_id": agent.id,
                        "round_id": round_id,
                        "date": round_id + 1.5,
                        "trace_index": index,
                        "server": test.target,
                        "server_ip": addresses[-1],
                        "source_ip": f"10.0.0.{agent.id % 250 + 2}",
                        "protocol": "TCP",
                        "reached": True,
                        "hops": hops,
                        "error_details": "",
                    }
                )
        if len(batch) >= 9000 or n == len(rounds) - 1:
            path_store.store(batch, merge=False)
            batch = []


def _cost(name: str, agent_count: int, hours: int, change_every: int | None) -> tuple[float, float]:
    """(bytes per agent and round, seconds to write) of one test's history on an organization of its own."""
    from spyglass.lib.rounds import round_of
    from spyglass.monitoring.models import Agent

    tenant = own_organization(name, tests=1)
    (test,) = tenant.tests
    org_id = tenant.access.account_group.organization_id
    agents = [Agent.objects.create(organization_id=org_id, name=f"{name} {i}") for i in range(agent_count)]
    end = round_of(time.time(), 60)
    rounds = list(range(end - hours * 3600 + 60, end + 1, 60))
    before = stored_bytes()
    start = time.perf_counter()
    write_history(test, agents, rounds, change_every, random.Random(11))
    seconds = time.perf_counter() - start
    return (stored_bytes() - before) / (len(agents) * len(rounds)), seconds


@row(
    12,
    "path trace storage: bytes stored per (agent, round) for 3 traces of an unchanging 15-hop path, 50 agents × 48 h "
    "(the path tables' size with indexes ÷ agents × rounds); a changing path in the detail",
    "<= 200",
)
def path_storage(data):
    """The changing paths are measured on 10 agents × 6 h: what a round costs does not depend on how many there are,
    and a full history each would add minutes to the run."""
    steady, seconds = _cost("paths", data.agents, data.hours, None)
    hourly, _ = _cost("paths hourly", 10, 6, 60)
    every, _ = _cost("paths every round", 10, 6, 1)
    return steady, (
        f"{steady:.0f} B per agent and round ({data.agents} agents × {data.hours * 60} rounds, written through the "
        f"agent API's writer in {seconds:.1f} s); a path that changes every hour {hourly:.0f} B, every round "
        f"{every:.0f} B (10 agents × 6 h)"
    )
