"""No input may produce a 500: hostile values in paths, query strings, headers and bodies on every endpoint."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import make_test

HOSTILE = [
    "\x00",
    "%00",
    "' OR 1=1 --",
    "9" * 30,
    "-1",
    "1e309",
    "../../etc/passwd",
    "<script>x</script>",
    "ü" * 300,
    "",
    " ",
    "[]",
    "{}",
    "null",
]
GET_PATHS = [
    "/v6/tests.json",
    "/v6/agents.json",
    "/v6/users.json",
    "/v6/account-groups.json",
    "/v6/net/metrics/{t}.json",
    "/v6/web/http-server/{t}.json",
    "/v6/tests/{t}.json",
]
PARAMS = ["aid", "window", "from", "to", "lastRoundId", "format", "agentTypes", "headers", "page"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_query_values_never_cause_a_500(cast, value):
    test = make_test(cast.owner, "http-server")
    for path in GET_PATHS:
        for param in PARAMS:
            response = cast.owner.client.get(path.format(t=test.id), {param: value})
            assert response.status_code < 500, (path, param, value, response.content[:200])
            if response.status_code >= 400:
                assert response.json()["errorMessage"]


@pytest.mark.parametrize("value", HOSTILE + [None, True, 1.5, -7, 2**70, [1], {"a": 1}, [{"agentId": "x"}]])
def test_hostile_body_values_never_cause_a_500_and_change_nothing(cast, value):
    test = make_test(cast.owner, "dns-server", name="keep")
    fields = [
        "testName",
        "interval",
        "agents",
        "description",
        "enabled",
        "server",
        "port",
        "url",
        "domain",
        "dnsServers",
        "httpTimeLimit",
        "followRedirects",
        "sharedWithAccounts",
        "contentRegex",
    ]
    for field in fields:
        for path in ("/v6/tests/http-server/new.json", f"/v6/tests/dns-server/{test.id}/update.json"):
            body = {"testName": "n", "interval": 60, "url": "https://e.com", field: value}
            response = cast.owner.client.post(path, body, format="json")
            assert response.status_code < 500, (path, field, value, response.content[:200])
    test.refresh_from_db()
    assert test.name == "keep"


def test_authorization_headers_of_any_shape_never_cause_a_500(cast):
    for header in [
        "Basic",
        "Basic \x00",
        "Bearer",
        "Bearer \u00ff\u00fe",
        "Digest x",
        "Basic " + "A" * 5000,
        "Basic Og==",
        "Basic " + "w7w6w7w=",
        "Token abc",
    ]:
        response = APIClient().get("/v6/tests.json", HTTP_AUTHORIZATION=header)
        assert response.status_code in (401, 403), (header, response.status_code)
