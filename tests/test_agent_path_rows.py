"""The agent's path rows (contract §2) on loopback: one row per trace, keyed apart in the spool, within the round,
and uploaded: the server stores them and shows them in /v6/net/path-vis."""

import os
import time

import pytest

from spyglass.agent.measure import run_assignment
from spyglass.agent.runtime import AgentRuntime
from spyglass.agent.spool import Spool, key_of
from spyglass.monitoring.agent_service import issue_agent_token
from spyglass.monitoring.models import Agent, NetResult
from tests.agent_helpers import TcpService, round_start_clock, wait_for
from tests.conftest import make_test

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="path traces need raw sockets (CAP_NET_RAW): run as root")


@pytest.fixture
def service():
    tcp = TcpService()
    yield tcp
    tcp.close()


def assignment(port: int, **settings) -> dict:
    a = {"testId": 3, "type": "agent-to-server", "interval": 60, "server": "127.0.0.1", "port": port}
    return {**a, "protocol": "TCP", "probeCount": 3, "probeSpacing": 10, **settings}


def test_each_trace_is_a_row_and_the_spool_keeps_them_apart(service, tmp_path):
    now = time.time()
    round_id = int(now)  # the run starts at its round's start (a round late in its minute would leave no time)
    rows = run_assignment(assignment(service.port), round_id, now)  # no numPathTraces: 3
    paths = [r for r in rows if r["kind"] == "path"]
    assert [r["traceIndex"] for r in paths] == [0, 1, 2]
    for row in paths:
        assert row["server"] == f"127.0.0.1:{service.port}" and row["date"] == now and row["roundId"] == round_id
        assert row["reached"] is True and row["errorDetails"] == ""
        (hop,) = row["hops"]
        assert hop["ipAddress"] == "127.0.0.1" and hop["sent"] == 3 and hop["lost"] == 0
        assert hop["responseTime"] >= 0
    spool = Spool(tmp_path)
    spool.add(rows)
    assert spool.depth() == 4 and len({key_of(r) for r in rows}) == 4


def test_traces_that_would_outlast_the_round_are_not_started(service):
    round_id = int(time.time() // 60 * 60)
    # The run starts 58.5 s into its 60 s round (as the scheduler's clock tells it): too late for any trace.
    rows = run_assignment(assignment(service.port, numPathTraces=2), round_id, round_id + 58.5)
    paths = [r for r in rows if r["kind"] == "path"]
    assert [(r["hops"], r["reached"]) for r in paths] == [([], False)] * 2
    assert all("no time left in the round" in r["errorDetails"] for r in paths)
    assert [r["errorType"] for r in rows if r["kind"] == "net"] == ["None"]


def test_icmp_traces_and_none_at_all(service):
    now = time.time()
    icmp = run_assignment(assignment(0, protocol="ICMP", numPathTraces=1), int(now), now)
    assert [(r["protocol"], r["reached"]) for r in icmp if r["kind"] == "path"] == [("ICMP", True)]
    assert [r["kind"] for r in run_assignment(assignment(service.port, numPathTraces=0), int(now))] == ["net"]


@pytest.mark.django_db(transaction=True)
def test_the_agent_uploads_its_traces_and_the_server_shows_them(cast, live_server, service, tmp_path):
    organization = cast.owner.user.default_account_group.organization
    agent = Agent.objects.create(organization=organization, name="tracer-1")
    test = make_test(
        cast.owner, name="traced", server=f"127.0.0.1:{service.port}", numPathTraces=2, agents=[{"agentId": agent.id}]
    )
    token = issue_agent_token(organization.id, "tracing agents")
    runtime = AgentRuntime(live_server.url, token, "tracer-1", spool_dir=tmp_path, clock=round_start_clock(), spread=0)
    assert runtime.start()
    try:
        wait_for(lambda: NetResult.objects.filter(test=test).exists() and runtime.spool.depth() == 0, timeout=30)
        assert runtime.spool.rejected == 0  # the server took every row, path rows included
    finally:
        runtime.close()
    round_id = NetResult.objects.get(test=test).round_id
    body = cast.owner.client.get(f"/v6/net/path-vis/{test.id}/{agent.id}/{round_id}.json").json()
    (entry,) = body["net"]["pathVis"]
    assert len(entry["pathTraces"]) == 2
    assert [h["ipAddress"] for h in entry["pathTraces"][0]["hops"]] == ["127.0.0.1"]
