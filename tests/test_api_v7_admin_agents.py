"""v7 Administrative and Agents APIs through the official SDK, unchanged, against a live server."""

import pytest
from thousandeyes_sdk.administrative import AccountGroupsApi, PermissionsApi, RolesApi, UsersApi
from thousandeyes_sdk.agents import CloudAndEnterpriseAgentsApi
from thousandeyes_sdk.agents.models import AgentListExpand, CloudEnterpriseAgentType
from thousandeyes_sdk.core.exceptions import ApiException

from tests.conftest import make_agent, make_test

pytestmark = pytest.mark.django_db(transaction=True)


def test_account_groups_say_which_is_current_and_default(cast, v7):
    api = AccountGroupsApi(v7(cast.owner))
    groups = {g.account_group_name: g for g in api.get_account_groups().account_groups}
    assert set(groups) == {"Ops", "Lab"}
    assert groups["Ops"].is_current_account_group and groups["Ops"].is_default_account_group
    assert not groups["Lab"].is_current_account_group
    assert groups["Ops"].organization_name == "Acme"
    lab = api.get_account_group(groups["Lab"].aid)
    assert lab.account_group_name == "Lab" and lab.aid == groups["Lab"].aid
    with pytest.raises(ApiException) as refused:  # another organization's group: as if it did not exist
        api.get_account_group(str(cast.other_org.aid))
    assert refused.value.status == 404


def test_users_roles_and_permissions_read_as_the_sdk_models_them(cast, v7):
    client = v7(cast.owner)
    users = UsersApi(client)
    emails = {u.email for u in users.get_users().users}
    assert emails == {"owner@acme.test", "mate@acme.test", "regular@acme.test"}
    me = users.get_current_user()
    assert me.email == "owner@acme.test" and me.uid == str(cast.owner.user.id)
    detail = users.get_user(str(cast.teammate.user.id))
    assert detail.name == "Tom Mate"
    assert [r.name for g in detail.account_group_roles for r in g.roles] == ["Organization Admin"]
    assert detail.date_registered is not None and detail.date_registered.tzinfo is not None
    roles = RolesApi(client).get_roles().roles
    admin = next(r for r in roles if r.name == "Account Admin")
    assert admin.is_builtin is True
    role = RolesApi(client).get_role(admin.role_id)
    assert role.permissions and all(isinstance(p.permission_id, str) for p in role.permissions)
    assert PermissionsApi(client).get_permissions().permissions


def test_a_regular_user_cannot_list_users_and_another_org_user_is_not_found(cast, v7):
    with pytest.raises(ApiException) as refused:
        UsersApi(v7(cast.regular)).get_users()
    assert refused.value.status == 403
    assert refused.value.headers["Content-Type"] == "application/problem+json"
    with pytest.raises(ApiException) as hidden:
        UsersApi(v7(cast.owner)).get_user(str(cast.other_org.user.id))
    assert hidden.value.status == 404
    assert hidden.value.data.status == 404 and hidden.value.data.detail == "Not found"


def test_agents_list_filter_and_detail(cast, v7):
    cloud = make_agent(cast.owner, "Frankfurt", agent_type="Cloud")
    enterprise = make_agent(cast.owner, "Office", agent_type="Enterprise", hostname="office-1")
    make_agent(cast.owner, "Laptop", agent_type="Endpoint")
    make_agent(cast.other_org, "Globex secret")
    test = make_test(cast.owner, "agent-to-server", agents=[{"agentId": enterprise.id}])
    api = CloudAndEnterpriseAgentsApi(v7(cast.owner))
    agents = [a.actual_instance for a in api.get_agents().agents]
    assert {a.agent_name for a in agents} == {"Frankfurt", "Office"}
    only_cloud = api.get_agents(agent_types=[CloudEnterpriseAgentType.CLOUD]).agents
    assert [a.actual_instance.agent_id for a in only_cloud] == [str(cloud.id)]
    office = api.get_agent(str(enterprise.id), expand=[AgentListExpand.TEST]).actual_instance
    assert office.agent_type == "enterprise" and office.hostname == "office-1"
    assert office.agent_state.value == "offline"
    assert [t.test_id for t in office.tests] == [str(test.id)]
    with pytest.raises(ApiException) as hidden:
        api.get_agent(str(make_agent(cast.other_org, "Elsewhere").id))
    assert hidden.value.status == 404


def test_errors_are_problem_details_with_field_errors(cast, v7):
    with pytest.raises(ApiException) as bad:
        UsersApi(v7(cast.owner)).get_users(aid="not-a-group")
    assert bad.value.status == 400
    assert [(e.var_field, e.message) for e in bad.value.data.errors] == [
        ("aid", "must be an account group id from /v7/account-groups")
    ]
    cast.owner.token = "wrong"
    with pytest.raises(ApiException) as unauthorized:
        UsersApi(v7(cast.owner)).get_current_user()
    assert unauthorized.value.status == 401
    assert unauthorized.value.data.error == "invalid_token"


def test_conventions_outside_the_sdk_happy_path(cast):
    client = cast.owner.client
    unknown = client.get("/v7/no-such-thing")
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/problem+json"
    assert unknown.json()["title"] == "Not Found"
    assert client.get("/v7/agents", HTTP_ACCEPT="text/html").status_code == 406
    plain = client.get("/v7/agents", HTTP_ACCEPT="application/json")
    assert plain.status_code == 200 and plain["Content-Type"] == "application/json"
    assert client.get("/v7/agents")["Content-Type"] == "application/hal+json"
    unreadable = client.post("/v7/tests/http-server", b"<test/>", content_type="text/xml")
    assert unreadable.status_code == 415 and unreadable.json()["status"] == 415
    for response in (unreadable, client.get("/v7/agents?aid=x")):  # refusals carry the rate-limit headers too
        assert response["X-Organization-Rate-Limit-Limit"].isdigit()
