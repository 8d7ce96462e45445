"""Writing path traces: each distinct path once (Path), each agent's round as one packed PathRound row.

A trace arrives as one row per (test, round, agent, traceIndex) — from the agent API (rows.py validates it through
the field catalogue), `spyglass seed` and `spyglass import`. Its path (server, serverIp, sourceIp and the hop
addresses) is looked up by digest and created when new; the round's row keeps, per trace, the path's id and the
hops' times and losses (path_format.py). Writing a trace index again replaces that trace: the round's other traces
are kept (merge=True, as agents send them), or the whole round is replaced (merge=False: an import or the seed
brings every trace of a round at once). The row goes through results.upsert_columns, so the lock against a freeze,
the copy for a snapshot frozen before, and the hour's count are those of every other result.

Merging reads the stored row and writes it back: two uploads of one agent's round at once would each write back
what they read without the other's traces. So writers of an agent's rounds take turns (lock_agents)."""

import hashlib
import json
from collections import defaultdict

from django.db import connection, transaction
from django.db.models.functions import Greatest, Least

from . import path_format, results
from .models import Path, PathRound

# A path's last round is moved on at most this often: each move writes a new version of its row (on PostgreSQL
# about 12 bytes per agent and round when it was hourly, bench row 11). Retention allows for the lag.
TOUCH_SECONDS = 86400

# The first key of the PostgreSQL advisory locks of lock_agents (the two-key form: never one of results.py's locks).
_AGENT_ROUNDS_LOCK = 0x53505054


def lock_agents(agent_ids) -> None:
    """Hold other writers of these agents' path rounds until the caller's transaction ends; call it before reading
    a stored round that is written back, and before taking any other lock (an upload writes its path rows first:
    agent_service.store_batch), so that waiting for it can close no circle.

    One lock per agent, not per round: an upload takes one (one per round would fill PostgreSQL's shared lock table
    with a spool's worth of rounds), and an agent's own uploads rarely overlap. The reads that follow see what the
    writer before committed (Django's READ COMMITTED: each statement reads the latest commits). SQLite needs no
    lock: its transactions begin IMMEDIATE (settings.py), so a second writer waits before its first read."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for agent_id in sorted(set(agent_ids)):
                cur.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [_AGENT_ROUNDS_LOCK, agent_id % 2**31]
                )  # ids past 2³¹ share one: a wait


def digest(server: str, server_ip: str, source_ip: str, addresses: list[str]) -> str:
    """The identity of a path: what it connects and the addresses of its hops ("" for an unknown hop)."""
    text = json.dumps([server, server_ip, source_ip, addresses], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _path_of(row: dict) -> tuple[str, list]:
    addresses = [hop["ip_address"] for hop in row["hops"]]
    names = [[hop["ip_address"], hop["rdns"] if hop["ip_address"] else ""] for hop in row["hops"]]
    return digest(row["server"], row["server_ip"], row["source_ip"], addresses), names


def path_ids(test_id: int, wanted: dict[str, tuple[dict, list, int, int]]) -> dict[str, int]:
    """{digest: Path id} of a test's paths, creating those not stored yet. `wanted`: digest → (a row taking it, its
    [address, rdns] hops, the first and last round taking it). A name reported for a hop whose stored name is empty
    fills it in; the path's last round is moved on at most once a day (TOUCH_SECONDS; retention.py allows for it)."""
    found = {p.digest: p for p in Path.objects.filter(test_id=test_id, digest__in=list(wanted))}
    missing = [d for d in wanted if d not in found]
    if missing:
        Path.objects.bulk_create(
            [
                Path(
                    test_id=test_id,
                    digest=d,
                    server=wanted[d][0]["server"],
                    server_ip=wanted[d][0]["server_ip"],
                    source_ip=wanted[d][0]["source_ip"],
                    hops=wanted[d][1],
                    first_round=wanted[d][2],
                    last_round=wanted[d][3],
                )
                for d in missing
            ],
            ignore_conflicts=True,  # another writer created it meanwhile: the same path
        )
        found.update({p.digest: p for p in Path.objects.filter(test_id=test_id, digest__in=missing)})
    for d, path in found.items():
        _, names, first, last = wanted[d]
        changes: dict = {}
        named = [[address, old or new] for (address, old), (_, new) in zip(path.hops, names, strict=True)]
        if named != path.hops:
            changes["hops"] = named
        if first < path.first_round:
            changes["first_round"] = Least("first_round", first)
        if last > path.last_round + TOUCH_SECONDS:
            changes["last_round"] = Greatest("last_round", last)
        if changes:
            Path.objects.filter(id=path.id).update(**changes)
    return {d: path.id for d, path in found.items()}


def _trace(row: dict, path_id: int) -> path_format.Trace:
    hops = row["hops"]
    return path_format.Trace(
        index=row["trace_index"],
        path_id=path_id,
        reached=bool(row["reached"]),
        icmp=row["protocol"] == "ICMP",
        error=row["error_details"],
        times=[hop["response_time"] for hop in hops],
        sent=[hop["sent"] for hop in hops],
        lost=[hop["lost"] for hop in hops],
    )


@transaction.atomic
def store(rows: list[dict], merge: bool = True) -> int:
    """Write path trace rows ({test_id, round_id, agent_id, date, trace_index, server, server_ip, source_ip,
    protocol, reached, hops: [{hop, ip_address, rdns, response_time, sent, lost}], error_details}, dates in epoch
    seconds). Returns the number of traces written."""
    if not rows:
        return 0
    lock_agents(row["agent_id"] for row in rows)
    by_test: dict[int, dict] = defaultdict(dict)
    identities = []
    for row in rows:
        d, names = _path_of(row)
        r = row["round_id"]
        _, _, first, last = by_test[row["test_id"]].get(d, (row, names, r, r))
        by_test[row["test_id"]][d] = (row, names, min(first, r), max(last, r))
        identities.append(d)
    ids = {test_id: path_ids(test_id, wanted) for test_id, wanted in by_test.items()}
    rounds: dict[tuple, dict] = {}
    dates: dict[tuple, float] = {}
    for row, d in zip(rows, identities, strict=True):
        key = (row["test_id"], row["round_id"], row["agent_id"])
        rounds.setdefault(key, {})[row["trace_index"]] = _trace(row, ids[row["test_id"]][d])
        dates[key] = min(dates.get(key, row["date"]), row["date"])
    if merge:
        for key, (date, kept) in _stored(list(rounds)).items():
            for trace in kept:
                rounds[key].setdefault(trace.index, trace)
            dates[key] = min(dates[key], date)
    keys = sorted(rounds)
    columns = {
        "test_id": [k[0] for k in keys],
        "round_id": [k[1] for k in keys],
        "agent_id": [k[2] for k in keys],
        "traces": [path_format.encode(k[1], dates[k], list(rounds[k].values())) for k in keys],
    }
    results.upsert_columns("path", columns)
    return len(rows)


def _stored(keys: list[tuple]) -> dict[tuple, tuple[float, list]]:
    """The stored rounds among `keys` (test, round, agent), decoded."""
    wanted = set(keys)
    rounds = [k[1] for k in keys]
    found = PathRound.objects.filter(
        test_id__in={k[0] for k in keys},
        agent_id__in={k[2] for k in keys},
        round_id__gte=min(rounds),
        round_id__lte=max(rounds),
    ).values_list("test_id", "round_id", "agent_id", "traces")
    out = {}
    for test_id, round_id, agent_id, packed in found:
        if (test_id, round_id, agent_id) in wanted:
            out[(test_id, round_id, agent_id)] = path_format.decode(round_id, packed)
    return out
