"""Shapes of the read-only administrative endpoints and the agent list."""

from django.utils import timezone

from tests.conftest import make_agent, make_test


def test_users_list_and_detail_shapes(cast):
    users = cast.teammate.client.get("/v6/users.json").json()["users"]
    owner = next(u for u in users if u["email"] == "owner@acme.test")
    assert set(owner) == {"uid", "name", "email", "dateRegistered", "lastLogin", "loginAccountGroup"}
    assert owner["name"] == "Olive Owner"
    assert owner["loginAccountGroup"]["accountGroupName"] == "Ops"
    detail = cast.teammate.client.get(f"/v6/users/{owner['uid']}.json").json()["users"][0]
    groups = {g["accountGroup"]["accountGroupName"]: g["roles"][0]["roleName"] for g in detail["accountGroupRoles"]}
    assert groups == {"Ops": "Account Admin", "Lab": "Account Admin"}


def test_roles_and_permissions(cast):
    roles = cast.owner.client.get("/v6/roles.json").json()["roles"]
    names = {r["roleName"]: r for r in roles}
    assert {"Organization Admin", "Account Admin", "Regular User"} <= set(names)
    assert names["Regular User"]["builtin"] == 1
    assert names["Organization Admin"]["hasManagementPermissions"] == 1
    detail = cast.owner.client.get(f"/v6/roles/{names['Regular User']['roleId']}.json").json()["roles"][0]
    labels = {p["label"] for p in detail["permissions"]}
    assert "View tests" in labels and "Edit tests" not in labels
    permissions = {p["label"] for p in cast.owner.client.get("/v6/permissions.json").json()["permissions"]}
    for label in (
        "View tests",
        "Edit tests",
        "Create snapshot shares",
        "View snapshots shared by all users in account group",
        "Edit snapshots shared by all users in account group",
        "Accept inbound live shares",
        "Create live shares for inside the organization",
        "Create live shares for outside the organization",
    ):
        assert label in permissions


def test_agents_list_detail_and_type_filter(cast):
    online = make_agent(cast.owner, name="Frankfurt", last_seen=timezone.now(), version="1.0")
    make_agent(cast.owner, name="Cloud Tokyo", agent_type="Cloud")
    test = make_test(cast.owner, agents=[{"agentId": online.id}])
    agents = cast.owner.client.get("/v6/agents.json").json()["agents"]
    assert [(a["agentName"], a["agentState"]) for a in agents] == [("Frankfurt", "Online"), ("Cloud Tokyo", "Offline")]
    for field in (
        "agentId",
        "agentName",
        "agentType",
        "countryId",
        "location",
        "ipAddresses",
        "publicIpAddresses",
        "groups",
        "lastSeen",
        "version",
    ):
        assert field in agents[0]
    cloud = cast.owner.client.get("/v6/agents.json?agentTypes=CLOUD").json()["agents"]
    assert [a["agentName"] for a in cloud] == ["Cloud Tokyo"]
    bad = cast.owner.client.get("/v6/agents.json?agentTypes=SATELLITE")
    assert bad.status_code == 400 and "agentTypes" in bad.json()["errorMessage"]
    detail = cast.owner.client.get(f"/v6/agents/{online.id}.json").json()["agents"][0]
    assert [t["testId"] for t in detail["tests"]] == [test.id]
    assert detail["accountGroups"] == [{"aid": cast.owner.aid, "accountGroupName": "Ops"}]
