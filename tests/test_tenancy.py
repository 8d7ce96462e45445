"""The tenancy matrix: every v6 endpoint × owner, teammate, Regular User, another account group, another
organization. Built from the URL configuration, so a new endpoint without an entry here fails."""

import pytest
from django.urls import get_resolver

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboard_services
from spyglass.liveshares import services as live_share_services
from spyglass.sharing import dashboard_snapshots
from spyglass.streams.models import Stream
from tests.conftest import make_agent, make_derived_snapshot, make_snapshot, make_test
from tests.path_helpers import write_traces

TRACED_ROUND = 1795334400

# name → (method, path template, body, expected status per person)
OK_ALL = {"owner": 200, "teammate": 200, "regular": 200, "other_group": 200, "other_org": 200}
OWN_GROUP_ONLY = {"owner": 200, "teammate": 200, "regular": 200, "other_group": 404, "other_org": 404}
OWN_ORG_ONLY = {"owner": 200, "teammate": 200, "regular": 200, "other_group": 200, "other_org": 404}
WRITE = {"regular": 403, "other_group": 404, "other_org": 404}
RECIPIENT_ONLY = {"owner": 404, "teammate": 404, "regular": 403, "other_group": 200, "other_org": 404}

MATRIX = {
    "status": ("GET", "/v6/status.json", None, OK_ALL),
    "account-groups": ("GET", "/v6/account-groups.json", None, OK_ALL),
    "users": ("GET", "/v6/users.json", None, {**OK_ALL, "regular": 403}),
    "user-detail": ("GET", "/v6/users/{uid}.json", None, {**OWN_GROUP_ONLY, "regular": 403}),
    "roles": ("GET", "/v6/roles.json", None, OK_ALL),
    "role-detail": ("GET", "/v6/roles/{role_id}.json", None, OK_ALL),
    "permissions": ("GET", "/v6/permissions.json", None, OK_ALL),
    "agents": ("GET", "/v6/agents.json", None, OK_ALL),
    "agent-detail": ("GET", "/v6/agents/{agent_id}.json", None, OWN_ORG_ONLY),
    "tests": ("GET", "/v6/tests.json", None, OK_ALL),
    "tests-by-type": ("GET", "/v6/tests/http-server.json", None, OK_ALL),
    "test-detail": ("GET", "/v6/tests/{test_id}.json", None, OWN_GROUP_ONLY),
    "test-create": (
        "POST",
        "/v6/tests/http-server/new.json",
        {"testName": "new one", "interval": 60, "url": "https://example.org/"},
        {"owner": 201, "teammate": 201, "regular": 403, "other_group": 201, "other_org": 201},
    ),
    "test-update": (
        "POST",
        "/v6/tests/http-server/{test_id}/update.json",
        {"description": "changed"},
        {"owner": 200, "teammate": 200, **WRITE},
    ),
    "test-delete": (
        "POST",
        "/v6/tests/http-server/{test_id}/delete.json",
        None,
        {"owner": 204, "teammate": 204, **WRITE},
    ),
    "net-metrics": ("GET", "/v6/net/metrics/{test_id}.json?window=1h", None, OWN_GROUP_ONLY),
    "http-server-data": ("GET", "/v6/web/http-server/{test_id}.json", None, OWN_GROUP_ONLY),
    "dns-server-data": ("GET", "/v6/dns/server/{dns_test_id}.json", None, OWN_GROUP_ONLY),
    # the agent's path traces of one round of the owner's test exist
    "path-vis": ("GET", "/v6/net/path-vis/{test_id}.json", None, OWN_GROUP_ONLY),
    "path-vis-detail": ("GET", "/v6/net/path-vis/{test_id}/{agent_id}/{round_id}.json", None, OWN_GROUP_ONLY),
    # live shares: a pending share of the owner's test with the Dev group (other_group) exists
    "live-shares": ("GET", "/v6/live-shares.json", None, OK_ALL),
    "live-share-create": (
        "POST",
        "/v6/live-shares/new.json",
        {"testId": "{test_id}", "email": "someone@initech.test"},
        # Account Admin (owner) lacks "Create live shares for outside the organization"
        {"owner": 403, "teammate": 201, "regular": 403, "other_group": 404, "other_org": 404},
    ),
    "live-share-accept": ("POST", "/v6/live-shares/{share_id}/accept.json", None, RECIPIENT_ONLY),
    "live-share-decline": ("POST", "/v6/live-shares/{share_id}/decline.json", None, RECIPIENT_ONLY),
    # the share is pending: the recipient passes the checkpoint and is told only an accepted one can be dropped
    "live-share-drop": (
        "POST",
        "/v6/live-shares/{share_id}/drop.json",
        None,
        {"owner": 404, "teammate": 404, "regular": 403, "other_group": 400, "other_org": 404},
    ),
    "live-share-delete": (
        "POST",
        "/v6/live-shares/{share_id}/delete.json",
        None,
        {"owner": 204, "teammate": 204, **WRITE},
    ),
    # a snapshot the owner's Lab group made of the test through an accepted live share from Ops
    "live-share-snapshot-delete": (
        "POST",
        "/v6/live-shares/{derived_share_id}/snapshots/{derived_snapshot_id}/delete.json",
        None,
        {"owner": 204, "teammate": 204, **WRITE},
    ),
    "dashboards": ("GET", "/v6/dashboards.json", None, OK_ALL),
    "dashboard-detail": ("GET", "/v6/dashboards/{dashboard_id}.json", None, OWN_GROUP_ONLY),
    "dashboard-data": ("GET", "/v6/dashboards/{dashboard_id}/data.json", None, OWN_GROUP_ONLY),
    "dashboard-delete": (
        "POST",
        "/v6/dashboards/{dashboard_id}/delete.json",
        None,
        {"owner": 204, "teammate": 204, **WRITE},
    ),
    "snapshot-create": (
        "POST",
        "/v6/snapshot.json",
        {"testId": "{test_id}", "displayName": "shared", "from": "2026-11-22 08:00:00", "to": "2026-11-22T10:00:00"},
        {"owner": 201, "teammate": 201, **WRITE},
    ),
    "dashboard-snapshots": ("GET", "/v6/dashboard-snapshots.json", None, OK_ALL),
    "dashboard-snapshot-detail": ("GET", "/v6/dashboard-snapshots/{dashboard_link_id}.json", None, OWN_GROUP_ONLY),
    "dashboard-snapshot-data": ("GET", "/v6/dashboard-snapshots/{dashboard_link_id}/data.json", None, OWN_GROUP_ONLY),
    "dashboard-snapshot-delete": (
        "POST",
        "/v6/dashboard-snapshots/{dashboard_link_id}/delete.json",
        None,
        {"owner": 204, "teammate": 204, **WRITE},
    ),
    "snapshots": ("GET", "/v6/snapshots.json", None, OK_ALL),
    "snapshot-detail": ("GET", "/v6/snapshots/{link_id}.json", None, OWN_GROUP_ONLY),
    "snapshot-update": (
        "POST",
        "/v6/snapshots/{link_id}/update.json",
        {"displayName": "renamed"},
        {"owner": 200, "teammate": 200, **WRITE},
    ),
    "snapshot-delete": ("POST", "/v6/snapshots/{link_id}/delete.json", None, {"owner": 204, "teammate": 204, **WRITE}),
    "openapi": ("GET", "/v6/openapi.json", None, OK_ALL),
    "api-docs": ("GET", "/v6/docs/", None, OK_ALL),
}


def make_dashboard_snapshot(person, dashboard, test):
    """A dashboard snapshot of the person's dashboard with one widget on the test."""
    access = access_for(person.user, None)
    dashboard_services.add_widget(access, dashboard, test.id, "totalTime", 3600)
    return dashboard_snapshots.create_dashboard_snapshot(access, dashboard)


def _v6_url_names():
    return {p.name for p in get_resolver().url_patterns[0].url_patterns if p.name}


def test_every_v6_endpoint_has_a_row_in_the_matrix():
    missing = _v6_url_names() - set(MATRIX)
    assert not missing, f"add these endpoints to the tenancy matrix: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize("who", ["owner", "teammate", "regular", "other_group", "other_org"])
def test_each_person_gets_the_documented_answer(cast, name, who):
    test = make_test(cast.owner, "http-server", name="shared web")
    dns_test = make_test(cast.owner, "dns-server", name="shared dns")
    agent = make_agent(cast.owner)
    write_traces(test, [agent], [TRACED_ROUND])
    share = live_share_services.create(access_for(cast.owner.user, None), test.id, aid=cast.other_group.aid)
    dashboard = dashboard_services.default_dashboard(access_for(cast.owner.user, None))
    snapshot = make_snapshot(cast.owner, test)
    derived_share, derived = make_derived_snapshot(cast, test)
    dashboard_snapshot = make_dashboard_snapshot(cast.owner, dashboard, test)
    method, template, body, expected = MATRIX[name]
    ids = dict(
        link_id=snapshot.link_id,
        test_id=test.id,
        dns_test_id=dns_test.id,
        agent_id=agent.id,
        uid=cast.owner.user.id,
        role_id=cast.owner.user.memberships.first().role_id,
        share_id=share.id,
        dashboard_id=dashboard.id,
        derived_share_id=derived_share.id,
        derived_snapshot_id=derived.id,
        dashboard_link_id=dashboard_snapshot.link_id,
        round_id=TRACED_ROUND,
    )
    path = template.format(**ids)
    if body:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    client = cast.all()[who].client
    response = client.get(path) if method == "GET" else client.post(path, body or {}, format="json")
    assert response.status_code == expected[who], (who, path, response.content[:200])
    if response.status_code == 404:
        assert response.json() == {"errorMessage": "Not found"}  # never says whether it exists


def test_a_foreign_aid_is_400_whether_or_not_the_group_exists(cast):
    foreign = cast.other_org.aid
    exists = cast.owner.client.get(f"/v6/tests.json?aid={foreign}")
    missing = cast.owner.client.get("/v6/tests.json?aid=987654")
    assert exists.status_code == missing.status_code == 400
    assert exists.json() == missing.json()
    assert "aid" in exists.json()["errorMessage"]


def test_aid_switches_the_account_group(cast):
    lab = [
        g
        for g in cast.owner.client.get("/v6/account-groups.json").json()["accountGroups"]
        if g["accountGroupName"] == "Lab"
    ][0]
    make_test(cast.owner, name="in ops")
    response = cast.owner.client.post(
        f"/v6/tests/agent-to-server/new.json?aid={lab['aid']}",
        {"testName": "in lab", "interval": 60, "server": "h:1"},
        format="json",
    )
    assert response.status_code == 201
    in_lab = cast.owner.client.get(f"/v6/tests.json?aid={lab['aid']}").json()["test"]
    in_ops = cast.owner.client.get("/v6/tests.json").json()["test"]
    assert [t["testName"] for t in in_lab] == ["in lab"]
    assert [t["testName"] for t in in_ops] == ["in ops"]
    groups = cast.owner.client.get(f"/v6/account-groups.json?aid={lab['aid']}").json()["accountGroups"]
    assert {g["accountGroupName"]: (g["current"], g["default"]) for g in groups} == {"Ops": (0, 1), "Lab": (1, 0)}


def test_lists_never_show_another_tenants_tests_or_agents(cast):
    make_test(cast.other_org, name="globex secret")
    make_agent(cast.other_org, name="Globex agent")
    assert cast.owner.client.get("/v6/tests.json").json() == {"test": []}
    assert cast.owner.client.get("/v6/agents.json").json() == {"agents": []}
    users = {u["email"] for u in cast.owner.client.get("/v6/users.json").json()["users"]}
    assert users == {"owner@acme.test", "mate@acme.test", "regular@acme.test"}


# The v7 routes (spyglass/api/v7/urls.py): the same people, the same one access decision underneath.
V7_MATRIX = {
    "v7-openapi": ("GET", "/v7/openapi.json", None, OK_ALL),
    "v7-api-docs": ("GET", "/v7/docs/", None, OK_ALL),
    "v7-account-groups": ("GET", "/v7/account-groups", None, OK_ALL),
    "v7-account-group-detail": ("GET", "/v7/account-groups/{aid}", None, OWN_GROUP_ONLY),
    "v7-users": ("GET", "/v7/users", None, {**OK_ALL, "regular": 403}),
    "v7-user-current": ("GET", "/v7/users/current", None, OK_ALL),
    "v7-user-detail": ("GET", "/v7/users/{uid}", None, {**OWN_GROUP_ONLY, "regular": 403}),
    "v7-roles": ("GET", "/v7/roles", None, OK_ALL),
    "v7-role-detail": ("GET", "/v7/roles/{role_id}", None, OK_ALL),
    "v7-permissions": ("GET", "/v7/permissions", None, OK_ALL),
    "v7-agents": ("GET", "/v7/agents", None, OK_ALL),
    "v7-agent-detail": ("GET", "/v7/agents/{agent_id}", None, OWN_ORG_ONLY),
    "v7-tests": ("GET", "/v7/tests", None, OK_ALL),
    "v7-tests-http-server": ("GET", "/v7/tests/http-server", None, OK_ALL),
    "v7-tests-agent-to-server": (
        "POST",
        "/v7/tests/agent-to-server",
        {"testName": "new one", "interval": 60, "server": "example.org:443", "agents": []},
        {"owner": 201, "teammate": 201, "regular": 403, "other_group": 201, "other_org": 201},
    ),
    "v7-tests-dns-server": ("GET", "/v7/tests/dns-server", None, OK_ALL),
    "v7-test-http-server": ("GET", "/v7/tests/http-server/{test_id}", None, OWN_GROUP_ONLY),
    "v7-test-agent-to-server": (
        "PUT",
        "/v7/tests/agent-to-server/{net_test_id}",
        {"description": "changed"},
        {"owner": 200, "teammate": 200, **WRITE},
    ),
    "v7-results-network": ("GET", "/v7/test-results/{net_test_id}/network?window=1h", None, OWN_GROUP_ONLY),
    "v7-results-http-server": ("GET", "/v7/test-results/{test_id}/http-server", None, OWN_GROUP_ONLY),
    "v7-results-dns-server": ("GET", "/v7/test-results/{dns_test_id}/dns-server", None, OWN_GROUP_ONLY),
    "v7-results-dns-server-one": ("GET", "/v7/test-results/{dns_test_id}/dns-server/1", None, OWN_GROUP_ONLY),
    "v7-results-path-vis": ("GET", "/v7/test-results/{test_id}/path-vis", None, OWN_GROUP_ONLY),
    "v7-results-path-vis-detail": (
        "GET",
        "/v7/test-results/{test_id}/path-vis/agent/{agent_id}/round/1795000020",
        None,
        OWN_GROUP_ONLY,
    ),
    "v7-test-snapshot": (
        "POST",
        "/v7/tests/{test_id}/snapshot",
        {"displayName": "shared", "startDate": "2026-11-22T08:00:00Z", "endDate": "2026-11-22T10:00:00+00:00"},
        {"owner": 201, "teammate": 201, **WRITE},
    ),
    "v7-dashboard-snapshots": (
        "POST",
        "/v7/dashboard-snapshots",
        {"dashboardId": "{dashboard_id}", "displayName": "whole board"},
        {"owner": 201, "teammate": 201, **WRITE},
    ),
    "v7-dashboard-snapshot-detail": ("GET", "/v7/dashboard-snapshots/{dashboard_link_id}", None, OWN_GROUP_ONLY),
    "v7-dashboard-snapshot-widget": (
        "GET",
        "/v7/dashboard-snapshots/{dashboard_link_id}/widgets/0",
        None,
        OWN_GROUP_ONLY,
    ),
    "v7-dashboards": ("GET", "/v7/dashboards", None, OK_ALL),
    # streams: the account group's administrators only (a stream of the owner's group exists)
    "v7-streams": ("GET", "/v7/streams", None, {**OK_ALL, "regular": 403}),
    "v7-stream-detail": ("GET", "/v7/streams/{stream_id}", None, {**OWN_GROUP_ONLY, "regular": 403}),
    "v7-dashboard-detail": ("GET", "/v7/dashboards/{dashboard_id}", None, OWN_GROUP_ONLY),
    "v7-dashboard-schedule": (
        "PUT",
        "/v7/dashboards/{dashboard_id}/actions/schedule",
        {
            "cronSpec": {"startTime": 1795334400, "zoneCode": "UTC", "repeat": "EVERY_WEEK"},
            "dataSource": {"name": "weekly"},
            "dataTimespan": {"n": 1, "period": "WEEK"},
            "flagEnabled": True,
            "recipients": ["boss@acme.test"],
        },
        {"owner": 200, "teammate": 200, **WRITE},
    ),
    "v7-test-dns-server": (
        "DELETE",
        "/v7/tests/dns-server/{dns_test_id}",
        None,
        {"owner": 204, "teammate": 204, **WRITE},
    ),
}


def _v7_url_names():
    v7 = next(
        p for p in get_resolver().url_patterns if getattr(p.urlconf_module, "__name__", "") == "spyglass.api.v7.urls"
    )
    return {p.name for p in v7.url_patterns if p.name}


def test_every_v7_endpoint_has_a_row_in_the_matrix():
    missing = _v7_url_names() - set(V7_MATRIX)
    assert not missing, f"add these endpoints to the v7 tenancy matrix: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(V7_MATRIX))
@pytest.mark.parametrize("who", ["owner", "teammate", "regular", "other_group", "other_org"])
def test_each_person_gets_the_documented_answer_from_v7(cast, name, who):
    test = make_test(cast.owner, "http-server", name="shared web")
    dns_test = make_test(cast.owner, "dns-server", name="shared dns")
    net_test = make_test(cast.owner, "agent-to-server", name="shared net")
    agent = make_agent(cast.owner, agent_type="Enterprise")
    snapshot = make_snapshot(cast.owner, test)
    dashboard = dashboard_services.default_dashboard(access_for(cast.owner.user, None))
    dashboard_snapshot = make_dashboard_snapshot(cast.owner, dashboard, test)
    stream = Stream.objects.create(
        account_group_id=cast.owner.aid, name="to the collector", endpoint_type="http", url="https://otel.example/"
    )
    method, template, body, expected = V7_MATRIX[name]
    ids = dict(
        aid=cast.owner.aid,
        link_id=snapshot.link_id,
        test_id=test.id,
        dns_test_id=dns_test.id,
        net_test_id=net_test.id,
        agent_id=agent.id,
        uid=cast.owner.user.id,
        role_id=cast.owner.user.memberships.first().role_id,
        dashboard_id=dashboard.id,
        dashboard_link_id=dashboard_snapshot.link_id,
        stream_id=stream.id,
    )
    path = template.format(**ids)
    if body:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    client = cast.all()[who].client
    if method in ("GET", "DELETE"):
        response = getattr(client, method.lower())(path)
    else:
        response = getattr(client, method.lower())(path, body or {}, format="json")
    assert response.status_code == expected[who], (who, path, response.content[:300])
    if response.status_code == 404:  # never says whether it exists
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "Not found"
