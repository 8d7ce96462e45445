"""v6 shapes of tests, agents, users and roles (flags as 0/1, dates as 'YYYY-MM-DD HH:MM:SS')."""

from django.conf import settings
from django.utils import timezone

from spyglass.lib.anonymize import agent_label
from spyglass.lib.timefmt import format_v6_date
from spyglass.monitoring import catalogue
from spyglass.monitoring.models import Test
from spyglass.monitoring.tests_service import shared_with_accounts
from spyglass.sharing.scope_provider import anonymized_agent_order

from .test_settings import v6_fixed

ONLINE_AFTER_SECONDS = 180

# The v6 data paths of a test type's kinds of result, its own first, then path visualization (as v6 lists them).
DATA_PATHS = {
    test_type: [catalogue.kind(kind).path for kind in catalogue.kinds_of(test_type)] + [catalogue.PATH.path]
    for test_type, _ in Test.TYPES
}


def api_url(path: str) -> str:
    return f"{settings.BASE_URL}/v6/{path}"


def person(user) -> str | None:
    return user.display if user else None


def test_summary(test) -> dict:
    v6 = api_url("")  # once: a list asks for each of its tests' links, and each read of settings costs
    out = {
        "enabled": int(test.enabled),
        "testId": test.id,
        "savedEvent": int(test.saved_event),
        # Set by visible_tests(): another account group's test, live-shared with the caller.
        "liveShare": int(bool(getattr(test, "live_share", False))),
        "testName": test.name,
        "type": test.type,
        "interval": test.interval,
        "createdBy": person(test.created_by),
        "createdDate": format_v6_date(test.created_date),
        "modifiedBy": person(test.modified_by),
        "modifiedDate": format_v6_date(test.modified_date),
        "alertsEnabled": int(test.alerts_enabled),
        "description": test.description,
        "apiLinks": [{"rel": "self", "href": f"{v6}tests/{test.id}"}]
        + [{"rel": "data", "href": f"{v6}{p}/{test.id}"} for p in DATA_PATHS[test.type]],
    }
    out.update(v6_fixed(test.type))  # what the example bodies carry and spyglass does not vary
    if test.type == "agent-to-server":
        out.update(
            server=f"{test.server}:{test.port}",
            port=test.port,
            protocol=test.protocol,
            probeCount=test.probe_count,
            probeSpacing=test.probe_spacing_ms,
            numPathTraces=test.num_path_traces,
        )
    elif test.type == "http-server":
        out.update(
            url=test.url,
            httpTimeLimit=test.http_time_limit,
            httpTargetTime=test.http_target_time,
            followRedirects=int(test.follow_redirects),
            maxRedirects=test.max_redirects,
            verifyCertificate=int(test.verify_certificate),
            desiredStatusCode=test.desired_status_code,
            contentRegex=test.content_regex,
            networkMeasurements=int(test.network_measurements),
            numPathTraces=test.num_path_traces,
        )
    else:
        out.update(
            domain=test.domain,
            dnsServers=test.dns_servers,
            dnsTransportProtocol=test.dns_transport_protocol,
            recursiveQueries=int(test.recursive_queries),
            networkMeasurements=int(test.network_measurements),
            numPathTraces=test.num_path_traces,
        )
    return out


def agent_state(agent) -> str:
    if not agent.enabled:
        return "Disabled"
    if agent.last_seen and (timezone.now() - agent.last_seen).total_seconds() <= ONLINE_AFTER_SECONDS:
        return "Online"
    return "Offline"


def agent_summary(agent) -> dict:
    return {
        "agentId": agent.id,
        "agentName": agent.name,
        "agentType": agent.agent_type,
        "countryId": agent.country_id,
        "location": agent.location,
        "ipAddresses": agent.ip_addresses,
        "publicIpAddresses": agent.public_ip_addresses,
        "groups": [],
        "hostname": agent.hostname,
        "enabled": int(agent.enabled),
        "createdDate": format_v6_date(agent.created_date),
        "lastSeen": format_v6_date(agent.last_seen),
        "agentState": agent_state(agent),
        "version": agent.version,
        "spoolDropped": agent.spool_dropped,
    }


def test_agents(test) -> list:
    """The test's agents by id — an anonymized snapshot's own test row's by their pseudonyms, with no location,
    host name or addresses (unsaved copies: nothing is written)."""
    agents = list(test.agents.all().order_by("id"))
    order = anonymized_agent_order(test)
    if order is not None:
        for agent in agents:
            agent.name, agent.location, agent.hostname = agent_label(order, agent.id), "", ""
            agent.ip_addresses, agent.public_ip_addresses = [], []
    return agents


def test_detail(test) -> dict:
    out = test_summary(test)
    agents = test_agents(test)
    out["agents"] = [
        {
            k: v
            for k, v in agent_summary(a).items()
            if k in ("agentId", "agentName", "location", "countryId", "ipAddresses", "agentType")
        }
        for a in agents
    ]
    # An Endpoint test runs only on endpoint agents (people's laptops); snapshots refuse those.
    out["endpointTest"] = int(bool(agents) and all(a.agent_type == "Endpoint" for a in agents))
    # A recipient does not learn who else the owner shares with.
    out["sharedWithAccounts"] = [] if out["liveShare"] else shared_with_accounts(test)
    return out


def role_summary(role) -> dict:
    return {
        "roleId": role.id,
        "roleName": role.name,
        "builtin": int(role.builtin),
        "hasManagementPermissions": int(role.has_management_permissions),
    }


def permission_summary(permission) -> dict:
    return {
        "permissionId": permission.id,
        "label": permission.label,
        "isManagementPermission": int(permission.is_management),
    }


def account_group_ref(group) -> dict:
    return {"aid": group.id, "accountGroupName": group.name}


def user_summary(user) -> dict:
    login_group = user.default_account_group
    return {
        "uid": user.id,
        "name": user.name,
        "email": user.email,
        "dateRegistered": format_v6_date(user.date_registered),
        "lastLogin": format_v6_date(user.last_login),
        "loginAccountGroup": account_group_ref(login_group) if login_group else None,
    }
