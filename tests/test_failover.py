"""A failover that loses no round: the production shape (nginx, two app processes, the worker, a remote agent) on a
PostgreSQL primary with a synchronous streaming replica, reached through libpq's multi-host DATABASE_URL. The primary
is killed (`pg_ctl stop -m immediate`) while the agent measures; while no server takes writes every answer that needs
the database is 503 with Retry-After, never 500; the replica is promoted, and within 30 s share pages serve and
uploads are accepted again, without restarting anything; every round the agent measured is stored exactly once.

Its own two PostgreSQL servers on free loopback ports (tests/pg_servers.py), never the machine's server."""

import os
import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from spyglass.api.unavailable import RETRY_AFTER_SECONDS
from tests.agent_helpers import TcpService
from tests.cluster import start_cluster, stop_cluster
from tests.pg_servers import start_replicated, stop_replicated
from tests.test_cluster_faults import INTERVAL, rounds_in_db, spooled_rounds, start_agent_with_a_test, wait_until

POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="the multi-process cluster runs in the PostgreSQL pass"),
    pytest.mark.slow,  # an outage that spans a round of a 60 s test
]

SERVING_AGAIN_WITHIN = 30  # seconds after the promotion


@pytest.fixture
def failover():
    servers = start_replicated()
    cluster = None
    try:
        cluster = start_cluster(servers.multi_host_url())
        yield servers, cluster
    finally:
        try:
            if cluster is not None:
                stop_cluster(cluster, servers.multi_host_url())  # every process by PID, then its database
        finally:
            stop_replicated(servers)


def _checks(cluster, auth, api_token, share_url, test_id, agent_id):
    """(what, request) of everything the outage must answer 503: the share page, the v6 and v7 APIs, a snapshot
    creation, the agent API."""
    agent = {"Authorization": f"Bearer {cluster.agent_token}"}
    now = datetime.now(UTC)
    snapshot = {
        "testId": test_id,
        "displayName": "during the failover",
        "isPublic": 1,
        "from": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "to": now.strftime("%Y-%m-%d %H:%M:%S"),
    }
    base = cluster.base_url
    return [
        ("share page", lambda c: c.get(share_url)),
        ("v6 tests", lambda c: c.get(base + "/v6/tests.json", auth=auth)),
        ("v7 tests", lambda c: c.get(base + "/v7/tests", headers={"Authorization": f"Bearer {api_token}"})),
        ("snapshot creation", lambda c: c.post(base + "/v6/snapshot.json", auth=auth, json=snapshot)),
        ("agent heartbeat", lambda c: c.post(base + f"/agent/v1/agents/{agent_id}/heartbeat", headers=agent, json={})),
    ]


def last_measured_round(cluster, agent_name: str, test_id: int) -> int:
    """The last round the agent measured of the test (its spool remembers it across restarts)."""
    path = cluster.data_dir / f"spool-{agent_name}" / "spool.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT round_id FROM rounds WHERE test_id = ?", (test_id,)).fetchone()[0]


def test_a_failover_answers_503_meanwhile_serves_within_30_s_of_the_promotion_and_loses_no_round(failover):
    servers, cluster = failover
    email = "ops@failover.test"
    cluster.spyglass(
        *("user", "create", "--email", email, "--password", "pw-failover-1", "--name", "Ops"),
        *("--org", "Failover Org", "--account-group", "Ops", "--role", "Account Admin"),
    )
    api_token = cluster.spyglass("token", "create", "--email", email).stdout.strip()
    cluster.agent_token = cluster.spyglass(
        "agent-token", "create", "--org", "Failover Org", "--name", "failover agents"
    ).stdout.strip()
    auth = (email, api_token)
    service = TcpService()
    try:
        test_id = start_agent_with_a_test(cluster, auth, service, "field-agent", cluster.base_url)
        agent_id = cluster.sql("select id from monitoring_agent where name = 'field-agent'")[0][0]
        wait_until(lambda: rounds_in_db(cluster, test_id), INTERVAL * 2 + 60, "the agent's first round")
        now = datetime.now(UTC)
        created = httpx.post(
            cluster.base_url + "/v6/snapshot.json",
            auth=auth,
            json={
                "testId": test_id,
                "displayName": "before the failover",
                "isPublic": 1,
                "from": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
                "to": now.strftime("%Y-%m-%d %H:%M:%S"),
            },
        )
        assert created.status_code == 201, created.text
        share_url = cluster.base_url + urlsplit(created.json()["link"]["viewUrl"]).path
        checks = _checks(cluster, auth, api_token, share_url, test_id, agent_id)
        with httpx.Client(timeout=30) as client:
            assert client.get(share_url).status_code == 200
            assert client.get(cluster.base_url + "/v6/tests.json", auth=auth).status_code == 200  # connections kept

            servers.primary.stop("immediate")  # the crash: no checkpoint, backends gone, connections cut
            killed_at = time.time()
            answers: dict[str, list] = {what: [] for what, _ in checks}

            def probed_and_spooled() -> list[int]:
                for what, request in checks:
                    response = request(client)
                    answers[what].append((response.status_code, response.headers.get("Retry-After")))
                return spooled_rounds(cluster, "field-agent", test_id)

            # The outage lasts until the agent has measured (and spooled) a round that began after the crash.
            wait_until(
                lambda: any(r >= killed_at for r in probed_and_spooled()),
                INTERVAL + 90,
                "a round measured during the outage",
            )
            outage_rounds = spooled_rounds(cluster, "field-agent", test_id)
            for what, seen in answers.items():
                assert seen and set(seen) == {(503, str(RETRY_AFTER_SECONDS))}, (what, seen)

            servers.replica.promote()
            promoted = time.monotonic()
            wait_until(
                lambda: (
                    client.get(share_url).status_code == 200
                    and client.get(cluster.base_url + "/v6/tests.json", auth=auth).status_code == 200
                ),
                SERVING_AGAIN_WITHIN,
                "share pages and the API to serve again",
            )
            remaining = SERVING_AGAIN_WITHIN - (time.monotonic() - promoted)
            wait_until(  # uploads accepted: what the agent spooled during the outage is stored
                lambda: set(outage_rounds) <= set(rounds_in_db(cluster, test_id)),
                max(remaining, 0.1),
                "the agent's uploads to be accepted",
            )
            for what, request in checks[:3]:
                assert request(client).status_code == 200, what
            assert checks[3][1](client).status_code == 201  # a snapshot is made again

        cluster.stop("field-agent")
    finally:
        service.close()

    stored = rounds_in_db(cluster, test_id)
    unsent = spooled_rounds(cluster, "field-agent", test_id)  # measured as it stopped: kept for its next start
    assert set(stored.values()) == {1}  # each round once
    assert sorted(stored) == list(range(min(stored), max(stored) + INTERVAL, INTERVAL))  # none missing
    assert all(r > max(stored) for r in unsent)
    assert last_measured_round(cluster, "field-agent", test_id) == max([*stored, *unsent])
    assert all(proc.poll() is None for name, proc in cluster.processes.items())  # no process died or restarted
    # The worker carried on through the outage, saying so in one line a pass.
    assert "worker pass: the database is unavailable" in (cluster.data_dir / "worker.log").read_text()
    log = cluster.log_text()
    assert re.search(r'" 503 ', log) and not re.search(r'" 50[02] ', log)  # gunicorn's and nginx's access lines
