"""Path traces proven on a real multi-hop network (tests/netlab/chain.py): agent ↔ r1 ↔ r2 ↔ r3 ↔ target, network
namespaces joined by veth pairs, kernels forwarding and answering expired probes with ICMP time-exceeded; r2 never
answers (iptables), and the r2 → r3 link runs through the TUN relay that adds delay and loss.

The agent's probe runs inside the agent's namespace (a Python child under `ip netns exec`), as root or without
CAP_NET_RAW, and hands back the rows it would upload (contract §2). Debian's traceroute and mtr look at the same
network in the same run. Needs root; elsewhere these tests skip and say why."""

import json
import statistics

import pytest

from tests.netlab import NetlabUnavailable, measuring_thread_not_starved  # noqa: F401  (autouse)
from tests.netlab.chain import R1, R3, R4, TARGET, Chain

pytestmark = [pytest.mark.netns, pytest.mark.slow]

DELAY_MS, LOSS = 40.0, 0.10
EXPECTED = [R1, None, R3, TARGET]  # r2 is the unknown hop
NAMES = {R1: "r1.lab.test", R3: "r3.lab.test"}  # reverse DNS; the target's address has no name (NXDOMAIN)
ROUND = 1_800_000_000 // 60 * 60

# The agent's side, run in the agent's namespace: the rows run_assignment builds for one round.
RUN_ROUND = """
import json, sys
from spyglass.agent.measure import run_assignment
from spyglass.agent.probes.trace import raw_socket_problem
rows = run_assignment(json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[2]))  # run at its round's start
print(json.dumps({"rows": rows, "problem": raw_socket_problem()}))
"""
# Many traces at once, several flows side by side (each trace is one flow): enough probes per hop for loss.
MANY_TRACES = """
import json, os, sys
from concurrent.futures import ThreadPoolExecutor
from spyglass.agent.probes.trace import trace
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
target, port, count, probes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with ThreadPoolExecutor(5) as pool:
    traces = list(pool.map(lambda _: trace(target, port, probes_per_hop=probes), range(count)))
print(json.dumps(traces))
"""


@pytest.fixture(scope="module")
def chain():
    try:
        lab = Chain().up()
        lab.serve_target()
        lab.serve_names(NAMES)
    except NetlabUnavailable as exc:
        pytest.skip(f"no multi-hop network here: {exc}")
    yield lab
    lab.down()


def assignment(**settings) -> dict:
    base = {"testId": 7, "type": "agent-to-server", "interval": 60, "server": TARGET, "port": 7000}
    return {**base, "protocol": "TCP", "probeCount": 5, "probeSpacing": 10, "numPathTraces": 3, **settings}


def run_round(chain: Chain, a: dict, privileged: bool = True, round_id: int = ROUND) -> dict:
    return chain.agent_python(RUN_ROUND, json.dumps(a), str(round_id), privileged=privileged)


def paths(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["kind"] == "path"]


def addresses(path_row: dict) -> list[str | None]:
    return [hop["ipAddress"] for hop in path_row["hops"]]


def traceroute(chain: Chain, *args: str) -> list[str | None]:
    """The hop addresses Debian's traceroute reports (None for a hop of `* * *`)."""
    out = chain.run("agent", "traceroute", "-n", "-q", "3", "-w", "1", *args, TARGET).stdout
    hops = []
    for line in out.splitlines()[1:]:
        fields = [f for f in line.split()[1:] if f != "*" and not f.startswith("!")]
        hops.append(next((f for f in fields if f.count(".") == 3), None))
    return hops


def mtr(chain: Chain, *args: str, count: int = 10) -> list[dict]:
    """mtr's report (mtr-tiny, --json): one hub per hop, host "???" where nothing answered."""
    command = ["chrt", "-f", "10", "mtr", "-n", "--json", "-c", str(count), "-i", "0.1", "-m", "10", *args, TARGET]
    return json.loads(chain.run("agent", *command).stdout)["report"]["hubs"]


def mtr_addresses(hubs: list[dict]) -> list[str | None]:
    return [None if hub["host"] == "???" else hub["host"] for hub in hubs]


def test_hops_are_what_traceroute_and_mtr_see_and_the_silent_router_is_an_unknown_hop(chain):
    chain.shape(DELAY_MS)
    done = run_round(chain, assignment())
    net = [r for r in done["rows"] if r["kind"] == "net"]
    assert done["problem"] == ""
    assert net[0]["errorType"] == "None" and net[0]["serverIp"] == TARGET
    traces = paths(done["rows"])
    assert [t["traceIndex"] for t in traces] == [0, 1, 2]
    for t in traces:
        assert t["testId"] == 7 and t["roundId"] == ROUND and t["server"] == f"{TARGET}:7000"
        assert (t["protocol"], t["serverIp"], t["sourceIp"], t["errorDetails"]) == ("TCP", TARGET, "198.19.1.2", "")
        assert t["reached"] is True
        assert addresses(t) == EXPECTED
        unknown = t["hops"][1]
        assert unknown == {"hop": 2, "ipAddress": None, "rdns": "", "responseTime": None, "sent": 3, "lost": 3}
        assert [h["hop"] for h in t["hops"]] == [1, 2, 3, 4]
        assert [h["rdns"] for h in t["hops"]] == ["r1.lab.test", "", "r3.lab.test", ""]
    assert traceroute(chain, "-T", "-p", "7000") == EXPECTED
    assert mtr_addresses(mtr(chain, "-T", "-P", "7000")) == EXPECTED

    icmp = paths(run_round(chain, assignment(protocol="ICMP", port=0, numPathTraces=1))["rows"])
    assert [(t["protocol"], t["reached"], addresses(t)) for t in icmp] == [("ICMP", True, EXPECTED)]
    assert traceroute(chain, "-I") == EXPECTED
    assert mtr_addresses(mtr(chain)) == EXPECTED


def test_http_and_dns_tests_with_network_measurements_trace_to_their_port(chain):
    chain.shape(0)
    http = {"testId": 8, "type": "http-server", "interval": 60, "url": f"http://{TARGET}:8000/", "httpTimeLimit": 5}
    rows = run_round(chain, {**http, "networkMeasurements": True, "numPathTraces": 2})["rows"]
    assert sorted(r["kind"] for r in rows) == ["http", "net", "path", "path"]
    assert {(t["server"], t["reached"], tuple(addresses(t))) for t in paths(rows)} == {
        (f"{TARGET}:8000", True, tuple(EXPECTED))
    }
    dns = {"testId": 9, "type": "dns-server", "interval": 60, "domain": "www.demo.test A", "dnsServers": [TARGET]}
    rows = run_round(chain, {**dns, "networkMeasurements": True})["rows"]  # no numPathTraces: 3, the default
    assert [(t["server"], addresses(t)) for t in paths(rows)] == [(f"{TARGET}:53", EXPECTED)] * 3
    assert paths(run_round(chain, {**dns, "networkMeasurements": False})["rows"]) == []
    assert paths(run_round(chain, assignment(numPathTraces=0))["rows"]) == []


def test_round_trip_times_behind_the_delayed_link_match_mtr(chain):
    chain.shape(DELAY_MS)
    traces = chain.agent_python(MANY_TRACES, TARGET, "7000", "10", "10")
    hubs = mtr(chain, "-T", "-P", "7000", count=60)
    for index in (2, 3):  # r3 and the target, behind the delayed link
        ours = statistics.median(t["hops"][index]["responseTime"] for t in traces)
        theirs = hubs[index]["Avg"]
        print(f"\nhop {index + 1}: spyglass {ours:.3f} ms, mtr avg {theirs:.3f} ms (best {hubs[index]['Best']})")
        assert ours >= DELAY_MS
        # Our median against mtr's best and average over the same hop: a busy moment lifts mtr's average (44.7 ms
        # once, best 40.2, where ours said 40.1), so ours must lie between its best and its average, give or take.
        slack = max(1.0, 0.03 * theirs)
        assert hubs[index]["Best"] - slack <= ours <= theirs + slack
    first = statistics.median(t["hops"][0]["responseTime"] for t in traces)
    assert first < 5.0  # before the delayed link


def test_loss_shows_from_the_lossy_link_onward(chain):
    # 100 traces x 10 probes = 1,000 probes per hop: at 10 % loss one standard deviation is 0.95 points, so ±3
    # points is more than 3 of them.
    chain.shape(DELAY_MS, LOSS, seed=11)
    traces = chain.agent_python(MANY_TRACES, TARGET, "7000", "100", "10")
    assert all(t["reached"] and addresses(t)[:3] == EXPECTED[:3] for t in traces)
    sent = [sum(t["hops"][i]["sent"] for t in traces) for i in range(4)]
    lost = [sum(t["hops"][i]["lost"] for t in traces) for i in range(4)]
    loss = [100.0 * lost[i] / sent[i] for i in range(4)]
    print(f"\nloss per hop over {sent} probes: {[round(x, 2) for x in loss]} %")
    assert loss[0] == 0.0
    assert loss[1] == 100.0  # the unknown hop
    assert abs(loss[2] - LOSS * 100) <= 3.0
    assert abs(loss[3] - LOSS * 100) <= 3.0


def test_a_moved_route_shows_as_a_different_hop_sequence_in_the_next_round(chain):
    chain.shape(0)
    before = paths(run_round(chain, assignment(numPathTraces=1), round_id=ROUND)["rows"])
    chain.run("r1", "ip", "route", "replace", "default", "via", R4)
    try:
        after = paths(run_round(chain, assignment(numPathTraces=1), round_id=ROUND + 60)["rows"])
    finally:
        chain.run("r1", "ip", "route", "replace", "default", "via", "198.19.2.2")
    assert [addresses(t) for t in before] == [EXPECTED]
    assert [addresses(t) for t in after] == [[R1, R4, R3, TARGET]]
    assert after[0]["roundId"] == ROUND + 60


def test_without_cap_net_raw_the_other_results_keep_coming_and_the_reason_is_given(chain):
    chain.shape(0)
    done = run_round(chain, assignment(), privileged=False)
    assert done["problem"].startswith("path traces unavailable: raw sockets need CAP_NET_RAW")
    assert paths(done["rows"]) == []  # no rows at all: the heartbeat says why, not a row per round
    (net,) = done["rows"]
    assert net["kind"] == "net" and net["errorType"] == "None" and net["loss"] == 0.0


def test_a_destination_that_drops_the_probes_ends_the_trace_after_a_run_of_unknown_hops(chain):
    chain.shape(DELAY_MS)
    chain.run("target", "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "7001", "-j", "DROP")
    try:
        (t,) = paths(run_round(chain, assignment(port=7001, numPathTraces=1))["rows"])
    finally:
        chain.run("target", "iptables", "-D", "INPUT", "-p", "tcp", "--dport", "7001", "-j", "DROP")
    assert t["reached"] is False
    assert addresses(t) == [R1, None, R3] + [None] * 8  # the target and beyond: silent, then the trace gives up
    assert "no answer from 8 hops in a row" in t["errorDetails"]


def test_each_trace_keeps_to_one_path_through_a_load_balancer(chain):
    # r1 balances flows over r2 and r4 by their ports (ECMP with the layer-4 hash): a trace whose probes changed
    # ports would see hop 2 answer some probes (r4) and not others (r2, silent). Paris-style, each trace is one flow.
    chain.shape(0)
    chain.sysctl(chain.ns("r1"), "net.ipv4.fib_multipath_hash_policy=1")
    chain.run("r1", "ip", "route", "replace", "default", "nexthop", "via", "198.19.2.2", "nexthop", "via", R4)
    try:
        traces = chain.agent_python(MANY_TRACES, TARGET, "7000", "16", "3")
    finally:
        chain.run("r1", "ip", "route", "replace", "default", "via", "198.19.2.2")
        chain.sysctl(chain.ns("r1"), "net.ipv4.fib_multipath_hash_policy=0")
    seen = {tuple(addresses(t)) for t in traces}
    assert all(t["hops"][1]["lost"] in (0, 3) for t in traces), [t["hops"][1] for t in traces]
    # 16 flows: both ways are taken (all 16 on one way by chance: 2 in 65,536).
    assert seen == {(R1, None, R3, TARGET), (R1, R4, R3, TARGET)}
