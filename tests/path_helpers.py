"""Path trace rows for tests, written through path_store.store (what the agent API calls after validation)."""

from spyglass.monitoring import path_store

CORE = ["198.18.1.1", "", "198.18.3.1", "198.18.9.2"]


def trace_row(test, agent, round_id, index=0, addresses=CORE, base=1.0, lost=None, source="198.18.0.2"):
    """One trace: hop i answers in base * (i + 1) ms (an unknown hop "" answers nothing, all its probes lost)."""
    lost = lost or {}
    hops = [
        {
            "hop": i + 1,
            "ip_address": a,
            "rdns": f"r{i + 1}.example" if a else "",
            "response_time": round(base * (i + 1) + index * 0.01, 2) if a else None,
            "sent": 3,
            "lost": 3 if not a else lost.get(i + 1, 0),
        }
        for i, a in enumerate(addresses)
    ]
    return {
        "test_id": test.id,
        "agent_id": agent.id,
        "round_id": round_id,
        "date": round_id + 2.0,
        "trace_index": index,
        "server": test.target,
        "server_ip": addresses[-1],
        "source_ip": source,
        "protocol": "TCP",
        "reached": True,
        "hops": hops,
        "error_details": "",
    }


def write_traces(test, agents, round_ids, traces=3, **options):
    rows = [trace_row(test, agent, r, i, **options) for r in round_ids for agent in agents for i in range(traces)]
    return path_store.store(rows, merge=False)
