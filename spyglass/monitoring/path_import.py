"""`spyglass import` of v6 path-vis bodies (`{"net": {"pathVis": [...]}}`), both shapes:

- the detailed trace (`/v6/net/path-vis/{testId}/{agentId}/{roundId}`): entries with `pathTraces`, each hop read with
  the catalogue's hop fields (catalogue.HOP_FIELDS: hop, ipAddress, rdns, responseTime; prefix and network are
  not stored, the AS table gives them). A trace reached its target when its last hop is the entry's serverIp.
- the summary (`/v6/net/path-vis/{testId}`): entries with `endpoints` only, which name each trace's hop count and
  end but none of the hops between. Such a trace is stored with its end and hops of no address and no probe data
  (loss shown as unknown), and never replaces a round already stored: a detailed body imported before holds more.

v6 bodies carry no probe counts: imported hops have none (their loss is unknown). An entry's traces replace the
round's whole set (path_store.store with merge=False), so importing the same file again changes nothing."""

from . import path_store
from .catalogue import HOP_FIELDS, MAX_HOPS, MAX_TRACES, PATH
from .field_values import address, hops, imported_value
from .models import PathRound

_PATH_FIELDS = {f.name: f for f in PATH.fields}
_NOT_STORED = frozenset({"prefix", "network", "numMplsLabels", "mplsLabels", "location"})


def _text(raw: dict, name: str) -> str:
    value = raw.get(name)
    return imported_value(_PATH_FIELDS[name], value, name) if value is not None else ""


def traces(raw: dict, test) -> tuple[list[dict], bool]:
    """The trace rows of one pathVis entry (without test, agent, round and date), and whether it is a summary."""
    server = _text(raw, "server") or test.target
    server_ip = address(raw.get("serverIp"), "serverIp")
    source_ip = address(raw.get("sourceIp"), "sourceIp")
    common = {"server": server, "server_ip": server_ip, "source_ip": source_ip, "protocol": test.protocol or "TCP"}
    common["error_details"] = ""
    if "pathTraces" in raw:
        listed = raw["pathTraces"]
        summary = False
    elif "endpoints" in raw:
        listed = raw["endpoints"]
        summary = True
    else:
        raise ValueError("has neither pathTraces nor endpoints")
    if not isinstance(listed, list) or len(listed) > MAX_TRACES:
        raise ValueError(f"{'endpoints' if summary else 'pathTraces'} must be a list of at most {MAX_TRACES}")
    out = []
    for i, trace in enumerate(listed):
        where = f"{'endpoints' if summary else 'pathTraces'}[{i}]"
        if not isinstance(trace, dict):
            raise ValueError(f"{where} is not an object")
        read = (
            _summary_hops(trace, where)
            if summary
            else hops(trace.get("hops"), f"{where}.hops", imported_value, _NOT_STORED)
        )
        last = read[-1]["ip_address"] if read else ""
        reached = bool(last) and last == server_ip if not summary else read[-1]["response_time"] is not None
        out.append({**common, "trace_index": i, "reached": reached, "hops": read})
    return out, summary


def _summary_hops(endpoint: dict, where: str) -> list[dict]:
    """A summary's trace: `numberOfHops` hops, of which only the last (the endpoint) is known."""
    count = endpoint.get("numberOfHops")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_HOPS:
        raise ValueError(f"{where}.numberOfHops must be a whole number from 1 to {MAX_HOPS}")
    fields = {f.name: f for f in HOP_FIELDS}
    time = endpoint.get("responseTime")
    end = {
        "hop": count,
        "ip_address": address(endpoint.get("ipAddress"), f"{where}.ipAddress"),
        "rdns": "",
        "response_time": None
        if time is None
        else imported_value(fields["responseTime"], time, f"{where}.responseTime"),
        "sent": 0,
        "lost": 0,
    }
    between = [
        {"hop": h, "ip_address": "", "rdns": "", "response_time": None, "sent": 0, "lost": 0} for h in range(1, count)
    ]
    return [*between, end]


def store(rows: list[dict], summary_keys: set[tuple]) -> int:
    """Write imported trace rows; a summary's round is skipped where the round is already stored."""
    path_store.lock_agents(row["agent_id"] for row in rows)  # before the read: an upload may be storing the round
    if summary_keys:
        rounds = [k[1] for k in summary_keys]
        stored = set(
            PathRound.objects.filter(
                test_id__in={k[0] for k in summary_keys},
                agent_id__in={k[2] for k in summary_keys},
                round_id__gte=min(rounds),
                round_id__lte=max(rounds),
            ).values_list("test_id", "round_id", "agent_id")
        )
        rows = [r for r in rows if (r["test_id"], r["round_id"], r["agent_id"]) not in (stored & summary_keys)]
    return path_store.store(rows, merge=False)
