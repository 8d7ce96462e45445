"""Creating, editing, enabling/disabling and deleting tests in the web app, with the API's validation rules."""

from spyglass.monitoring import models
from tests.conftest import make_agent, make_test
from tests.web_support import signed_in


def test_it_creates_an_http_test_with_agents(cast):
    agent = make_agent(cast.owner, "Frankfurt")
    client = signed_in(cast.owner)
    response = client.post(
        "/tests/new/http-server/",
        {
            "testName": "shop",
            "url": "https://shop.example.com/",
            "interval": "120",
            "agents": [agent.id],
            "enabled": "1",
        },
    )
    assert response.status_code == 302
    test = models.Test.objects.get(name="shop")
    assert (test.type, test.url, test.interval, test.enabled) == ("http-server", "https://shop.example.com/", 120, True)
    assert list(test.agents.all()) == [agent]
    assert test.created_by == cast.owner.user
    listing = client.get("/tests/").content.decode()
    assert "shop" in listing and "https://shop.example.com/" in listing and "No data" in listing


def test_it_creates_agent_to_server_and_dns_tests(cast):
    client = signed_in(cast.owner)
    client.post("/tests/new/agent-to-server/", {"testName": "edge", "server": "example.com:8443", "interval": "60"})
    client.post(
        "/tests/new/dns-server/",
        {
            "testName": "apex",
            "domain": "example.com a",
            "dnsServers": "ns1.example.net\nns2.example.net",
            "interval": "300",
        },
    )
    edge, apex = models.Test.objects.get(name="edge"), models.Test.objects.get(name="apex")
    assert (edge.server, edge.port) == ("example.com", 8443)
    assert apex.domain == "example.com A" and [s["serverName"] for s in apex.dns_servers] == [
        "ns1.example.net",
        "ns2.example.net",
    ]


def test_it_refuses_bad_input_with_the_apis_messages_and_changes_nothing(cast):
    client = signed_in(cast.owner)
    response = client.post("/tests/new/http-server/", {"testName": "x", "url": "ftp://nope", "interval": "61"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "must be one of 60, 120, 300, 600, 900, 1800, 3600" in page
    assert "must be an http:// or https:// URL with a host" in page
    assert not models.Test.objects.exists()


def test_it_refuses_a_duplicate_name_and_an_unknown_test_type(cast):
    make_test(cast.owner, name="taken")
    client = signed_in(cast.owner)
    response = client.post(
        "/tests/new/http-server/", {"testName": "taken", "url": "https://a.example/", "interval": "60"}
    )
    assert response.status_code == 400 and "already exists in this account group" in response.content.decode()
    assert client.get("/tests/new/ping/").status_code == 404


def test_it_escapes_what_users_wrote(cast):
    make_test(cast.owner, name="<script>alert(1)</script>")
    page = signed_in(cast.owner).get("/tests/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_it_edits_a_test_but_not_its_target(cast):
    test = make_test(cast.owner, "http-server", name="shop")
    client = signed_in(cast.owner)
    form = client.get(f"/tests/{test.id}/edit/").content.decode()
    assert 'value="shop"' in form and "disabled" in form
    response = client.post(
        f"/tests/{test.id}/edit/", {"testName": "shop v2", "interval": "300", "url": "https://evil.example/"}
    )
    assert response.status_code == 302
    test.refresh_from_db()
    assert (test.name, test.interval, test.url, test.enabled) == ("shop v2", 300, "https://example.com/", False)


def test_it_disables_enables_and_deletes(cast):
    test = make_test(cast.owner, name="edge")
    client = signed_in(cast.owner)
    client.post(f"/tests/{test.id}/toggle/")
    assert not models.Test.objects.get(id=test.id).enabled
    assert "disabled" in client.get("/tests/").content.decode()
    client.post(f"/tests/{test.id}/toggle/")
    assert models.Test.objects.get(id=test.id).enabled
    assert "cannot be undone" in client.get(f"/tests/{test.id}/delete/").content.decode()
    assert client.post(f"/tests/{test.id}/delete/").status_code == 302
    assert not models.Test.objects.filter(id=test.id).exists()


def test_it_refuses_toggle_by_get(cast):
    test = make_test(cast.owner, name="edge")
    assert signed_in(cast.owner).get(f"/tests/{test.id}/toggle/").status_code == 405


def test_it_sets_the_path_traces_per_round_with_the_apis_rule(cast):
    client = signed_in(cast.owner)
    form = client.get("/tests/new/agent-to-server/").content.decode()
    assert 'name="numPathTraces"' in form and 'value="3"' in form
    client.post("/tests/new/agent-to-server/", {"testName": "edge", "server": "example.com:443", "interval": "60"})
    test = models.Test.objects.get(name="edge")
    assert test.num_path_traces == 3
    response = client.post(f"/tests/{test.id}/edit/", {"testName": "edge", "interval": "60", "numPathTraces": "11"})
    assert response.status_code == 400 and "Ensure this value is less than or equal to 10." in response.content.decode()
    client.post(f"/tests/{test.id}/edit/", {"testName": "edge", "interval": "60", "numPathTraces": "0"})
    test.refresh_from_db()
    assert test.num_path_traces == 0
    assert (
        'name="numPathTraces" type="number" min="0" max="10" step="1" value="0"'
        in client.get(f"/tests/{test.id}/edit/").content.decode()
    )
