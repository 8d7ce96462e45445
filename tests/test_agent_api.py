"""The agent API: agent-token auth, register, heartbeat, assignments, and all-or-nothing result batches."""

import time

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from spyglass.lib import tokens
from spyglass.lib.rounds import round_of
from spyglass.monitoring.agent_service import issue_agent_token
from spyglass.monitoring.models import Agent, AgentToken, DnsResult, HttpResult, NetResult
from tests.conftest import make_test
from tests.web_support import signed_in


def agent_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def acme_token(cast):
    return issue_agent_token(cast.owner.user.default_account_group.organization_id, "lab agents")


@pytest.fixture
def registered(acme_token):
    client = agent_client(acme_token)
    response = client.post(
        "/agent/v1/register", {"name": "lab-1", "kind": "enterprise", "version": "0.1.0"}, format="json"
    )
    assert response.status_code == 200, response.content
    return client, response.json()["agentId"]


def net_row(test, round_id, **fields):
    return {
        "kind": "net",
        "testId": test.id,
        "roundId": round_id,
        "date": round_id + 5,
        "loss": 0.0,
        "minLatency": 10.0,
        "avgLatency": 11.0,
        "maxLatency": 12.5,
        "jitter": 0.4,
        "serverIp": "192.0.2.1",
        **fields,
    }


def current_round(interval=60):
    return round_of(time.time(), interval)


def test_it_stores_agent_tokens_only_as_keyed_digests(acme_token):
    stored = AgentToken.objects.get()
    assert acme_token.startswith("sga_")
    assert stored.digest == tokens.digest(settings.SECRET_KEY, acme_token)
    assert acme_token not in stored.digest


def test_it_refuses_requests_without_a_valid_agent_token(cast, acme_token):
    assert APIClient().post("/agent/v1/register", {"name": "x"}, format="json").status_code == 401
    assert agent_client("sga_wrong").post("/agent/v1/register", {"name": "x"}, format="json").status_code == 401
    # A user's API token is not an agent token.
    assert agent_client(cast.owner.token).post("/agent/v1/register", {"name": "x"}, format="json").status_code == 401
    AgentToken.objects.update(revoked=True)
    response = agent_client(acme_token).post("/agent/v1/register", {"name": "x"}, format="json")
    assert response.status_code == 401
    assert "agent token" in response.json()["errorMessage"]


def test_it_registers_an_agent_once_and_keeps_its_identity(cast, acme_token):
    client = agent_client(acme_token)
    first = client.post(
        "/agent/v1/register",
        {"name": "laptop", "kind": "endpoint", "version": "0.1.0", "ipAddresses": ["10.0.0.7"]},
        format="json",
    ).json()
    again = client.post(
        "/agent/v1/register", {"name": "laptop", "kind": "endpoint", "version": "0.2.0"}, format="json"
    ).json()
    assert first["agentId"] == again["agentId"]
    agent = Agent.objects.get(id=first["agentId"])
    assert agent.agent_type == "Endpoint"
    assert agent.version == "0.2.0"
    assert agent.organization == cast.owner.user.default_account_group.organization


def test_it_names_the_field_when_registration_is_malformed(acme_token):
    client = agent_client(acme_token)
    response = client.post("/agent/v1/register", {"name": "x", "kind": "satellite"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["errorMessage"]
    response = client.post("/agent/v1/register", {"name": "bad\x00name"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errorMessage"]
    assert not Agent.objects.exists()


def test_it_hands_out_only_the_tests_assigned_to_the_agent(cast, registered):
    client, agent_id = registered
    mine = make_test(cast.owner, "agent-to-server", name="assigned", agents=[{"agentId": agent_id}], probeCount=7)
    make_test(cast.owner, "http-server", name="not assigned")
    make_test(cast.owner, "dns-server", name="disabled", agents=[{"agentId": agent_id}], enabled=0)
    body = client.get(f"/agent/v1/agents/{agent_id}/assignments").json()
    assert [a["testId"] for a in body["assignments"]] == [mine.id]
    assert (
        body["assignments"][0] | {"server": "example.com", "port": 443, "probeCount": 7, "interval": 60}
        == body["assignments"][0]
    )


def test_it_answers_404_for_an_agent_of_another_organization(cast, registered):
    _, agent_id = registered
    globex = issue_agent_token(cast.other_org.user.default_account_group.organization_id, "globex")
    other = agent_client(globex)
    assert other.get(f"/agent/v1/agents/{agent_id}/assignments").status_code == 404
    assert other.post(f"/agent/v1/agents/{agent_id}/heartbeat", {}, format="json").status_code == 404
    assert other.post(f"/agent/v1/agents/{agent_id}/results", {"results": []}, format="json").status_code == 404


def test_it_records_heartbeats_with_the_spool_drop_count(cast, registered):
    client, agent_id = registered
    Agent.objects.filter(id=agent_id).update(last_seen=None)
    response = client.post(
        f"/agent/v1/agents/{agent_id}/heartbeat", {"version": "0.1.1", "spoolDropped": 12}, format="json"
    )
    assert response.status_code == 200
    listed = cast.owner.client.get("/v6/agents.json").json()["agents"]
    mine = next(a for a in listed if a["agentId"] == agent_id)
    assert mine["agentState"] == "Online"
    assert mine["spoolDropped"] == 12
    assert mine["version"] == "0.1.1"
    assert mine["agentType"] == "Enterprise"
    assert mine["lastSeen"] is not None


def test_the_agents_page_shows_the_spool_and_why_path_traces_are_unavailable(cast, registered):
    client, agent_id = registered
    reason = "path traces unavailable: raw sockets need CAP_NET_RAW <b>"
    body = {"version": "0.1.1", "spoolDepth": 1234, "spoolDropped": 56, "pathTraces": reason}
    assert client.post(f"/agent/v1/agents/{agent_id}/heartbeat", body, format="json").status_code == 200
    stored = Agent.objects.get(id=agent_id)
    assert (stored.spool_depth, stored.spool_dropped, stored.path_trace_problem) == (1234, 56, reason)
    page = signed_in(cast.owner).get("/agents/").content.decode()
    assert "1234 waiting" in page and "56 dropped" in page
    assert "raw sockets need CAP_NET_RAW &lt;b&gt;" in page and "CAP_NET_RAW <b>" not in page

    # An agent that can trace again says so with "", and the page no longer warns.
    assert client.post(f"/agent/v1/agents/{agent_id}/heartbeat", {"pathTraces": ""}, format="json").status_code == 200
    page = signed_in(cast.owner).get("/agents/").content.decode()
    assert "CAP_NET_RAW" not in page and "0 waiting" in page

    for bad, needle in (("x" * 301, "pathTraces"), ("two\nlines", "pathTraces"), (7, "pathTraces")):
        response = client.post(f"/agent/v1/agents/{agent_id}/heartbeat", {"pathTraces": bad}, format="json")
        assert response.status_code == 400 and needle in response.json()["errorMessage"], response.content


def test_it_shows_agents_offline_once_heartbeats_stop(cast, registered):
    _, agent_id = registered
    Agent.objects.filter(id=agent_id).update(last_seen="2020-01-01T00:00:00Z")
    listed = cast.owner.client.get("/v6/agents.json").json()["agents"]
    assert next(a for a in listed if a["agentId"] == agent_id)["agentState"] == "Offline"


def test_it_stores_a_batch_and_replaces_rows_sent_again(cast, registered):
    client, agent_id = registered
    test = make_test(cast.owner, "http-server", name="web", agents=[{"agentId": agent_id}])
    r = current_round()
    batch = {
        "results": [
            net_row(test, r - 60, server="example.com:443"),
            {
                "kind": "http",
                "testId": test.id,
                "roundId": r - 60,
                "date": r - 55,
                "responseCode": 200,
                "connectTime": 12.5,
                "waitTime": 40.0,
                "totalTime": 60.1,
                "wireSize": 1234,
                "errorType": "None",
                "sslCerts": [{"subjectName": "CN=example.com", "daysUntilExpiry": 30}],
            },
        ]
    }
    response = client.post(f"/agent/v1/agents/{agent_id}/results", batch, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2}
    batch["results"][0]["avgLatency"] = 99.0
    assert client.post(f"/agent/v1/agents/{agent_id}/results", batch, format="json").status_code == 200
    assert NetResult.objects.get().avg_latency == 99.0
    assert HttpResult.objects.count() == 1
    data = cast.owner.client.get(f"/v6/web/http-server/{test.id}.json?window=1h&certificates=1").json()
    row = data["web"]["httpServer"][0]
    # timings are whole milliseconds in v6, as its example bodies (12.5 is stored, 13 is shown)
    assert row["connectTime"] == 13 and row["agentName"] == "lab-1" and row["roundId"] == r - 60
    assert row["sslCerts"][0]["subjectName"] == "CN=example.com"


def test_it_writes_dns_rows_per_server(cast, registered):
    client, agent_id = registered
    test = make_test(cast.owner, "dns-server", name="dns", agents=[{"agentId": agent_id}])
    r = current_round()
    rows = [
        {
            "kind": "dns",
            "testId": test.id,
            "roundId": r,
            "date": r + 1,
            "server": s,
            "serverId": i,
            "serverIp": f"192.0.2.5{i}",
            "resolutionTime": 3.5,
            "mappings": "192.0.2.1 (A)",
        }
        for i, s in enumerate(["ns1", "ns2"], 1)
    ]
    assert client.post(f"/agent/v1/agents/{agent_id}/results", {"results": rows}, format="json").status_code == 200
    assert sorted(DnsResult.objects.values_list("server", "server_ip")) == [
        ("ns1", "192.0.2.51"),
        ("ns2", "192.0.2.52"),
    ]


@pytest.mark.parametrize(
    "bad, needle",
    [
        (lambda t, o, r: net_row(o, r), "is not assigned to this agent"),
        (lambda t, o, r: net_row(t, r + 120), "future"),
        (lambda t, o, r: net_row(t, r + 7), "is not a round"),
        (lambda t, o, r: net_row(t, r, loss=140), "loss"),
        (lambda t, o, r: net_row(t, r, avgLatency="fast"), "avgLatency"),
        (lambda t, o, r: net_row(t, r, avgLatency=-1), "avgLatency"),
        (lambda t, o, r: net_row(t, r, serverIp="a\x00b"), "control character"),
        (lambda t, o, r: net_row(t, r, errorType="Oops"), "errorType"),
        (lambda t, o, r: net_row(t, r, surprise=1), "surprise"),
        (lambda t, o, r: {**net_row(t, r), "kind": "http"}, "do not fit"),
        (lambda t, o, r: {**net_row(t, r), "roundId": "soon"}, "roundId"),
        (lambda t, o, r: "not an object", "must be an object"),
        (lambda t, o, r: net_row(t, r, date=r - 3600), "date"),
    ],
)
def test_it_refuses_a_batch_with_any_bad_row_and_writes_none_of_it(cast, registered, bad, needle):
    client, agent_id = registered
    test = make_test(cast.owner, "agent-to-server", name="tcp", agents=[{"agentId": agent_id}])
    unassigned = make_test(cast.owner, "agent-to-server", name="other")
    r = current_round()
    good = [net_row(test, r - 120), net_row(test, r - 60)]
    response = client.post(
        f"/agent/v1/agents/{agent_id}/results", {"results": [*good, bad(test, unassigned, r)]}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert needle in body["errorMessage"]
    assert "results[2]" in body["errorMessage"]
    assert body["rows"] == [2]
    assert NetResult.objects.count() == 0


def test_it_refuses_numbers_too_big_for_their_column(cast, registered):
    client, agent_id = registered
    test = make_test(cast.owner, "http-server", name="web", agents=[{"agentId": agent_id}])
    r = current_round()
    row = {"kind": "http", "testId": test.id, "roundId": r, "date": r + 1, "responseCode": 2**40}
    response = client.post(f"/agent/v1/agents/{agent_id}/results", {"results": [row]}, format="json")
    assert response.status_code == 400
    assert "results[0].responseCode" in response.json()["errorMessage"]


def test_it_refuses_malformed_batches_with_a_clear_message(cast, registered):
    client, agent_id = registered
    url = f"/agent/v1/agents/{agent_id}/results"
    assert "results" in client.post(url, {"rows": []}, format="json").json()["errorMessage"]
    response = client.post(url, b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["errorMessage"]
    test = make_test(cast.owner, "agent-to-server", name="tcp", agents=[{"agentId": agent_id}])
    r = current_round()
    response = client.post(url, {"results": [net_row(test, r), net_row(test, r)]}, format="json")
    assert response.status_code == 400
    assert "repeats" in response.json()["errorMessage"]
    assert NetResult.objects.count() == 0


def test_it_documents_the_agent_api_in_the_openapi_document(cast):
    document = cast.owner.client.get("/v6/openapi.json").json()
    for path in (
        "/agent/v1/register",
        "/agent/v1/agents/{agent_id}/heartbeat",
        "/agent/v1/agents/{agent_id}/assignments",
        "/agent/v1/agents/{agent_id}/results",
    ):
        assert path in document["paths"], path
    assert document["components"]["securitySchemes"]["agentToken"]["scheme"] == "bearer"


def test_it_flags_tests_whose_agents_are_all_endpoint_agents(cast):
    laptop = Agent.objects.create(
        organization=cast.owner.user.default_account_group.organization, name="laptop", agent_type=Agent.ENDPOINT
    )
    office = Agent.objects.create(organization=cast.owner.user.default_account_group.organization, name="office")
    endpoint_only = make_test(cast.owner, name="endpoint", agents=[{"agentId": laptop.id}])
    mixed = make_test(cast.owner, name="mixed", agents=[{"agentId": laptop.id}, {"agentId": office.id}])
    nobody = make_test(cast.owner, name="nobody")
    flag = {
        t.id: cast.owner.client.get(f"/v6/tests/{t.id}.json").json()["test"][0]["endpointTest"]
        for t in (endpoint_only, mixed, nobody)
    }
    assert flag == {endpoint_only.id: 1, mixed.id: 0, nobody.id: 0}


def test_a_batch_costs_the_same_few_queries_whatever_its_size(cast, registered):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, agent_id = registered
    test = make_test(cast.owner, "agent-to-server", name="tcp", agents=[{"agentId": agent_id}])
    r = current_round()
    counts = []
    for size, offset in ((3, 0), (300, 10)):
        rows = [net_row(test, r - 60 * (i + offset)) for i in range(size)]
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/agent/v1/agents/{agent_id}/results", {"results": rows}, format="json")
        assert response.json() == {"accepted": size}
        counts.append(len(queries))
    # executemany counts once, whatever the rows; one more statement counts the hours written (export chunks)
    assert counts[0] == counts[1] <= 13, counts
    assert NetResult.objects.count() == 303


def test_each_serve_start_gives_the_embedded_agent_a_fresh_token_and_drops_the_old_one(cast):
    from spyglass.monitoring.embedded import embedded_agent_token

    org_name, first = embedded_agent_token("Acme", "host-1")
    _, second = embedded_agent_token("Acme", "host-1")
    assert org_name == "Acme"
    assert AgentToken.objects.filter(name="embedded agent host-1").count() == 1
    register = {"name": "host-1"}
    assert agent_client(first).post("/agent/v1/register", register, format="json").status_code == 401
    assert agent_client(second).post("/agent/v1/register", register, format="json").status_code == 200
    # Without an organization named for it, the embedded agent joins the oldest one.
    assert embedded_agent_token(None, "host-2")[0] == "Acme"


@pytest.mark.parametrize(
    "kind, field, limit",
    [("net", "serverIp", 64), ("net", "server", 300), ("http", "sslVersion", 20), ("http", "sslCipher", 100)],
)
def test_it_refuses_text_longer_than_its_column(cast, registered, kind, field, limit):
    """Before the field catalogue, PostgreSQL cut such text to the column's length without a word and SQLite stored
    it whole: the batch is refused, naming the field and its limit."""
    client, agent_id = registered
    test = make_test(cast.owner, "http-server", name="web", agents=[{"agentId": agent_id}])
    r = current_round()
    row = {"kind": kind, "testId": test.id, "roundId": r, "date": r + 1, field: "x" * (limit + 1)}
    response = client.post(f"/agent/v1/agents/{agent_id}/results", {"results": [row]}, format="json")
    assert response.status_code == 400
    assert f"results[0].{field} must be a string of at most {limit} characters" in response.json()["errorMessage"]
    assert not NetResult.objects.exists() and not HttpResult.objects.exists()
    row[field] = "x" * limit
    assert client.post(f"/agent/v1/agents/{agent_id}/results", {"results": [row]}, format="json").status_code == 200
