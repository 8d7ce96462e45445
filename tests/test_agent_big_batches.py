"""An agent's spool of long path traces: 500 rows of 30-hop IPv6 traces with hop names come to about 1.5 MB, over
the server's 1 MiB body limit, which it answers 413 whatever the retry. The agent cuts its batches to fit, and the
whole spool arrives."""

import pytest

from spyglass.agent.runtime import BATCH_ROWS, AgentRuntime
from spyglass.monitoring import path_format
from spyglass.monitoring.agent_service import issue_agent_token
from spyglass.monitoring.models import PathRound
from tests.conftest import make_test
from tests.test_agent_api import current_round


def long_trace(test_id: int, round_id: int, index: int) -> dict:
    hops = [
        {
            "hop": h,
            "ipAddress": f"2001:db8:{h:x}::{index + 1}",
            "rdns": f"ae-{h}.r{index}.frnkge13.de.bb.gin.example.net",
            "responseTime": 100.0 + h,
            "sent": 3,
            "lost": 0,
        }
        for h in range(1, 31)
    ]
    return {
        "kind": "path",
        "testId": test_id,
        "roundId": round_id,
        "date": round_id + 2.5,
        "traceIndex": index,
        "server": "www.example.com:443",
        "serverIp": "2001:db8:1e::1",
        "sourceIp": "2001:db8:1::2",
        "protocol": "TCP",
        "reached": True,
        "hops": hops,
        "errorDetails": "",
    }


@pytest.mark.django_db(transaction=True)
def test_a_spool_of_long_traces_arrives_whole_in_requests_the_server_takes(cast, live_server, tmp_path):
    organization = cast.owner.user.default_account_group.organization
    runtime = AgentRuntime(live_server.url, issue_agent_token(organization.id, "lab"), "lab-1", spool_dir=tmp_path)
    try:
        assert runtime.register()
        test = make_test(cast.owner, name="far", agents=[{"agentId": runtime.agent_id}])
        r = current_round()
        rounds = [r - 60 * i for i in range(1, 168)]
        runtime.spool.add([long_trace(test.id, round_id, i) for round_id in rounds for i in range(3)])
        assert runtime.spool.depth() == 501 > BATCH_ROWS
        sent = []
        while runtime.spool.depth():
            sent.append(runtime.upload_once())  # raised "server answered 413" before batches were cut to fit
            assert sent[-1] > 0 and len(sent) < 10
        assert sent[0] < BATCH_ROWS  # cut to fit, not refused
        assert sum(sent) == 501
    finally:
        runtime.close()
    stored = {p.round_id: path_format.decode(p.round_id, p.traces)[1] for p in PathRound.objects.filter(test=test)}
    assert sorted(stored) == sorted(rounds)
    assert all(len(traces) == 3 and len(traces[0].times) == 30 for traces in stored.values())
