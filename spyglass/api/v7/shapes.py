"""v7 shapes of tests and agents, shared by the v7 views (test list and detail, agents, test results)."""

from spyglass.monitoring import catalogue
from spyglass.monitoring.tests_service import shared_with_accounts

from ..representations import agent_state as v6_agent_state
from ..representations import test_agents
from ..test_settings import v7_fixed
from .conventions import href, iso

# v7 names of the kinds of result (their path under /v7/test-results/{testId}/).
RESULT_PATHS = {"net": "network", "http": "http-server", "dns": "dns-server"}
AGENT_TYPES = {"Cloud": "cloud", "Enterprise": "enterprise"}  # Endpoint agents are not in v7's /agents


def person(user) -> str | None:
    return user.display if user else None


def test_links(test) -> dict:
    results = [href(f"test-results/{test.id}/{RESULT_PATHS[k]}") for k in catalogue.kinds_of(test.type)]
    results.append(href(f"test-results/{test.id}/path-vis"))
    return {"self": href(f"tests/{test.type}/{test.id}"), "testResults": results}


def simple_test(test) -> dict:
    out = {
        "interval": test.interval,
        "alertsEnabled": test.alerts_enabled,
        "enabled": test.enabled,
        "createdBy": person(test.created_by),
        "createdDate": iso(test.created_date),
        "description": test.description,
        "liveShare": bool(getattr(test, "live_share", False)),
        "modifiedBy": person(test.modified_by),
        "modifiedDate": iso(test.modified_date),
        "savedEvent": test.saved_event,
        "testId": str(test.id),
        "testName": test.name,
        "type": test.type,
        "_links": test_links(test),
    }
    return {k: v for k, v in out.items() if v is not None}


def typed_test(test) -> dict:
    """The type's own fields (UnexpandedAgentToServerTest, …): SimpleTest plus target and settings."""
    out = simple_test(test)
    del out["type"]  # not a field of the typed models
    out.update(v7_fixed(test.type))
    if test.type == "agent-to-server":
        out.update(server=f"{test.server}:{test.port}", port=test.port, protocol=test.protocol.lower())
        out.update(probeCount=test.probe_count, probeSpacing=test.probe_spacing_ms)
        out.update(networkMeasurements=test.takes_network_measurements)
    elif test.type == "http-server":
        out.update(
            url=test.url,
            httpTimeLimit=test.http_time_limit,
            httpTargetTime=test.http_target_time,
            followRedirects=test.follow_redirects,
            maxRedirects=test.max_redirects,
            verifyCertificate=test.verify_certificate,
            desiredStatusCode=test.desired_status_code,
            contentRegex=test.content_regex,
            networkMeasurements=test.network_measurements,
        )
    else:
        out.update(
            domain=test.domain,
            dnsServers=[{"serverId": str(s["serverId"]), "serverName": s["serverName"]} for s in test.dns_servers],
            dnsTransportProtocol=test.dns_transport_protocol.lower(),
            recursiveQueries=test.recursive_queries,
            networkMeasurements=test.network_measurements,
        )
    return out


def test_detail(test) -> dict:
    """…TestResponse: the typed test with its agents and the accounts it is shared with."""
    out = typed_test(test)
    out["agents"] = [agent_ref(a) for a in test_agents(test) if a.agent_type in AGENT_TYPES]
    shared = [] if out["liveShare"] else shared_with_accounts(test)
    out["sharedWithAccounts"] = [{"aid": str(s["aid"])} for s in shared]
    return out


def agent_ref(agent) -> dict:
    return {
        "agentId": str(agent.id),
        "agentName": agent.name,
        "agentType": AGENT_TYPES[agent.agent_type],
        "location": agent.location,
        "countryId": agent.country_id,
        "ipAddresses": agent.ip_addresses,
        "publicIpAddresses": agent.public_ip_addresses,
        "enabled": agent.enabled,
    }


def agent_summary(agent) -> dict:
    out = agent_ref(agent)
    if agent.agent_type == "Enterprise":
        out.update(
            hostname=agent.hostname,
            lastSeen=iso(agent.last_seen),
            agentState=v6_agent_state(agent).lower(),
            createdDate=iso(agent.created_date),
        )
    out["_links"] = {"self": href(f"agents/{agent.id}")}
    return {k: v for k, v in out.items() if v is not None}


def result_agent(agent_id, name, country_id) -> dict:
    return {"agentId": str(agent_id), "agentName": name, "countryId": country_id}
