"""Test endpoints: list, by type, detail, create, update, delete — shapes, validation and roles."""

import pytest

from spyglass.monitoring.models import Test
from tests.conftest import make_agent, make_test

NEW = "/v6/tests/{}/new.json"


def test_it_creates_each_type_with_201_and_the_v6_shape(cast):
    agent = make_agent(cast.owner)
    bodies = {
        "agent-to-server": {
            "testName": "tcp",
            "interval": 60,
            "server": "example.com:443",
            "agents": [{"agentId": agent.id}],
        },
        "http-server": {"testName": "web", "interval": 120, "url": "https://example.com/", "httpTimeLimit": 10},
        "dns-server": {
            "testName": "dns",
            "interval": 300,
            "domain": "example.com a",
            "dnsServers": [{"serverName": "ns1.example.net"}],
        },
    }
    for test_type, body in bodies.items():
        response = cast.owner.client.post(NEW.format(test_type), body, format="json")
        assert response.status_code == 201, response.content
        test = response.json()["test"][0]
        assert test["type"] == test_type
        assert test["testName"] == body["testName"]
        assert test["interval"] == body["interval"]
        assert test["savedEvent"] == 0 and test["liveShare"] == 0 and test["enabled"] == 1
        assert test["createdBy"] == "Olive Owner (owner@acme.test)"
        assert test["apiLinks"][0] == {"rel": "self", "href": f"http://127.0.0.1:8000/v6/tests/{test['testId']}"}
    tcp, web, dns = cast.owner.client.get("/v6/tests.json").json()["test"]
    assert tcp["server"] == "example.com:443" and tcp["port"] == 443 and tcp["protocol"] == "TCP"
    assert web["url"] == "https://example.com/" and web["httpTimeLimit"] == 10
    assert dns["domain"] == "example.com A" and dns["dnsServers"] == [{"serverId": 1, "serverName": "ns1.example.net"}]
    detail = cast.owner.client.get(f"/v6/tests/{tcp['testId']}.json").json()["test"][0]
    assert detail["agents"] == [
        {
            "agentId": agent.id,
            "agentName": "Frankfurt",
            "location": "Frankfurt",
            "countryId": "DE",
            "ipAddresses": [],
            "agentType": "Enterprise",
        }
    ]
    assert detail["sharedWithAccounts"] == []


def test_it_lists_tests_by_type(cast):
    make_test(cast.owner, "http-server", name="web")
    make_test(cast.owner, "dns-server", name="dns")
    names = [t["testName"] for t in cast.owner.client.get("/v6/tests/dns-server.json").json()["test"]]
    assert names == ["dns"]
    response = cast.owner.client.get("/v6/tests/page-load.json")
    assert response.status_code == 400
    assert "unknown test type" in response.json()["errorMessage"]


def test_a_test_may_be_created_with_no_agents_and_a_60_second_interval(cast):
    response = cast.owner.client.post(
        NEW.format("http-server"),
        {"testName": "w", "interval": 60, "url": "http://example.com", "agents": []},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["test"][0]["agents"] == []


@pytest.mark.parametrize(
    "test_type, body, field",
    [
        ("agent-to-server", {"testName": "a", "interval": 45, "server": "h:1"}, "interval"),
        ("agent-to-server", {"testName": "a", "interval": "soon", "server": "h:1"}, "interval"),
        ("agent-to-server", {"testName": "a", "interval": 60}, "server"),
        ("agent-to-server", {"testName": "a", "interval": 60, "server": "h:99999"}, "server"),
        ("agent-to-server", {"testName": "a", "interval": 60, "server": "bad host!:80"}, "server"),
        ("agent-to-server", {"testName": "a\x07b", "interval": 60, "server": "h:1"}, "testName"),
        ("agent-to-server", {"testName": ["a"], "interval": 60, "server": "h:1"}, "testName"),
        ("agent-to-server", {"interval": 60, "server": "h:1"}, "testName"),
        ("agent-to-server", {"testName": "a", "interval": 60, "server": "h:1", "agents": [{"agentId": 999}]}, "agents"),
        ("agent-to-server", {"testName": "a", "interval": 60, "server": "h:1", "agents": "all"}, "agents"),
        ("agent-to-server", {"testName": "a", "interval": 60, "server": "h:1", "protocol": "UDP"}, "protocol"),
        ("http-server", {"testName": "a", "interval": 60, "url": "ftp://example.com"}, "url"),
        (
            "http-server",
            {"testName": "a", "interval": 60, "url": "https://e.com", "httpTimeLimit": 99},
            "httpTimeLimit",
        ),
        (
            "http-server",
            {"testName": "a", "interval": 60, "url": "https://e.com", "contentRegex": "(("},
            "contentRegex",
        ),
        (
            "http-server",
            {"testName": "a", "interval": 60, "url": "https://e.com", "followRedirects": 7},
            "followRedirects",
        ),
        ("dns-server", {"testName": "a", "interval": 60, "domain": "example.com A"}, "dnsServers"),
        (
            "dns-server",
            {"testName": "a", "interval": 60, "domain": "example.com BOGUS", "dnsServers": [{"serverName": "ns1"}]},
            "domain",
        ),
        ("dns-server", {"testName": "a", "interval": 60, "domain": "example.com", "dnsServers": []}, "dnsServers"),
    ],
)
def test_bad_fields_are_400_naming_the_field_and_create_nothing(cast, test_type, body, field):
    response = cast.owner.client.post(NEW.format(test_type), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errorMessage"]
    assert not Test.objects.exists()


def test_test_names_are_unique_in_an_account_group(cast):
    make_test(cast.owner, name="same")
    response = cast.owner.client.post(
        NEW.format("agent-to-server"), {"testName": "same", "interval": 60, "server": "h:1"}, format="json"
    )
    assert response.status_code == 400
    assert "testName" in response.json()["errorMessage"]
    # Another account group may use the name.
    make_test(cast.other_group, name="same")


def test_it_accepts_an_xml_body(cast):
    body = (
        b"<test><testName>from xml</testName><interval>300</interval><url>https://example.com</url>"
        b"<followRedirects>0</followRedirects></test>"
    )
    response = cast.owner.client.generic("POST", NEW.format("http-server"), body, "text/xml")
    assert response.status_code == 201, response.content
    test = response.json()["test"][0]
    assert test["followRedirects"] == 0 and test["interval"] == 300


def test_update_changes_fields_and_records_who(cast):
    test = make_test(cast.owner, "http-server", name="web")
    response = cast.teammate.client.post(
        f"/v6/tests/http-server/{test.id}/update.json",
        {"testName": "renamed", "enabled": 0, "interval": 900},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()["test"][0]
    assert (body["testName"], body["enabled"], body["interval"]) == ("renamed", 0, 900)
    assert body["modifiedBy"] == "Tom Mate (mate@acme.test)"
    assert body["createdBy"] == "Olive Owner (owner@acme.test)"


def test_update_refuses_changing_the_target_and_keeps_the_test(cast):
    test = make_test(cast.owner, "http-server", name="web")
    response = cast.owner.client.post(
        f"/v6/tests/http-server/{test.id}/update.json",
        {"url": "https://elsewhere.example", "testName": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "url" in response.json()["errorMessage"]
    test.refresh_from_db()
    assert (test.url, test.name) == ("https://example.com/", "web")


def test_update_through_the_wrong_type_is_404(cast):
    test = make_test(cast.owner, "http-server")
    response = cast.owner.client.post(f"/v6/tests/dns-server/{test.id}/update.json", {"enabled": 0}, format="json")
    assert response.status_code == 404


def test_delete_answers_204_with_empty_body(cast):
    test = make_test(cast.owner)
    response = cast.owner.client.post(f"/v6/tests/agent-to-server/{test.id}/delete.json")
    assert response.status_code == 204
    assert response.content == b""
    assert cast.owner.client.get(f"/v6/tests/{test.id}.json").status_code == 404


def test_regular_users_may_read_but_every_post_is_403(cast):
    test = make_test(cast.owner)
    assert cast.regular.client.get(f"/v6/tests/{test.id}.json").status_code == 200
    for path, body in [
        (NEW.format("agent-to-server"), {"testName": "r", "interval": 60, "server": "h:1"}),
        (f"/v6/tests/agent-to-server/{test.id}/update.json", {"enabled": 0}),
        (f"/v6/tests/agent-to-server/{test.id}/delete.json", {}),
    ]:
        response = cast.regular.client.post(path, body, format="json")
        assert response.status_code == 403
        assert response.json()["errorMessage"]
    test.refresh_from_db()
    assert test.enabled and Test.objects.count() == 1
