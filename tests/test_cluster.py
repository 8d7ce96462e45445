"""Several app processes on one PostgreSQL database behind nginx: what must hold in the production shape."""

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.cluster import free_port, start_cluster, stop_cluster, wait_for_http

POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="the multi-process cluster runs in the PostgreSQL pass"),
    pytest.mark.slow,  # starts PostgreSQL-backed app processes and nginx
]

RATE_LIMIT = 60
FAILED_LOGIN_LIMIT = 20


@pytest.fixture(scope="module")
def cluster():
    base = os.environ["DATABASE_URL"]
    c = start_cluster(
        base,
        {
            "SPYGLASS_API_RATE_LIMIT": str(RATE_LIMIT),
            "SPYGLASS_FAILED_LOGIN_LIMIT": str(FAILED_LOGIN_LIMIT),
            # streams to a receiver in this test process (test_the_worker_process_pushes_every_round_to_a_stream)
            "SPYGLASS_STREAM_ALLOW_HTTP": "1",
            "SPYGLASS_STREAM_ALLOWED_NETWORKS": "127.0.0.1/32",
        },
    )
    c.spyglass(
        "user",
        "create",
        "--email",
        "ops@cluster.test",
        "--password",
        "pw-cluster-1",
        "--name",
        "Ops",
        "--org",
        "Cluster Org",
        "--account-group",
        "Ops",
        "--role",
        "Account Admin",
    )
    c.token = c.spyglass("token", "create", "--email", "ops@cluster.test").stdout.strip()
    c.spyglass(
        "user",
        "create",
        "--email",
        "other@cluster.test",
        "--password",
        "pw-cluster-2",
        "--name",
        "Other",
        "--org",
        "Other Org",
        "--account-group",
        "Other Ops",
        "--role",
        "Account Admin",
    )
    c.other_token = c.spyglass("token", "create", "--email", "other@cluster.test").stdout.strip()
    yield c
    stop_cluster(c, base)


def _wait_for_fresh_minute(margin: int = 20):
    """Counters are per minute; start a burst early in a minute so it cannot straddle two windows."""
    while time.time() % 60 > 60 - margin:
        time.sleep(0.5)


def test_requests_through_nginx_reach_both_app_processes(cluster):
    auth = ("ops@cluster.test", cluster.token)
    upstreams = {
        httpx.get(cluster.base_url + "/v6/status.json", auth=auth).headers["X-Spyglass-Upstream"] for _ in range(6)
    }
    assert len(upstreams) == 2


def test_a_test_created_through_one_process_is_read_through_the_other(cluster):
    auth = ("ops@cluster.test", cluster.token)
    created = httpx.post(
        cluster.app_urls[0] + "/v6/tests/http-server/new.json",
        auth=auth,
        json={"testName": "cross", "interval": 60, "url": "https://example.com/"},
    )
    assert created.status_code == 201
    test_id = created.json()["test"][0]["testId"]
    read = httpx.get(cluster.app_urls[1] + f"/v6/tests/{test_id}.json", auth=auth)
    assert read.json()["test"][0]["testName"] == "cross"
    foreign = httpx.get(
        cluster.app_urls[1] + f"/v6/tests/{test_id}.json", auth=("other@cluster.test", cluster.other_token)
    )
    assert foreign.status_code == 404


def test_the_worker_process_pushes_every_round_to_a_stream(cluster):
    """The production shape end to end: a stream made through nginx (v7), rounds written by `spyglass seed`, and the
    cluster's own worker process pushing them to an OTLP/HTTP receiver here: every round old enough, none twice. (Before
    the rate-limit test, which spends the rest of its minute's API budget.)"""
    from tests.otlp_receivers import HttpReceiver

    auth = ("ops@cluster.test", cluster.token)
    created = httpx.post(
        cluster.base_url + "/v6/tests/agent-to-server/new.json",
        auth=auth,
        json={"testName": "streamed edge", "interval": 60, "server": "example.com:443"},
    )
    test_id = created.json()["test"][0]["testId"]
    cluster.spyglass("seed", "--test", str(test_id), "--agents", "2", "--hours", "0.5", "--random-seed", "8")
    seeded_at = time.time()
    receiver = HttpReceiver().start()
    try:
        stream = httpx.post(
            cluster.base_url + "/v7/streams",
            headers={"Authorization": f"Bearer {cluster.token}"},
            json={"endpointType": "http", "streamEndpointUrl": receiver.url, "testMatch": [{"id": str(test_id)}]},
        )
        assert stream.status_code == 201, stream.text
        rows = httpx.get(cluster.base_url + f"/v6/net/metrics/{test_id}.json?window=2h", auth=auth).json()["net"][
            "metrics"
        ]
        # rounds past the test's interval and SPYGLASS_STREAM_DELAY (60 s each) when seeded
        due = {(r["agentId"], r["roundId"]) for r in rows if r["roundId"] <= seeded_at - 120}
        assert len(due) > 40
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            got = {(int(p[0]["thousandeyes.source.agent.id"]), p[3] // 10**9) for p in receiver.points()}
            if due <= got:
                break
            time.sleep(0.5)
        assert due <= got, f"{len(due - got)} rounds of agents never arrived"
        seen = [(p[1], p[0]["thousandeyes.source.agent.id"], p[3]) for p in receiver.points()]
        assert len(seen) == len(set(seen))  # none twice
        status = httpx.get(
            cluster.base_url + f"/v7/streams/{stream.json()['id']}",
            headers={"Authorization": f"Bearer {cluster.token}"},
        ).json()["streamStatus"]
        assert status["status"] == "connected"
    finally:
        receiver.stop()


def test_the_organization_rate_limit_is_exact_across_processes_under_concurrency(cluster):
    auth = ("ops@cluster.test", cluster.token)
    _wait_for_fresh_minute()
    with httpx.Client(auth=auth, timeout=30) as client, ThreadPoolExecutor(16) as pool:
        codes = list(
            pool.map(lambda _: client.get(cluster.base_url + "/v6/tests.json").status_code, range(RATE_LIMIT + 40))
        )
    # Earlier tests of this module spent some of this minute's budget; nothing may pass beyond the limit.
    used = cluster.sql(
        "select count from accounts_ratecounter where key like 'api-org:%%' "
        "and window_start = %s order by count desc limit 1",
        (int(time.time()) // 60 * 60,),
    )[0][0]
    assert codes.count(200) + codes.count(429) == len(codes)
    assert codes.count(200) == RATE_LIMIT - (used - len(codes))
    other = httpx.get(cluster.base_url + "/v6/tests.json", auth=("other@cluster.test", cluster.other_token))
    assert other.status_code == 200


def test_failed_logins_are_counted_across_processes(cluster):
    bad = ("ops@cluster.test", "not-the-token")
    codes = [
        httpx.get(cluster.base_url + "/v6/tests.json", auth=bad, headers={"X-Test": str(i)}).status_code
        for i in range(FAILED_LOGIN_LIMIT + 3)
    ]
    assert codes == [401] * FAILED_LOGIN_LIMIT + [429] * 3
    # Later tests come from the same address: forgive it.
    cluster.sql("delete from accounts_ratecounter where key like 'login-fail:%%'")


def test_tokens_and_passwords_never_reach_the_logs(cluster):
    log = cluster.log_text()
    assert "Too Many Requests" in log or "Unauthorized" in log or log  # the processes did log
    for secret in (cluster.token, cluster.other_token, "pw-cluster-1", "not-the-token"):
        assert secret not in log


def test_schemathesis_finds_no_server_error_and_every_response_matches_the_schema(cluster):
    """≥ 2,000 generated requests against every operation of /v6/openapi.json, ≥ 1,000 of /v7/openapi.json (no server
    error, the documented content types), as a member. A process of its own with a high rate limit, on the cluster's
    database (the fuzzing would otherwise spend the organization's budget). SPYGLASS_FUZZ_EXAMPLES raises the count
    for a long run."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cluster.env.update({"SPYGLASS_API_RATE_LIMIT": "1000000", "SPYGLASS_FAILED_LOGIN_LIMIT": "1000000"})
    try:
        proc = cluster.start(
            "fuzz-app",
            [
                sys.executable,
                "-m",
                "spyglass.cli.main",
                "serve",
                "--no-agent",
                "--no-worker",
                "--addr",
                f"127.0.0.1:{port}",
            ],
        )
        wait_for_http(url + "/v6/status.json", proc=proc)
        results = [
            _fuzz(
                cluster,
                url,
                "/v6/openapi.json",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
            ),
            # Half the examples for v7: its 38 operations share v6's views, checkpoint and query code, and the run
            # must keep the suite inside its time (README, Tests).
            _fuzz(cluster, url, "/v7/openapi.json", "not_a_server_error,content_type_conformance", share=0.5),
        ]
    finally:
        cluster.stop("fuzz-app")
        # The fuzzing sends requests without valid credentials from this address: forgive them for later tests.
        cluster.sql("delete from accounts_ratecounter where key like 'login-fail:%%'")
        cluster.env.update(
            {"SPYGLASS_API_RATE_LIMIT": str(RATE_LIMIT), "SPYGLASS_FAILED_LOGIN_LIMIT": str(FAILED_LOGIN_LIMIT)}
        )
    for result, least in zip(results, (2000, 1000), strict=True):
        summary = result.stdout[-4000:]
        print(summary)
        generated = re.search(r"(\d+) generated", result.stdout)
        assert result.returncode == 0, summary
        assert generated and int(generated.group(1)) >= least, summary
        assert "Rate limited" not in result.stdout, summary  # the requests reached the API's logic


def _fuzz(cluster, url: str, document: str, checks: str, share: float = 1.0):
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            url + document,
            "--url",
            url,
            "-H",
            f"Authorization: Bearer {cluster.other_token}",
            "--max-examples",
            str(max(1, round(int(os.environ.get("SPYGLASS_FUZZ_EXAMPLES", "100")) * share))),
            "--seed",
            "1",
            "--checks",
            checks,
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _snapshot_body(test_id: int, name: str) -> dict:
    return {
        "testId": test_id,
        "displayName": name,
        "isPublic": 1,
        "from": "2026-11-22 08:00:00",
        "to": "2026-11-22 09:00:00",
    }


@pytest.fixture(scope="module")
def snapshot_org(cluster):
    """An organization of its own, so its snapshot creation limit starts untouched."""
    # The fuzzing before sent bad credentials from this address; forgive it.
    cluster.sql("delete from accounts_ratecounter where key like 'login-fail:%%'")

    cluster.spyglass(
        "user",
        "create",
        "--email",
        "snap@cluster.test",
        "--password",
        "pw-cluster-3",
        "--name",
        "Snap",
        "--org",
        "Snapshot Org",
        "--account-group",
        "Snap Ops",
        "--role",
        "Account Admin",
    )
    token = cluster.spyglass("token", "create", "--email", "snap@cluster.test").stdout.strip()
    auth = ("snap@cluster.test", token)
    created = httpx.post(
        cluster.base_url + "/v6/tests/agent-to-server/new.json",
        auth=auth,
        json={"testName": "shared edge", "interval": 60, "server": "example.com:443"},
    )
    assert created.status_code == 201, created.text
    return auth, created.json()["test"][0]["testId"]


def test_fifty_concurrent_snapshot_creations_through_nginx_give_exactly_the_limit(cluster, snapshot_org):
    auth, test_id = snapshot_org
    with httpx.Client(auth=auth, timeout=60) as client, ThreadPoolExecutor(25) as pool:
        responses = list(
            pool.map(
                lambda i: client.post(cluster.base_url + "/v6/snapshot.json", json=_snapshot_body(test_id, f"s{i}")),
                range(50),
            )
        )
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 5, codes  # the default limit: 5 per 5 minutes
    assert codes.count(429) == 45
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["errorMessage"] and int(refused.headers["Retry-After"]) > 0
    upstreams = {r.headers.get("X-Spyglass-Upstream") for r in responses}
    assert len(upstreams) == 2  # both app processes took part
    listed = httpx.get(cluster.base_url + "/v6/snapshots.json", auth=auth).json()["snapshot"]
    assert len(listed) == 5


def _a_share_link(cluster, snapshot_org) -> tuple[str, str]:
    auth, _ = snapshot_org
    link = httpx.get(cluster.base_url + "/v6/snapshots.json", auth=auth).json()["snapshot"][0]
    return link["linkId"], urlsplit(link["viewUrl"]).path


def test_a_revoked_link_dies_on_the_other_process_at_once(cluster, snapshot_org):
    auth, _ = snapshot_org
    link_id, path = _a_share_link(cluster, snapshot_org)
    for url in cluster.app_urls:
        assert httpx.get(url + path).status_code == 200
    revoked = httpx.post(cluster.app_urls[0] + f"/v6/snapshots/{link_id}/delete.json", auth=auth)
    assert revoked.status_code == 204
    assert httpx.get(cluster.app_urls[1] + path).status_code == 404  # no cache anywhere keeps it alive
    assert httpx.get(cluster.base_url + path).status_code == 404


def test_two_thousand_concurrent_views_across_both_processes_count_exactly(cluster, snapshot_org):
    auth, _ = snapshot_org
    link_id, path = _a_share_link(cluster, snapshot_org)
    before = cluster.sql(
        "select count(*) from sharing_snapshotvisit v join sharing_snapshot s "
        "on s.id = v.snapshot_id where s.link_id = %s",
        (link_id,),
    )[0][0]
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=32)) as client, ThreadPoolExecutor(32) as pool:
        codes = list(pool.map(lambda _: client.get(cluster.base_url + path).status_code, range(2000)))
    assert codes.count(200) == 2000
    after = cluster.sql(
        "select count(*) from sharing_snapshotvisit v join sharing_snapshot s "
        "on s.id = v.snapshot_id where s.link_id = %s",
        (link_id,),
    )[0][0]
    assert after - before == 2000
    detail = httpx.get(cluster.base_url + f"/v6/snapshots/{link_id}.json", auth=auth).json()["snapshot"][0]
    assert detail["visits"] == after


def test_share_ids_never_reach_the_logs(cluster, snapshot_org):
    auth, _ = snapshot_org
    ids = cluster.sql("select link_id from sharing_snapshot")
    assert ids
    httpx.get(cluster.base_url + "/s/" + "a" * 32 + "/")  # a miss: Django logs the 404's path
    log = cluster.log_text()
    assert "Not Found" in log
    for (link_id,) in ids:
        assert link_id not in log
