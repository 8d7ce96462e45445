"""No data lost: results wait in the on-disk spool through server outages and agent restarts, are re-sent once per
key, and the bounded spool drops its oldest rows, counted and reported in the heartbeat."""

import json
from collections import Counter

import pytest

from spyglass.agent.runtime import AgentRuntime
from spyglass.agent.spool import Spool, key_of
from spyglass.monitoring.agent_service import issue_agent_token
from spyglass.monitoring.models import Agent, DnsResult, NetResult
from tests.agent_helpers import TcpService, ToggleProxy, round_start_clock, wait_for
from tests.conftest import make_test


def row(test_id, round_id, kind="net", **extra):
    return {"kind": kind, "testId": test_id, "roundId": round_id, "date": round_id + 1, **extra}


def test_the_spool_keeps_rows_across_reopening_and_forgets_only_what_was_acknowledged(tmp_path):
    spool = Spool(tmp_path)
    spool.add([row(1, 60), row(1, 120)], test_id=1, round_id=120)
    first = spool.batch()
    spool.ack([first[0][0]])
    spool.close()
    again = Spool(tmp_path)
    assert [r["roundId"] for _, r in again.batch()] == [120]
    assert again.done_rounds() == {1: 120}


def test_the_spool_holds_one_row_per_key_and_keeps_a_row_replaced_while_in_flight(tmp_path):
    spool = Spool(tmp_path)
    spool.add([row(1, 60, avgLatency=1.0)])
    in_flight = spool.batch()
    spool.add([row(1, 60, avgLatency=2.0)])  # measured again before the server answered
    spool.ack([seq for seq, _ in in_flight])
    assert [r["avgLatency"] for _, r in spool.batch()] == [2.0]
    assert spool.depth() == 1


def test_the_spool_is_bounded_dropping_the_oldest_and_counting_them(tmp_path):
    spool = Spool(tmp_path, max_rows=3)
    spool.add([row(1, r) for r in (60, 120)])
    spool.add([row(1, r) for r in (180, 240, 300)])
    assert [r["roundId"] for _, r in spool.batch()] == [180, 240, 300]
    assert spool.dropped == 2
    spool.close()
    assert Spool(tmp_path, max_rows=3).dropped == 2  # the count survives restarts


def measured(runtime) -> list[str]:
    """The kinds of the spooled rows other than path traces (which come and go with the traced tests)."""
    return sorted(row["kind"] for _, row in runtime.spool.batch(1000) if row["kind"] != "path")


def sent_keys_recorder():
    """httpx response hook: the keys of every result batch the server accepted."""
    keys = []

    def hook(response):
        if response.request.url.path.endswith("/results") and response.status_code == 200:
            keys.extend(key_of(r) for r in json.loads(response.request.content)["results"])

    return keys, hook


@pytest.fixture
def agent_setup(cast, live_server):
    organization = cast.owner.user.default_account_group.organization
    token = issue_agent_token(organization.id, "test agents")
    host, port = live_server.url.removeprefix("http://").split(":")
    proxy = ToggleProxy(host, int(port))
    service = TcpService()
    yield cast, token, proxy, service
    proxy.down()
    service.close()


def start_agent(proxy, token, spool_dir, hook, clock, spool_rows=1000) -> AgentRuntime:
    runtime = AgentRuntime(
        proxy.url,
        token,
        "lab-1",
        spool_dir=spool_dir,
        spool_rows=spool_rows,
        clock=clock,
        spread=0,
        control_seconds=0.3,
        upload_seconds=0.2,
        event_hooks={"response": [hook]},
    )
    assert runtime.start()
    return runtime


@pytest.mark.django_db(transaction=True)
def test_results_survive_an_outage_and_a_restart_and_arrive_once_per_key(agent_setup, tmp_path):
    cast, token, proxy, service = agent_setup
    keys, hook = sent_keys_recorder()
    clock = round_start_clock()
    agent = Agent.objects.create(organization=cast.owner.user.default_account_group.organization, name="lab-1")
    tcp = make_test(
        cast.owner, "agent-to-server", name="tcp", server=f"127.0.0.1:{service.port}", agents=[{"agentId": agent.id}]
    )
    dns = make_test(
        cast.owner,
        "dns-server",
        name="dns",
        dnsServers=[{"serverName": "127.0.0.1:9"}],
        agents=[{"agentId": agent.id}],
        networkMeasurements=0,
    )

    runtime = start_agent(proxy, token, tmp_path, hook, clock)
    proxy.down()  # the server becomes unreachable just as the round runs
    # One net row (tcp), one dns row; the tcp test's path traces (kind "path") wait beside them.
    wait_for(lambda: measured(runtime) == ["dns", "net"], timeout=30)
    assert NetResult.objects.count() == DnsResult.objects.count() == 0
    runtime.close()  # the agent restarts while the server is still down

    proxy.up()
    runtime = start_agent(proxy, token, tmp_path, hook, clock)
    wait_for(lambda: runtime.spool.depth() == 0 and NetResult.objects.count() == 1 and DnsResult.objects.count() == 1)
    runtime.close()

    assert Counter(k for k in keys if not k.startswith("path:")) == {
        key_of(r): 1
        for r in [
            {"kind": "net", "testId": tcp.id, "roundId": NetResult.objects.get().round_id},
            {"kind": "dns", "testId": dns.id, "roundId": DnsResult.objects.get().round_id, "server": "127.0.0.1:9"},
        ]
    }
    net = NetResult.objects.get()
    assert net.agent_id == agent.id and net.loss == 0.0 and net.avg_latency > 0
    assert DnsResult.objects.get().error_type in ("Timeout", "Connect")  # nothing answers on port 9


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_reports_what_the_full_spool_dropped(agent_setup, tmp_path):
    cast, token, proxy, service = agent_setup
    keys, hook = sent_keys_recorder()
    agent = Agent.objects.create(organization=cast.owner.user.default_account_group.organization, name="lab-1")
    make_test(
        cast.owner,
        "dns-server",
        name="dns",
        agents=[{"agentId": agent.id}],
        networkMeasurements=0,
        dnsServers=[{"serverName": f"127.0.0.1:{p}"} for p in (9, 10, 11)],
    )
    runtime = start_agent(proxy, token, tmp_path, hook, round_start_clock(), spool_rows=1)
    proxy.down()
    wait_for(lambda: runtime.spool.dropped == 2, timeout=30)  # three rows into a spool of one
    proxy.up()
    wait_for(lambda: Agent.objects.get(id=agent.id).spool_dropped == 2)
    wait_for(lambda: DnsResult.objects.count() == 1)
    runtime.close()
    listed = cast.owner.client.get("/v6/agents.json").json()["agents"]
    assert next(a for a in listed if a["agentId"] == agent.id)["spoolDropped"] == 2
