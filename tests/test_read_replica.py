"""SPYGLASS_READ_DATABASE_URL against a real streaming replica (tests/pg_servers.py: a primary and a replica made
with pg_basebackup on free loopback ports), one app process reading from it. Replay is paused on the replica
(`pg_wal_replay_pause()`) to force lag, and while it lags: a link revoked after the pause answers 404; a snapshot
created after the pause is viewable at once with its rows; a data-API GET and the results page of rows written after
the pause return them (the replica is behind, so the primary serves). Replay resumed, the reads really go to the
replica (its own table-scan counts grow). Never the machine's PostgreSQL server."""

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.agent_helpers import wait_for
from tests.cluster import Cluster, free_port
from tests.pg_servers import start_replicated, stop_replicated

POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="streaming replicas are PostgreSQL's: the PostgreSQL pass runs this"),
    pytest.mark.slow,  # two PostgreSQL clusters and an app process of their own
]

EMAIL, PASSWORD = "ops@replica.test", "pw-replica-1"
BOUND = 60  # seconds any awaited condition may take


def wait_until(condition, what: str, timeout: float = BOUND):
    return wait_for(condition, timeout, what=what)


@pytest.fixture(scope="module")
def app():
    servers = start_replicated()
    data_dir = Path(tempfile.mkdtemp(prefix="sg-replica-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_") and k != "DATABASE_URL"}
    env.update(
        {
            "SPYGLASS_STATIC_ROOT": os.environ["SPYGLASS_STATIC_ROOT"],
            "DATABASE_URL": servers.primary.url,
            "SPYGLASS_READ_DATABASE_URL": servers.replica.url,
            "SPYGLASS_DATA_DIR": str(data_dir),
            "SPYGLASS_SECRET_KEY": "replica-secret-" + uuid.uuid4().hex,
            "SPYGLASS_BASE_URL": base_url,
        }
    )
    cluster = Cluster(servers.primary.url, base_url, [base_url], data_dir, env)
    try:
        cluster.spyglass("migrate")
        cluster.start_app(0)
        cluster.spyglass(
            *("user", "create", "--email", EMAIL, "--password", PASSWORD, "--name", "Ops"),
            *("--org", "Replica Org", "--account-group", "Ops", "--role", "Account Admin"),
        )
        token = cluster.spyglass("token", "create", "--email", EMAIL).stdout.strip()
        yield servers, cluster, (EMAIL, token)
    finally:
        try:
            for name in list(cluster.processes):
                cluster.stop(name)  # by PID
        finally:
            stop_replicated(servers)
            shutil.rmtree(data_dir, ignore_errors=True)


def _v6(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def a_seeded_test(cluster, auth, name: str) -> int:
    created = httpx.post(
        cluster.base_url + "/v6/tests/agent-to-server/new.json",
        auth=auth,
        json={"testName": name, "interval": 60, "server": "127.0.0.1:9"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    test_id = created.json()["test"][0]["testId"]
    cluster.spyglass("seed", "--test", str(test_id), "--agents", "2", "--hours", "1", "--random-seed", "7")
    return test_id


def a_snapshot(cluster, auth, test_id: int) -> tuple[str, str]:
    """(link id, share page URL) of a snapshot of the last two hours."""
    now = datetime.now(UTC)
    created = httpx.post(
        cluster.base_url + "/v6/snapshot.json",
        auth=auth,
        json={
            "testId": test_id,
            "displayName": "replica",
            "isPublic": 1,
            "from": _v6(now - timedelta(hours=2)),
            "to": _v6(now),
        },
        timeout=60,
    )
    assert created.status_code == 201, created.text
    link = created.json()["link"]
    return link["linkId"], cluster.base_url + urlsplit(link["viewUrl"]).path


def rows_on_primary(servers, test_id: int) -> int:
    return servers.primary.sql("select count(*) from monitoring_netresult where test_id = %s", (test_id,))[0][0]


def replica_scans(servers) -> int:
    """Table scans the replica itself ran on the results table (a standby counts its own reads)."""
    query = "select coalesce(seq_scan, 0) + coalesce(idx_scan, 0) from pg_stat_user_tables where relname = %s"
    return servers.replica.sql(query, ("monitoring_netresult",))[0][0]


def caught_up(servers) -> bool:
    target = servers.primary.sql("select pg_current_wal_lsn()")[0][0]
    return servers.replica.sql("select pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))[0][0]


def download_rows(client, share_url: str) -> int:
    response = client.get(share_url + "download.csv", params={"kind": "net"})
    assert response.status_code == 200, response.text
    return len(list(csv.DictReader(io.StringIO(response.text))))


def signed_in(cluster) -> httpx.Client:
    client = httpx.Client(base_url=cluster.base_url, timeout=60)
    form = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = client.post(
        "/login/",
        data={"csrfmiddlewaretoken": token, "username": EMAIL, "password": PASSWORD},
        headers={"Origin": cluster.base_url},
    )
    assert answer.status_code in (302, 303), answer.text
    return client


def test_while_the_replica_lags_links_snapshots_and_new_rows_are_current_and_then_reads_go_to_it(app):
    servers, cluster, auth = app
    before = a_seeded_test(cluster, auth, "before the pause")
    _, kept_url = a_snapshot(cluster, auth, before)
    revoked_id, revoked_url = a_snapshot(cluster, auth, before)
    client = httpx.Client(timeout=60)
    web = signed_in(cluster)
    try:
        assert client.get(revoked_url).status_code == 200
        wait_until(lambda: caught_up(servers), "the replica to replay everything")

        servers.replica.sql("select pg_wal_replay_pause()")
        wait_until(
            lambda: servers.replica.sql("select pg_get_wal_replay_pause_state()")[0][0] == "paused",
            "replay to pause",
        )
        try:
            # A link revoked after the pause: the replica still has it live, the page answers 404.
            deleted = httpx.post(cluster.base_url + f"/v6/snapshots/{revoked_id}/delete.json", auth=auth, timeout=30)
            assert deleted.status_code in (200, 204), deleted.text
            assert client.get(revoked_url).status_code == 404
            assert client.get(revoked_url + "download.csv").status_code == 404
            # The replica really lags: revoking deleted the link's row, the replica still has it.
            held = "select count(*) from sharing_snapshot where link_id = %s"
            assert servers.replica.sql(held, (revoked_id,)) == [(1,)]
            assert servers.primary.sql(held, (revoked_id,)) == [(0,)]

            # A test, its rows and a snapshot of them, all written after the pause: the replica has none of them.
            after = a_seeded_test(cluster, auth, "after the pause")
            written = rows_on_primary(servers, after)
            assert written > 0
            assert servers.replica.sql("select count(*) from monitoring_test where id = %s", (after,)) == [(0,)]
            _, new_url = a_snapshot(cluster, auth, after)
            page = client.get(new_url)
            assert page.status_code == 200 and "after the pause" in page.text
            assert download_rows(client, new_url) == written

            # Data-API GETs of the new rows (v6 and v7): the replica is behind, the primary answers.
            v6 = httpx.get(cluster.base_url + f"/v6/net/metrics/{after}.json?window=3h", auth=auth, timeout=60)
            assert v6.status_code == 200 and len(v6.json()["net"]["metrics"]) == written
            v7 = httpx.get(
                cluster.base_url + f"/v7/test-results/{after}/network?window=3h",
                headers={"Authorization": f"Bearer {auth[1]}"},
                timeout=60,
            )
            assert v7.status_code == 200 and len(v7.json()["results"]) == written

            # The results page of the new test, signed in.
            results = web.get(f"/tests/{after}/")
            assert results.status_code == 200 and "after the pause" in results.text
        finally:
            servers.replica.sql("select pg_wal_replay_resume()")

        wait_until(lambda: caught_up(servers), "the replica to catch up after the resume")
        assert client.get(revoked_url).status_code == 404
        # Replay running: the share download, the data API and the results page read the replica.
        for read in (
            lambda: download_rows(client, kept_url),
            lambda: httpx.get(cluster.base_url + f"/v6/net/metrics/{before}.xml?window=3h", auth=auth, timeout=60),
            lambda: web.get(f"/tests/{before}/"),
        ):
            scans = replica_scans(servers)
            read()
            wait_until(lambda s=scans: replica_scans(servers) > s, "a read to reach the replica", 15)
    finally:
        client.close()
        web.close()


def _serve(cluster, read_url: str) -> subprocess.CompletedProcess:
    env = {**cluster.env, "SPYGLASS_READ_DATABASE_URL": read_url}
    args = ["serve", "--no-agent", "--no-worker", "--addr", f"127.0.0.1:{free_port()}"]
    return subprocess.run(
        [sys.executable, "-m", "spyglass.cli.main", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_serve_refuses_a_replica_it_cannot_reach_or_that_holds_no_spyglass_database(app):
    servers, cluster, _ = app
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    refused = _serve(cluster, closed)
    assert refused.returncode == 2
    assert "SPYGLASS_READ_DATABASE_URL: replica 1 cannot be reached" in refused.stderr
    servers.primary.sql("create database not_spyglass")
    try:
        wait_until(lambda: servers.replica.sql("select 1 from pg_database where datname = 'not_spyglass'"), "the copy")
        empty = servers.replica.url.rsplit("/", 1)[0] + "/not_spyglass"
        refused = _serve(cluster, f"{servers.replica.url},{empty}")
        assert refused.returncode == 2
        assert "SPYGLASS_READ_DATABASE_URL: replica 2 holds no spyglass database" in refused.stderr
    finally:
        servers.primary.sql("drop database not_spyglass")
