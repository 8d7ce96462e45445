"""Path traces: ingestion through the agent API, compact storage, replacement, and the Path Visualization view's
data (monitoring/paths.view_data)."""

import pytest

from spyglass.monitoring import path_format, paths
from spyglass.monitoring.models import Path, PathRound
from spyglass.monitoring.scope import ReadScope
from spyglass.results_ui.component import ResultsScope
from tests.conftest import make_agent, make_test
from tests.test_agent_api import acme_token, current_round, net_row, registered  # noqa: F401  (fixtures)

CORE = ["198.18.1.1", None, "198.18.3.1", "198.18.9.2"]


def path_row(test, round_id, index=0, addresses=CORE, times=(0.4, None, 5.25, 9.8), lost=None, **fields):
    lost = lost or [0, 3, 0, 0]
    hops = [
        {
            "hop": i + 1,
            "ipAddress": a,
            "rdns": f"r{i + 1}.example" if a else "",
            "responseTime": t,
            "sent": 3,
            "lost": lost[i],
        }
        for i, (a, t) in enumerate(zip(addresses, times, strict=True))
    ]
    return {
        "kind": "path",
        "testId": test.id,
        "roundId": round_id,
        "date": round_id + 1.5,
        "traceIndex": index,
        "server": "example.com:443",
        "serverIp": "198.18.9.2",
        "sourceIp": "198.18.0.2",
        "protocol": "TCP",
        "reached": True,
        "hops": hops,
        "errorDetails": "",
        **fields,
    }


def post(client, agent_id, rows):
    return client.post(f"/agent/v1/agents/{agent_id}/results", {"results": rows}, format="json")


@pytest.fixture
def assigned(cast, registered):  # noqa: F811 (the fixture imported above)
    client, agent_id = registered
    test = make_test(cast.owner, agents=[{"agentId": agent_id}])
    return client, agent_id, test


def page_scope(test, start, end, allowed=None):
    allowed = allowed or ReadScope(source_test_id=test.id)
    return ResultsScope(test, allowed, start, end, "/")


def test_it_takes_path_rows_in_the_same_batch_as_net_rows_and_stores_a_path_once(assigned):
    client, agent_id, test = assigned
    r = current_round()
    rows = [net_row(test, r), *(path_row(test, r, i) for i in range(3))]
    response = post(client, agent_id, rows)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 4}
    assert Path.objects.filter(test=test).count() == 1
    (stored,) = PathRound.objects.filter(test=test)
    date, traces = path_format.decode(r, stored.traces)
    assert date == r + 1.5
    assert [t.index for t in traces] == [0, 1, 2]
    assert traces[0].times == [0.4, None, 5.25, 9.8]
    # The next round on the same path adds a round, not a path.
    assert post(client, agent_id, [path_row(test, r - 60)]).status_code == 200
    assert Path.objects.filter(test=test).count() == 1


def test_the_view_shows_each_agent_s_traces_with_loss_and_marks_a_changed_path(assigned):
    client, agent_id, test = assigned
    r = current_round()
    assert post(client, agent_id, [path_row(test, r - 60, i) for i in range(2)]).status_code == 200
    moved = ["198.18.1.1", "198.18.5.1", "198.18.6.1", "198.18.9.2"]
    assert post(client, agent_id, [path_row(test, r, 0, moved, lost=[0, 0, 1, 0])]).status_code == 200
    data = paths.view_data(page_scope(test, r - 3600, r), r)
    assert data["roundId"] == r
    assert data["rounds"] == [r - 60, r]
    assert data["target"] == {"server": "example.com:443", "serverIp": "198.18.9.2"}
    (agent,) = data["agents"]
    assert agent["agentId"] == str(agent_id) and agent["agentName"] == "lab-1"
    assert agent["sourceIp"] == "198.18.0.2"
    assert agent["changed"] is True
    (trace,) = agent["traces"]
    assert [h["ipAddress"] for h in trace["hops"]] == moved
    assert trace["hops"][2]["loss"] == pytest.approx(33.3, abs=0.1)
    assert trace["hops"][0] == {
        "hop": 1,
        "ipAddress": "198.18.1.1",
        "prefix": "",
        "rdns": "r1.example",
        "network": "",
        "responseTime": 0.4,
        "loss": 0.0,
    }
    earlier = paths.view_data(page_scope(test, r - 3600, r), r - 60)
    (agent,) = earlier["agents"]
    assert agent["changed"] is False and len(agent["traces"]) == 2
    assert agent["traces"][0]["hops"][1] == {
        "hop": 2,
        "ipAddress": None,
        "prefix": "",
        "rdns": "",
        "network": "",
        "responseTime": None,
        "loss": 100.0,
    }


def test_writing_a_trace_again_replaces_it_and_keeps_the_round_s_others(assigned):
    client, agent_id, test = assigned
    r = current_round()
    assert post(client, agent_id, [path_row(test, r, i) for i in range(3)]).status_code == 200
    again = path_row(test, r, 1, times=(0.5, None, 6.0, 11.0))
    assert post(client, agent_id, [again]).status_code == 200
    _, traces = path_format.decode(r, PathRound.objects.get(test=test).traces)
    assert [t.times for t in traces] == [[0.4, None, 5.25, 9.8], [0.5, None, 6.0, 11.0], [0.4, None, 5.25, 9.8]]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"traceIndex": 10}, "results[1].traceIndex must be a whole number from 0 to 9"),
        ({"protocol": "UDP"}, "results[1].protocol must be one of TCP, ICMP"),
        ({"reached": 1}, "results[1].reached must be true or false"),
        ({"serverIp": "not-an-ip"}, "results[1].serverIp must be an IP address or null"),
        ({"hops": [{"hop": 2, "sent": 3, "lost": 0}]}, "results[1].hops[0].hop must be 1"),
        ({"hops": [{"hop": 1, "sent": 3, "lost": 4}]}, "results[1].hops[0].lost must not exceed sent"),
        ({"hops": [{"hop": 1, "ipAddress": "198.18.1.1", "rdns": "x" * 256}]}, "results[1].hops[0].rdns must be"),
        ({"hops": [{"hop": 1, "ttl": 1}]}, "results[1].hops[0]: unknown field 'ttl'"),
        ({"hops": [{"hop": i + 1} for i in range(31)]}, "results[1].hops must be a list of at most 30 hops"),
    ],
)
def test_a_bad_path_row_is_refused_naming_the_field_and_nothing_is_written(assigned, change, message):
    client, agent_id, test = assigned
    r = current_round()
    response = post(client, agent_id, [net_row(test, r), {**path_row(test, r), **change}])
    assert response.status_code == 400
    assert message in response.json()["errorMessage"]
    assert not PathRound.objects.exists()


def test_a_repeated_trace_key_in_one_batch_is_refused(assigned):
    client, agent_id, test = assigned
    r = current_round()
    response = post(client, agent_id, [path_row(test, r, 0), path_row(test, r, 0)])
    assert response.status_code == 400
    assert "repeats the key (test, round, agent, traceIndex)" in response.json()["errorMessage"]


def test_a_trace_that_could_not_be_taken_keeps_its_reason(assigned):
    client, agent_id, test = assigned
    r = current_round()
    row = path_row(test, r, hops=[], reached=False, errorDetails="no route to host")
    assert post(client, agent_id, [row]).status_code == 200
    _, (trace,) = path_format.decode(r, PathRound.objects.get(test=test).traces)
    assert trace.error == "no route to host" and trace.times == [] and not trace.reached


def test_the_assignment_carries_num_path_traces(cast, assigned):
    client, agent_id, test = assigned
    body = client.get(f"/agent/v1/agents/{agent_id}/assignments").json()
    assert body["assignments"][0]["numPathTraces"] == 3
    response = cast.owner.client.post(
        f"/v6/tests/agent-to-server/{test.id}/update.json", {"numPathTraces": 0}, format="json"
    )
    assert response.status_code == 200 and response.json()["test"][0]["numPathTraces"] == 0
    assert client.get(f"/agent/v1/agents/{agent_id}/assignments").json()["assignments"][0]["numPathTraces"] == 0
    bad = cast.owner.client.post(
        f"/v6/tests/agent-to-server/{test.id}/update.json", {"numPathTraces": 11}, format="json"
    )
    assert bad.status_code == 400 and "numPathTraces" in bad.json()["errorMessage"]


def test_an_agent_of_another_test_gets_no_view_rows(cast, assigned):
    client, agent_id, test = assigned
    other = make_test(cast.owner, name="other", agents=[{"agentId": agent_id}])
    r = current_round()
    assert post(client, agent_id, [path_row(other, r)]).status_code == 200
    assert paths.view_data(page_scope(test, r - 600, r), r)["agents"] == []
    make_agent(cast.owner, "unused")
