"""A round of path traces in the shape spyglass.monitoring.paths.view_data returns (docs/path-visualization.md):
two agents whose paths meet at a shared core router, one unknown hop, a run of five core hops (folded until opened),
loss from one hop onward, and user-written text that must stay text."""

CORE = ["198.18.5.1", "198.18.6.1", "198.18.7.1", "198.18.8.1", "198.18.9.1"]
TARGET_IP = "198.18.9.2"
EVIL_RDNS = '<img src=x id="evil-rdns">core1.example'


def hop(n, address, rtt, loss=0.0, rdns="", network="AS64500 Example Transit", prefix="198.18.0.0/15"):
    if address is None:
        return {
            "hop": n,
            "ipAddress": None,
            "prefix": "",
            "rdns": "",
            "network": "",
            "responseTime": None,
            "loss": None,
        }
    return {
        "hop": n,
        "ipAddress": address,
        "prefix": prefix,
        "rdns": rdns,
        "network": network,
        "responseTime": rtt,
        "loss": loss,
    }


def core_hops(first: int, rtt: float) -> list[dict]:
    hops = []
    for i, address in enumerate(CORE):
        # The link into 198.18.8.1 drops 10 %: that hop and every one after it show the loss.
        loss = 10.0 if address in ("198.18.8.1", "198.18.9.1") else 0.0
        rdns = EVIL_RDNS if address == CORE[0] else f"core{i + 1}.example"
        hops.append(hop(first + i, address, rtt + 5 * (i + 1), loss, rdns))
    hops.append(hop(first + len(CORE), TARGET_IP, rtt + 40, 10.0, "target.example"))
    return hops


def view_data(agents, round_id: int, rounds: list[int], changed_agent=None) -> dict:
    """`agents`: two Agent rows. The first reaches the core through its access router and one router that never
    answers; the second straight through its own access router."""
    first, second = agents
    traces_a = [hop(1, "198.18.1.1", 0.4, rdns="gw.frankfurt.example"), hop(2, None, None), *core_hops(3, 1.0)]
    traces_b = [hop(1, "198.18.2.1", 0.3, rdns="gw.paris.example"), *core_hops(2, 0.8)]
    return {
        "roundId": round_id,
        "rounds": rounds,
        "target": {"server": "example.com:443", "serverIp": TARGET_IP},
        "agents": [
            {
                "agentId": str(agent.id),
                "agentName": agent.name,
                "sourceIp": source,
                "changed": agent.id == getattr(changed_agent, "id", None),
                "traces": [{"pathId": f"p{agent.id}", "reached": True, "hops": hops} for _ in range(3)],
            }
            for agent, source, hops in ((first, "198.18.1.2", traces_a), (second, "198.18.2.2", traces_b))
        ],
    }
