"""The server side of agents: agent tokens, registration, heartbeats, assignments and result batches.

The agent API views (spyglass.api.agent) are thin over these functions; the agent runtime itself never imports them."""

import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from spyglass.lib import tokens

from . import path_store, results
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
# Fields not selected load on first access, as with QuerySet.only(). The agent API's decision — a live token, an
# agent of the token's organization, the tests assigned to it — is written once, in the three conditions below, for
# the DRF views (token_for, agent_of, tests_for_results) and the lean upload path (upload_target) alike.
_LIVE_TOKEN = "k.digest = %s AND NOT k.revoked"
_TOKENS_AGENT = "a.id = %s AND a.organization_id = {organization}"
_ASSIGNED = "ta.agent_id = {agent} AND t.enabled AND NOT t.saved_event"
# What result validation reads of a test: its type, interval and target.
_TEST_COLUMNS = "t.id, t.type, t.interval, t.server, t.port, t.url, t.domain"


def _digest(raw: str) -> str:
    return tokens.digest(settings.SECRET_KEY, raw)


def token_for(raw: str) -> AgentToken | None:
    sql = f"SELECT k.id, k.organization_id FROM {AgentToken._meta.db_table} k WHERE {_LIVE_TOKEN}"
    found = list(AgentToken.objects.raw(sql, [_digest(raw)]))
    return found[0] if found else None


def agent_of(organization_id: int, agent_id: int) -> Agent | None:
    """The organization's agent of that id (id, organization and enabled loaded), or None."""
    where = _TOKENS_AGENT.format(organization="%s")
    sql = f"SELECT a.id, a.organization_id, a.enabled FROM {Agent._meta.db_table} a WHERE {where}"
    found = list(Agent.objects.raw(sql, [agent_id, organization_id]))
    return found[0] if found else None


def tests_for_results(agent: Agent) -> dict[int, Test]:
    """assigned_tests(agent) by id, with only what result validation reads (type, interval and the target)."""
    if not agent.enabled:
        return {}
    sql = (
        f"SELECT {_TEST_COLUMNS} FROM {Test._meta.db_table} t JOIN {Test.agents.through._meta.db_table} ta "
        f"ON t.id = ta.test_id WHERE {_ASSIGNED.format(agent='%s')}"
    )
    return {test.id: test for test in Test.objects.raw(sql, [agent.id])}


def upload_target(raw_token: str, agent_id: int) -> dict[int, "AssignedTest"] | None:
    """tests_for_results(agent_of(token_for(raw_token).organization_id, agent_id)) in one statement, or None unless
    the token is live and the agent is its organization's and enabled: what the lean upload path asks on every
    batch (api/agent/upload.py). The tests come as AssignedTest, without a model instance's cost."""
    sql = (
        f"SELECT a.enabled, {_TEST_COLUMNS} "
        f"FROM {AgentToken._meta.db_table} k JOIN {Agent._meta.db_table} a "
        f"ON {_TOKENS_AGENT.format(organization='k.organization_id')} "
        f"LEFT JOIN ({Test.agents.through._meta.db_table} ta JOIN {Test._meta.db_table} t "
        f"ON t.id = ta.test_id) ON {_ASSIGNED.format(agent='a.id')} WHERE {_LIVE_TOKEN}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [agent_id, _digest(raw_token)])
        found = cur.fetchall()
    if not found or not found[0][0]:
        return None
    return {row[1]: AssignedTest(*row[1:8]) for row in found if row[1] is not None}


class AssignedTest:
    """What validation reads of a test (type, interval, target), without a model instance's cost."""

    __slots__ = ("id", "type", "interval", "server", "port", "url", "domain")
    AGENT_TO_SERVER, HTTP_SERVER = Test.AGENT_TO_SERVER, Test.HTTP_SERVER
    target = Test.target

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


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


def heartbeat(agent: Agent, version: str, spoolDepth: int = 0, spoolDropped: int = 0, pathTraces: str = "") -> None:  # noqa: N803
    """Store what the agent's heartbeat reports (arguments in the heartbeat's field names)."""
    Agent.objects.filter(id=agent.id).update(
        last_seen=timezone.now(),
        version=version,
        spool_depth=spoolDepth,
        spool_dropped=spoolDropped,
        path_trace_problem=pathTraces,
    )


def assigned_tests(agent: Agent):
    """Tests this agent must run: enabled, live (not snapshots), with the agent in their agent list."""
    if not agent.enabled:
        return Test.objects.none()
    return Test.objects.filter(agents=agent, enabled=True, saved_event=False).order_by("id")


def assignment(test: Test) -> dict:
    """What the agent needs to run a test, in v6 field names."""
    out = {
        "testId": test.id,
        "type": test.type,
        "interval": test.interval,
        "testName": test.name,
        "networkMeasurements": test.takes_network_measurements,  # the agent's copy of the rule: it has no models
        "numPathTraces": test.num_path_traces,
    }
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
            desiredStatusCode=test.desired_status_code,
            contentRegex=test.content_regex,
            headers=test.headers,
        )
    else:
        out.update(
            domain=test.domain,
            dnsServers=[s["serverName"] for s in test.dns_servers],
            dnsTransportProtocol=test.dns_transport_protocol,
            recursiveQueries=test.recursive_queries,
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
    # Path rows first: their writer's lock on the agent's rounds must be the transaction's first (path_store.lock_agents).
    for kind in sorted(columns_by_kind, key=lambda kind: kind != "path"):
        columns = columns_by_kind[kind]
        if kind == "path":  # one row per trace, packed per round (path_store.py)
            names = list(columns)
            traces = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
            total += path_store.store([{**trace, "agent_id": agent_id} for trace in traces])
            continue
        total += results.upsert_columns(kind, columns, {"agent_id": agent_id})
    last_seen = Agent._meta.get_field("last_seen").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {Agent._meta.db_table} SET last_seen = %s WHERE id = %s", [last_seen, agent_id])
    return total
