"""The lean path of result uploads (spyglass.api.agent.upload) answers a well-formed batch as ResultsView does
through DRF, and leaves every other request to DRF untouched: same answers, same failed-login count."""

import orjson
import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from spyglass.accounts.models import RateCounter
from spyglass.api.agent import upload, views
from spyglass.monitoring.models import Agent, NetResult
from tests import test_agent_batch_columns
from tests.test_agent_api import acme_token, net_row, registered  # noqa: F401 (fixtures)
from tests.test_agent_batch_columns import R, good_rows

lab = test_agent_batch_columns.lab  # the fixture


def answer(response) -> tuple:
    return response.status_code, response.content, sorted(response.headers.items())


def post(client, agent_id, body, query="", **extra):
    extra.setdefault("content_type", "application/json")
    if "HTTP_AUTHORIZATION" in extra:  # the client's own credentials would override it
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=extra.pop("HTTP_AUTHORIZATION"))
    return client.post(f"/agent/v1/agents/{agent_id}/results{query}", body, **extra)


def drf_never_runs(*args, **kwargs):
    raise AssertionError("the lean path should have answered")


def test_a_well_formed_batch_is_answered_as_drf_answers_it_without_drf(lab, monkeypatch):
    client, agent_id, tests = lab
    body = {"results": good_rows(tests)}
    with monkeypatch.context() as m:
        m.setattr(views.ResultsView, "initial", drf_never_runs)
        lean = post(client, agent_id, body)
    stored = sorted(NetResult.objects.values_list("test_id", "round_id", "agent_id", "date", "server", "avg_latency"))
    NetResult.objects.all().delete()
    monkeypatch.setattr(upload, "lean_upload", lambda *args: None)
    full = post(client, agent_id, body)
    assert answer(lean) == answer(full)
    assert lean.json() == {"accepted": len(body["results"])}
    assert stored == sorted(
        NetResult.objects.values_list("test_id", "round_id", "agent_id", "date", "server", "avg_latency")
    )
    assert Agent.objects.get(id=agent_id).last_seen is not None


def _cases(tests, agent_id):
    row = net_row(tests["tcp"], R, server="example.com:443")
    body = {"results": [row]}
    return {
        "wrong token": (agent_id, body, {"HTTP_AUTHORIZATION": "Bearer sga_wrong"}),
        "token with a trailing non-ASCII space": (agent_id, body, {"HTTP_AUTHORIZATION": "Bearer sga_x\xa0"}),
        "no token": (agent_id, body, {"HTTP_AUTHORIZATION": ""}),
        "XML answer asked for": (agent_id, body, {"HTTP_ACCEPT": "text/xml"}),
        "format in the query": (agent_id, body, {"query": "?format=xml"}),
        "another agent": (agent_id + 1000, body, {}),
        "a test not assigned": (agent_id, {"results": [net_row(tests["other"], R)]}, {}),
        "a bad row": (agent_id, {"results": [row, {**row, "roundId": R - 60, "loss": 101}]}, {}),
        "not JSON": (agent_id, b"{results", {}),
        "an empty body": (agent_id, b"", {}),
        "no results": (agent_id, {"results": []}, {}),
        "not an object": (agent_id, [row], {}),
        "JSON sent as text/plain": (agent_id, orjson.dumps(body), {"content_type": "text/plain"}),
        "a host not allowed": (agent_id, body, {"HTTP_HOST": "evil.example"}),
    }


CASES = {
    "wrong token": 401,
    "token with a trailing non-ASCII space": 401,
    "no token": 401,
    "XML answer asked for": 200,
    "format in the query": 200,
    "another agent": 404,
    "a test not assigned": 400,
    "a bad row": 400,
    "not JSON": 400,
    "an empty body": 400,
    "no results": 400,
    "not an object": 400,
    "JSON sent as text/plain": 200,
    "a host not allowed": 400,
}  # each with the status DRF answers


@pytest.mark.parametrize("case", CASES)
def test_any_other_request_gets_drfs_answer_and_failed_login_count(lab, monkeypatch, case):
    client, agent_id, tests = lab
    target, body, extra = _cases(tests, agent_id)[case]

    def run():
        NetResult.objects.all().delete()
        RateCounter.objects.all().delete()
        response = post(client, target, body, **extra)
        return answer(response), list(RateCounter.objects.values_list("key", "count")), NetResult.objects.count()

    lean = run()
    assert lean[0][0] == CASES[case]
    monkeypatch.setattr(upload, "lean_upload", lambda *args: None)
    assert lean == run()


def test_a_valid_token_writes_whatever_failed_at_its_address_and_a_failing_one_waits(lab):
    client, agent_id, tests = lab
    body = {"results": [net_row(tests["tcp"], R, server="example.com:443")]}
    with override_settings(FAILED_LOGIN_LIMIT_PER_HOUR=1):
        assert post(client, agent_id, b"{}", HTTP_AUTHORIZATION="Bearer sga_wrong").status_code == 401
        assert post(client, agent_id, b"{}", HTTP_AUTHORIZATION="Bearer sga_wrong").status_code == 429
        response = post(client, agent_id, body)
    assert response.status_code == 200
    assert NetResult.objects.count() == 1


def test_a_disabled_agent_writes_nothing(lab):
    client, agent_id, tests = lab
    Agent.objects.filter(id=agent_id).update(enabled=False)
    response = post(client, agent_id, {"results": [net_row(tests["tcp"], R, server="example.com:443")]})
    assert response.status_code == 400
    assert NetResult.objects.count() == 0
