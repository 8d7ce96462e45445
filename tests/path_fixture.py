"""Path traces for the Path Visualization View's tests (whose tests are made with numPathTraces=0, so that `spyglass
seed` writes their network rows and no traces of its own), written through the real storage (path_store.store, which
writes through results.upsert like every result, so freezing and copy-on-write apply), and a prefix-to-AS table.

Two agents whose paths meet at a shared core router; the first agent's path crosses one router that never answers
(an unknown hop) and changed in the last round (before it, it went through 198.18.100.1); a run of four core hops with
one way in and one way out (folded until opened); 10 % loss from 198.18.8.1 onward; reverse DNS with markup."""

from spyglass.monitoring import asn, path_store

CORE = ["198.18.5.1", "198.18.6.1", "198.18.7.1", "198.18.8.1", "198.18.9.1"]
TARGET_IP = "198.18.9.2"
EVIL_RDNS = '<img src=x id="evil-rdns">core1.example'
NETWORK = "AS64500 Example Transit"


def load_networks():
    asn.load(asn.parse_prefixes(["198.18.0.0\t15\t64500"]), asn.parse_names(["64500 Example Transit"]), "test")


def hop(address, rtt, lost=0, rdns=""):
    return {"ip_address": address, "rdns": rdns, "response_time": rtt, "sent": 10, "lost": lost}


def core_hops(rtt: float) -> list[dict]:
    hops = []
    for i, address in enumerate(CORE):
        lost = 1 if address in ("198.18.8.1", "198.18.9.1") else 0  # the link into 198.18.8.1 drops 10 %
        hops.append(hop(address, rtt + 5 * (i + 1), lost, EVIL_RDNS if i == 0 else f"core{i + 1}.example"))
    hops.append(hop(TARGET_IP, rtt + 40, 1, "target.example"))
    return hops


def first_agent_hops(changed: bool) -> list[dict]:
    middle = hop(None, None, 10) if changed else hop("198.18.100.1", 0.7, 0, "old.frankfurt.example")
    return [hop("198.18.1.1", 0.4, 0, "gw.frankfurt.example"), middle, *core_hops(1.0)]


def second_agent_hops(via="198.18.2.1") -> list[dict]:
    return [hop(via, 0.3, 0, "gw.paris.example"), *core_hops(0.8)]


def rows(test, agent, round_id, hops, source_ip, reached=True) -> list[dict]:
    return [
        {
            "test_id": test.id,
            "round_id": round_id,
            "agent_id": agent.id,
            "date": round_id + 1.5,
            "trace_index": index,
            "server": "example.com:443",
            "server_ip": TARGET_IP,
            "source_ip": source_ip,
            "protocol": "TCP",
            "reached": reached,
            "hops": [{**h, "hop": n} for n, h in enumerate(hops, 1)],
            "error_details": "",
        }
        for index in range(3)
    ]


def trace_rounds(test, agents, round_ids) -> None:
    """Every round of `round_ids` traced by every agent; the first agent's path changes in the last one, the others
    reach the core each through an access router of its own (198.18.2.1, 198.18.3.1, …)."""
    first, *others = agents
    batch = []
    for r in round_ids:
        batch += rows(test, first, r, first_agent_hops(changed=r == round_ids[-1]), "198.18.1.2")
        for i, agent in enumerate(others):
            batch += rows(test, agent, r, second_agent_hops(f"198.18.{2 + i}.1"), f"198.18.{2 + i}.2")
    path_store.store(batch)
