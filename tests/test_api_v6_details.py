"""v6 details real clients trip on (issue 20): the test object of data responses, which tests are listed,
rate-limit headers on refusals, 406, 415, the 429 message, and the dashboards shape community clients read."""

import time

from rest_framework.test import APIClient

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboards
from spyglass.monitoring.seed import seed
from tests.conftest import make_snapshot, make_test

RATE_HEADERS = (
    "X-Organization-Rate-Limit-Limit",
    "X-Organization-Rate-Limit-Remaining",
    "X-Organization-Rate-Limit-Reset",
)


def test_the_test_object_of_data_responses_carries_the_example_fields(cast):
    web = make_test(cast.owner, "http-server", name="web")
    dns = make_test(cast.owner, "dns-server", name="names")
    test = cast.owner.client.get(f"/v6/web/http-server/{web.id}.json").json()["web"]["test"]
    assert {k: test[k] for k in ("authType", "httpVersion", "ipv6Policy", "probeMode", "protocol", "sslVersion")} == {
        "authType": "NONE",
        "httpVersion": 2,
        "ipv6Policy": "USE_AGENT_POLICY",
        "probeMode": "AUTO",
        "protocol": "TCP",
        "sslVersion": "Auto",
    }
    assert (test["mtuMeasurements"], test["bandwidthMeasurements"], test["useNtlm"]) == (0, 0, 0)
    test = cast.owner.client.get(f"/v6/dns/server/{dns.id}.json").json()["dns"]["test"]
    assert (test["dnsQueryClass"], test["dnsTransportProtocol"], test["bgpMeasurements"]) == ("IN", "UDP", 0)


def test_share_links_are_not_listed_among_tests_but_saved_events_are(cast):
    web = make_test(cast.owner, "http-server", name="web")
    link = make_snapshot(cast.owner, web, display_name="shared link", is_public=True)
    saved = make_snapshot(cast.owner, web, display_name="saved event", is_public=False)
    listed = {t["testId"]: t for t in cast.owner.client.get("/v6/tests.json").json()["test"]}
    assert web.id in listed and saved.test_id in listed and link.test_id not in listed
    assert listed[saved.test_id]["savedEvent"] == 1
    assert cast.owner.client.get(f"/v6/tests/{link.test_id}.json").status_code == 200  # still readable by id


def test_rate_limit_headers_are_on_refusals_too(cast):
    bad_aid = cast.owner.client.get("/v6/tests.json?aid=nope")
    unauthorized = APIClient().get("/v6/tests.json", HTTP_AUTHORIZATION="Bearer not-a-token")
    not_acceptable = cast.owner.client.get("/v6/tests", HTTP_ACCEPT="text/html")
    unreadable = cast.owner.client.post("/v6/tests/http-server/new.json", b"%PDF-1.7", content_type="application/pdf")
    unknown = cast.owner.client.get("/v6/no-such-endpoint.json")
    status = APIClient().get("/v6/status.json")
    refusals = (bad_aid, unauthorized, not_acceptable, unreadable, unknown, status)
    assert [r.status_code for r in refusals] == [400, 401, 406, 415, 404, 200]
    for response in refusals:
        assert all(response[h].isdigit() for h in RATE_HEADERS), response.status_code
    assert int(bad_aid["X-Organization-Rate-Limit-Remaining"]) < int(bad_aid["X-Organization-Rate-Limit-Limit"])
    assert "Accept" in not_acceptable.json()["errorMessage"]
    # what v6 clients send still works: a browser's Accept, curl's */*, a suffix, format=
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert cast.owner.client.get("/v6/tests", HTTP_ACCEPT=browser).status_code == 200
    assert cast.owner.client.get("/v6/tests", HTTP_ACCEPT="*/*").status_code == 200
    assert cast.owner.client.get("/v6/tests.json", HTTP_ACCEPT="text/html").status_code == 200
    assert cast.owner.client.get("/v6/tests?format=xml", HTTP_ACCEPT="text/html").status_code == 200


def test_the_snapshot_limit_says_the_wait_once(cast, settings):
    settings.SNAPSHOT_RATE = [(1, 300)]
    web = make_test(cast.owner, "http-server", name="web")
    body = {"testId": web.id, "displayName": "s", "from": "2026-11-22 08:00:00", "to": "2026-11-22 09:00:00"}
    assert cast.owner.client.post("/v6/snapshot.json", body, format="json").status_code == 201
    refused = cast.owner.client.post("/v6/snapshot.json", body, format="json")
    assert refused.status_code == 429
    message = refused.json()["errorMessage"]
    assert message.count("seconds") == 1 and "Expected available" not in message
    assert int(refused["Retry-After"]) > 0


def test_dashboards_use_the_v6_shape_community_clients_read(cast):
    web = make_test(cast.owner, "http-server", name="shop front")
    seed(web, agents=2, hours=1, random_seed=4, now=time.time())
    access = access_for(cast.owner.user, None)
    board = dashboards.default_dashboard(access)
    dashboards.add_widget(access, board, web.id, "totalTime", 3600)
    listed = cast.owner.client.get("/v6/dashboards.json").json()["dashboards"]
    assert [(d["id"], d["title"]) for d in listed] == [(board.id, "Dashboard")]
    (detail,) = cast.owner.client.get(f"/v6/dashboards/{board.id}.json").json()["dashboards"]
    (widget,) = detail["widgets"]
    filters = [f for c in widget["dataComponents"] for f in c["filter"]["filters"]]
    assert {"key": "Test Name", "value": "shop front"} in filters
    assert widget["data"] and all(type(point["roundId"]) is int for point in widget["data"])
