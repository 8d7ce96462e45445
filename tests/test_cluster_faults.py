"""Faults in the production shape: an app process killed with SIGKILL in the middle of a snapshot creation and of a
result batch, and every app process down for three rounds while a remote `spyglass agent` keeps measuring.

"In the middle" without fault-injection code in the product: the test holds, from a PostgreSQL connection of its
own, a lock the transaction needs after it has written something, waits until pg_stat_activity shows the app's
backend waiting on it (and pg_locks shows it has already written), then kills the app and releases the lock."""

import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from spyglass.monitoring.results import _LOCK_NAMESPACE
from tests.agent_helpers import TcpService
from tests.cluster import start_cluster, stop_cluster

POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="the multi-process cluster runs in the PostgreSQL pass"),
    pytest.mark.slow,  # rounds of a 60 s test, measured by the clock
]

ORG = "Fault Org"
INTERVAL = 60  # the shortest interval a test may have: three rounds of outage take three minutes


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def cluster():
    base = os.environ["DATABASE_URL"]
    c = start_cluster(base)
    yield c
    stop_cluster(c, base)


@pytest.fixture(scope="module")
def org(cluster):
    cluster.spyglass(
        "user",
        "create",
        "--email",
        "ops@fault.test",
        "--password",
        "pw-fault-3",
        "--name",
        "Ops",
        "--org",
        ORG,
        "--account-group",
        "Ops",
        "--role",
        "Account Admin",
    )
    token = cluster.spyglass("token", "create", "--email", "ops@fault.test").stdout.strip()
    cluster.agent_token = cluster.spyglass(
        "agent-token", "create", "--org", ORG, "--name", "fault agents"
    ).stdout.strip()
    service = TcpService()  # what the agents' TCP probes connect to
    yield ("ops@fault.test", token), service
    service.close()


def start_agent_with_a_test(cluster, auth, service, name: str, server: str) -> int:
    """A remote agent process and a 60 s agent-to-server test assigned to it (through the API); returns the test id."""
    cluster.start_agent(name, server, cluster.agent_token)
    agent_id = wait_until(
        lambda: (cluster.sql("select id from monitoring_agent where name = %s", (name,)) or [[None]])[0][0],
        60,
        f"agent {name} to register",
    )
    created = httpx.post(
        cluster.base_url + "/v6/tests/agent-to-server/new.json",
        auth=auth,
        json={
            "testName": f"{name} probe",
            "interval": INTERVAL,
            "server": f"127.0.0.1:{service.port}",
            "agents": [{"agentId": agent_id}],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["test"][0]["testId"]


@pytest.fixture(scope="module")
def field_agent(cluster, org):
    """The outage test's agent, behind nginx like any agent in production; started early so its rounds accumulate
    while the crash tests run."""
    auth, service = org
    return start_agent_with_a_test(cluster, auth, service, "field-agent", cluster.base_url)


@pytest.fixture(scope="module")
def crash_agent(cluster, org):
    """The crash test's agent talks to app 0 alone, so a retry cannot reach another process before the checks."""
    auth, service = org
    return start_agent_with_a_test(cluster, auth, service, "crash-agent", cluster.app_urls[0])


def rounds_in_db(cluster, test_id: int) -> dict[int, int]:
    rows = cluster.sql(
        "select round_id, count(*) from monitoring_netresult where test_id = %s group by round_id", (test_id,)
    )
    return dict(rows)


def spooled_rounds(cluster, agent_name: str, test_id: int) -> list[int]:
    prefix = f"net:{test_id}:"
    return [int(k.split(":")[2]) for k in cluster.spooled_keys(agent_name) if k.startswith(prefix)]


def waiting_backends(cluster, wait_events: tuple, query_part: str, written_table: str) -> list[int]:
    """The pid of a backend of the cluster's database waiting on a lock, in a statement containing query_part, whose
    transaction has already written to written_table."""
    rows = cluster.sql(
        "select a.pid from pg_stat_activity a where a.datname = current_database() "
        "and a.wait_event_type = 'Lock' and a.wait_event = any(%s) and a.query like %s "
        "and exists (select 1 from pg_locks l join pg_class c on c.oid = l.relation "
        "where l.pid = a.pid and c.relname = %s and l.mode = 'RowExclusiveLock')",
        (list(wait_events), f"%{query_part}%", written_table),
    )
    return [pid for (pid,) in rows]


def backend_gone(cluster, pid: int) -> bool:
    return not cluster.sql("select 1 from pg_stat_activity where pid = %s", (pid,))


def test_a_snapshot_creation_killed_midway_leaves_nothing_and_takes_no_share_of_the_limit(
    cluster, org, field_agent, crash_agent
):
    auth, _ = org
    created = httpx.post(
        cluster.base_url + "/v6/tests/agent-to-server/new.json",
        auth=auth,
        json={"testName": "to freeze", "interval": 60, "server": "127.0.0.1:9"},
    )
    test_id = created.json()["test"][0]["testId"]
    now = datetime.now(UTC)
    body = {
        "testId": test_id,
        "displayName": "half made",
        "from": (now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
        "to": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
    }
    counts_sql = (
        "select (select count(*) from sharing_snapshot), (select count(*) from sharing_snapshotcreation), "
        "(select count(*) from monitoring_test), (select count(*) from monitoring_retentionpin)"
    )
    before = cluster.sql(counts_sql)[0]

    lock_key = _LOCK_NAMESPACE + test_id  # the freeze lock creation takes after counting itself against the limit
    with psycopg.connect(cluster.database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (lock_key,))
        request = threading.Thread(
            target=lambda: _ignore_errors(httpx.post, cluster.app_urls[0] + "/v6/snapshot.json", auth=auth, json=body)
        )
        request.start()
        (pid,) = wait_until(
            lambda: waiting_backends(cluster, ("advisory",), "pg_advisory_xact_lock", "sharing_snapshotcreation"),
            60,
            "the creation to wait on the freeze lock after writing its SnapshotCreation row",
        )
        cluster.stop("app0", signal.SIGKILL)
        holder.execute("select pg_advisory_unlock(%s)", (lock_key,))
    wait_until(lambda: backend_gone(cluster, pid), 60, "PostgreSQL to end the killed process's transaction")
    request.join(timeout=30)

    assert cluster.sql(counts_sql)[0] == before  # no snapshot, no copied test, no pin, no use of the limit
    cluster.start_app(0)
    again = httpx.post(cluster.base_url + "/v6/snapshot.json", auth=auth, json=body, timeout=60)
    assert again.status_code == 201, again.text
    after = cluster.sql(counts_sql)[0]
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1
    listed = httpx.get(cluster.base_url + "/v6/snapshots.json", auth=auth).json()["snapshot"]
    assert [s["displayName"] for s in listed] == ["half made"]


def _ignore_errors(call, *args, **kwargs):
    try:
        call(*args, timeout=120, **kwargs)
    except httpx.HTTPError:
        pass  # the process answering it was killed: that is the point


def test_a_result_batch_killed_midway_is_not_half_stored_and_the_spool_sends_it_again(cluster, crash_agent):
    test_id = crash_agent
    agent_id = cluster.sql("select id from monitoring_agent where name = 'crash-agent'")[0][0]
    # The agent has its assignment once a round is stored (a blocked heartbeat would stop it from learning it).
    wait_until(lambda: rounds_in_db(cluster, test_id), INTERVAL * 2 + 60, "the crash agent's first round")
    with psycopg.connect(cluster.database_url.replace("postgres://", "postgresql://", 1)) as holder:
        # The batch ends by updating the agent's last_seen; a row lock on the agent holds it after its results are
        # written (FOR NO KEY UPDATE: the results' foreign-key checks still pass).
        holder.execute("select id from monitoring_agent where id = %s for no key update", (agent_id,))
        stored_before = rounds_in_db(cluster, test_id)
        wait_until(
            lambda: waiting_backends(cluster, ("transactionid", "tuple"), "monitoring_agent", "monitoring_netresult"),
            INTERVAL + 60,
            "a result batch to wait on the agent row after writing its results",
        )
        in_flight = set(spooled_rounds(cluster, "crash-agent", test_id)) - set(stored_before)
        assert in_flight  # the agent keeps the rows until the server acknowledges them
        pids = waiting_backends(cluster, ("transactionid", "tuple"), "monitoring_agent", "monitoring_netresult")
        cluster.stop("app0", signal.SIGKILL)
        holder.rollback()
    wait_until(lambda: all(backend_gone(cluster, p) for p in pids), 60, "PostgreSQL to end the killed transactions")

    assert rounds_in_db(cluster, test_id) == stored_before  # the rows the killed batch had written were rolled back
    assert in_flight <= set(spooled_rounds(cluster, "crash-agent", test_id))  # and are still in the spool

    cluster.start_app(0)
    wait_until(
        lambda: (
            not spooled_rounds(cluster, "crash-agent", test_id) and in_flight <= set(rounds_in_db(cluster, test_id))
        ),
        120,
        "the spool to re-send the batch",
    )
    cluster.stop("crash-agent")
    stored = rounds_in_db(cluster, test_id)
    assert set(stored.values()) == {1}  # once each
    # Acknowledged = no longer spooled: every round the agent measured is stored once, none missing.
    assert sorted(stored) == list(range(min(stored), max(stored) + INTERVAL, INTERVAL))


def test_every_round_measured_while_the_servers_were_down_arrives_once_after_restart(cluster, org, field_agent):
    test_id = field_agent
    wait_until(lambda: rounds_in_db(cluster, test_id), INTERVAL * 2 + 60, "the field agent's first round")
    for name in ("app0", "app1"):
        cluster.stop(name)
    assert httpx.get(cluster.base_url + "/v6/status.json").status_code == 502  # nginx has no server left

    outage = wait_until(
        lambda: (r := spooled_rounds(cluster, "field-agent", test_id)) and len(r) >= 3 and r,
        INTERVAL * 4 + 60,
        "three rounds measured while the servers are down",
    )
    for index in (0, 1):
        cluster.start_app(index)
    wait_until(
        lambda: (
            not spooled_rounds(cluster, "field-agent", test_id) and set(outage) <= set(rounds_in_db(cluster, test_id))
        ),
        120,
        "the spooled rounds to arrive",
    )
    stored = rounds_in_db(cluster, test_id)
    assert set(stored.values()) == {1}
    assert sorted(stored) == list(range(min(stored), max(stored) + INTERVAL, INTERVAL))  # no round missing
    assert len(outage) >= 3


def test_the_agent_token_never_reaches_any_log(cluster, org):
    """The agent takes its token from the environment; neither the app processes, nginx, the worker nor the agents
    wrote it (nor the API token) anywhere, through crashes and outages included."""
    (_, api_token), _ = org
    log = cluster.log_text()
    assert "registered as agent" in log  # the agents' own logs are part of what was searched
    assert cluster.agent_token not in log and api_token not in log
