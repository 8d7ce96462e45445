"""The server side of agents: agent tokens, registration, heartbeats, assignments and result batches.

The agent API views (spyglass.api.agent) are thin over these functions; the agent runtime itself never imports them."""

import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from spyglass.lib import tokens

from . import results
from .models import Agent, AgentToken, Test

AGENT_TOKEN_PREFIX = "sga_"
HEARTBEAT_SECONDS = 30
KINDS = {"enterprise": Agent.ENTERPRISE, "endpoint": Agent.ENDPOINT}


def issue_agent_token(organization_id: int, name: str) -> str:
    """Create an agent token for the organization; returns the token, which is never stored or shown again."""
    token = tokens.new_token(AGENT_TOKEN_PREFIX)
    AgentToken.objects.create(
        organization_id=organization_id, name=name, digest=tokens.digest(settings.SECRET_KEY, token)
    )
    return token


# Every agent request runs the queries below. They are written in SQL because the ORM compiling them cost
# 0.25–0.55 ms each on the reference machine, more than SQLite inserting a hundred result rows (issue 7, row 5).
# Fields not selected load on first access, as with QuerySet.only().


def token_for(raw: str) -> AgentToken | None:
    table = AgentToken._meta.db_table
    sql = f"SELECT id, organization_id FROM {table} WHERE digest = %s AND NOT revoked"
    found = list(AgentToken.objects.raw(sql, [tokens.digest(settings.SECRET_KEY, raw)]))
    return found[0] if found else None


def agent_of(organization_id: int, agent_id: int) -> Agent | None:
    """The organization's agent of that id (id, organization and enabled loaded), or None."""
    sql = f"SELECT id, organization_id, enabled FROM {Agent._meta.db_table} WHERE id = %s AND organization_id = %s"
    found = list(Agent.objects.raw(sql, [agent_id, organization_id]))
    return found[0] if found else None


def tests_for_results(agent: Agent) -> dict[int, Test]:
    """assigned_tests(agent) by id, with only what result validation reads (type, interval and the target)."""
    if not agent.enabled:
        return {}
    through = Test.agents.through._meta.db_table
    sql = (
        f"SELECT t.id, t.type, t.interval, t.server, t.port, t.url, t.domain FROM {Test._meta.db_table} t "
        f"JOIN {through} ta ON ta.test_id = t.id WHERE ta.agent_id = %s AND t.enabled AND NOT t.saved_event"
    )
    return {test.id: test for test in Test.objects.raw(sql, [agent.id])}


@transaction.atomic
def register(organization_id: int, name: str, kind: str, version: str, hostname: str, ip_addresses: list) -> Agent:
    """Find the organization's agent of that name (an agent keeps its identity across restarts) or create it."""
    now = timezone.now()
    values = {
        "agent_type": KINDS[kind],
        "version": version,
        "hostname": hostname,
        "ip_addresses": ip_addresses,
        "last_seen": now,
    }
    agent, created = Agent.objects.select_for_update().get_or_create(
        organization_id=organization_id, name=name, defaults=values
    )
    if not created:
        for key, value in values.items():
            setattr(agent, key, value)
        agent.save(update_fields=list(values))
    return agent


def heartbeat(agent: Agent, version: str, spool_dropped: int) -> None:
    Agent.objects.filter(id=agent.id).update(last_seen=timezone.now(), version=version, spool_dropped=spool_dropped)


def assigned_tests(agent: Agent):
    """Tests this agent must run: enabled, live (not snapshots), with the agent in their agent list."""
    if not agent.enabled:
        return Test.objects.none()
    return Test.objects.filter(agents=agent, enabled=True, saved_event=False).order_by("id")


def assignment(test: Test) -> dict:
    """What the agent needs to run a test, in v6 field names."""
    out = {"testId": test.id, "type": test.type, "interval": test.interval, "testName": test.name}
    if test.type == Test.AGENT_TO_SERVER:
        out.update(
            server=test.server,
            port=test.port,
            protocol=test.protocol,
            probeCount=test.probe_count,
            probeSpacing=test.probe_spacing_ms,
        )
    elif test.type == Test.HTTP_SERVER:
        out.update(
            url=test.url,
            httpTimeLimit=test.http_time_limit,
            followRedirects=test.follow_redirects,
            maxRedirects=test.max_redirects,
            verifyCertificate=test.verify_certificate,
            headers=test.headers,
            networkMeasurements=test.network_measurements,
        )
    else:
        out.update(
            domain=test.domain,
            dnsServers=[s["serverName"] for s in test.dns_servers],
            dnsTransportProtocol=test.dns_transport_protocol,
            recursiveQueries=test.recursive_queries,
            networkMeasurements=test.network_measurements,
        )
    return out


def latest_round(interval: int, now: float | None = None, skew: float = 5.0) -> int:
    """The newest roundId an agent may report: the current round, allowing a few seconds of clock skew."""
    now = time.time() if now is None else now
    return int(now + skew) // interval * interval


@transaction.atomic
def store_batch(agent: Agent | int, columns_by_kind: dict[str, dict[str, list]]) -> int:
    """Write a validated batch ({column: values} per kind, dates in epoch seconds) for an agent (or its id) in one
    transaction: all of it or nothing."""
    agent_id = agent if isinstance(agent, int) else agent.id
    total = 0
    for kind, columns in columns_by_kind.items():
        total += results.upsert_columns(kind, columns, {"agent_id": agent_id})
    last_seen = Agent._meta.get_field("last_seen").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {Agent._meta.db_table} SET last_seen = %s WHERE id = %s", [last_seen, agent_id])
    return total
