"""While the database is away (no primary during a failover, a connection dropped mid-request) every interface
answers 503 with Retry-After in its own shape, never 500, and the same request succeeds once it is back; the agent
keeps what a 503 refused and comes back when Retry-After says. The real failover, with PostgreSQL servers killed and
promoted, is tests/test_failover.py."""

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from django.conf import settings
from django.db import InterfaceError, InternalError, OperationalError, connection
from rest_framework.test import APIClient

from spyglass.agent.client import ServerUnavailable
from spyglass.agent.runtime import AgentRuntime
from spyglass.api.unavailable import RETRY_AFTER_SECONDS, is_database_unavailable
from spyglass.monitoring.models import NetResult
from spyglass.sharing.models import Snapshot
from tests.agent_helpers import closed_port
from tests.appservers import AppServer, database_url
from tests.conftest import make_snapshot, make_test
from tests.test_agent_api import acme_token, current_round, net_row, registered  # noqa: F401 (fixtures)

RETRY_AFTER = str(RETRY_AFTER_SECONDS)


@contextmanager
def database_away(error=OperationalError):
    """Every query of this thread's connection fails as it does when the server is gone (savepoints and rollbacks
    still pass, so the test's own transaction survives)."""

    def refuse(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            return execute(sql, params, many, context)
        raise error("connection to server at 127.0.0.1 failed: Connection refused")

    with connection.execute_wrapper(refuse):
        yield


def assert_unavailable(response, content_type: str):
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == RETRY_AFTER
    assert response["Content-Type"].startswith(content_type)


@pytest.fixture
def shared(cast):
    test = make_test(cast.owner, name="edge")
    return test, make_snapshot(cast.owner, test)


def test_the_share_page_and_web_pages_answer_a_short_503_page_with_the_share_headers(cast, shared, client):
    _, snapshot = shared
    client.force_login(cast.owner.user)
    with database_away():
        share = client.get(f"/s/{snapshot.link_id}/")
        download = client.get(f"/s/{snapshot.link_id}/download.json")
        tests_page = client.get("/tests/")
    for response in (share, download, tests_page):
        assert_unavailable(response, "text/html")
        assert b"Unavailable for a moment" in response.content and b"try again in a few seconds" in response.content
    for response in (share, download):  # every answer under /s/ keeps the share page's headers
        assert response["Cache-Control"] == "private, no-store" and "noindex" in response["X-Robots-Tag"]
        assert response["Referrer-Policy"] == "no-referrer"
    assert "Content-Security-Policy" in tests_page
    assert client.get(f"/s/{snapshot.link_id}/").status_code == 200  # back: the same request works
    assert client.get("/tests/").status_code == 200


def test_the_v6_api_answers_its_error_shape_in_the_format_asked(cast, shared):
    test, _ = shared
    before = Snapshot.objects.count()
    body = {
        "testId": test.id,
        "displayName": "during the failover",
        "from": "2026-11-22 09:00:00",
        "to": "2026-11-22 10:00:00",
    }
    with database_away():
        listed = cast.owner.client.get("/v6/tests.json")
        as_xml = cast.owner.client.get("/v6/tests.xml")
        created = cast.owner.client.post("/v6/snapshot.json", body, format="json")
    assert_unavailable(listed, "application/json")
    assert "try again in a few seconds" in listed.json()["errorMessage"]
    assert "X-Organization-Rate-Limit-Limit" in listed  # as on every API answer
    assert_unavailable(as_xml, "text/xml")
    assert b"<errorMessage>" in as_xml.content
    assert_unavailable(created, "application/json")
    assert Snapshot.objects.count() == before
    assert cast.owner.client.get("/v6/tests.json").status_code == 200


def test_the_v7_api_answers_a_problem(cast, shared):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {cast.owner.token}")
    with database_away(InterfaceError):  # a kept connection found closed
        response = client.get("/v7/tests")
        unknown = client.get("/v7/no-such-thing")  # 404 needs no database
    assert_unavailable(response, "application/problem+json")
    problem = response.json()
    assert problem["status"] == 503 and problem["title"] == "Service Unavailable"
    assert "try again" in problem["detail"] and problem["instance"] == "/v7/tests"
    assert unknown.status_code == 404
    assert client.get("/v7/tests").status_code == 200


def test_agent_uploads_and_registration_answer_503_and_store_nothing(cast, registered):  # noqa: F811
    agent_client, agent_id = registered
    test = make_test(cast.owner, name="probe", agents=[{"agentId": agent_id}])
    batch = {"results": [net_row(test, current_round() - 60)]}
    agent_client.raise_request_exception = False  # the lean upload runs in a middleware: Django's handler answers
    with database_away():
        upload = agent_client.post(f"/agent/v1/agents/{agent_id}/results", batch, format="json")
        register = agent_client.post("/agent/v1/register", {"name": "lab-2", "kind": "enterprise"}, format="json")
    for response in (upload, register):
        assert_unavailable(response, "application/json")
        assert "try again" in response.json()["errorMessage"]
    assert not NetResult.objects.exists()
    again = agent_client.post(f"/agent/v1/agents/{agent_id}/results", batch, format="json")
    assert again.json() == {"accepted": 1}


def test_only_errors_of_the_database_being_away_are_503():
    read_only = InternalError("cannot execute INSERT in a read-only transaction")
    read_only.__cause__ = psycopg.errors.ReadOnlySqlTransaction()
    assert is_database_unavailable(OperationalError("server closed the connection unexpectedly"))
    assert is_database_unavailable(InterfaceError("connection already closed"))
    assert is_database_unavailable(read_only)
    assert not is_database_unavailable(InternalError("something else"))
    assert not is_database_unavailable(ValueError("a bug"))


def test_the_agent_keeps_what_a_503_refused_and_waits_as_retry_after_says(tmp_path):
    answers = [httpx.Response(503, headers={"Retry-After": "7"}, json={"errorMessage": "away"})]

    def server(request):
        return answers.pop(0) if answers else httpx.Response(200, json={"accepted": 1})

    runtime = AgentRuntime("http://spyglass.test", "token", "edge", spool_dir=tmp_path)
    runtime.client.http = httpx.Client(base_url="http://spyglass.test/agent/v1/", transport=httpx.MockTransport(server))
    runtime.agent_id = 1
    runtime.spool.add([{"kind": "net", "testId": 1, "roundId": 60, "date": 61}], test_id=1, round_id=60)
    with pytest.raises(ServerUnavailable) as refused:
        runtime.upload_once()
    assert refused.value.retry_after == 7.0
    assert runtime.spool.depth() == 1  # kept for the next try
    assert runtime.upload_once() == 1 and runtime.spool.depth() == 0
    runtime.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="an app process of its own needs the PostgreSQL run (scripts/test.sh runs it)",
)
def test_a_served_process_reaches_the_writable_host_and_replaces_connections_the_server_dropped(cast, shared, tmp_path):
    """`spyglass serve` with a multi-host DATABASE_URL whose first host refuses (a dead primary) serves through the
    second; when the server then drops every connection the process keeps (as a failover does), the next requests
    are answered through fresh ones: nothing fails, nothing is restarted."""
    _, snapshot = shared
    url = urlsplit(database_url())
    multi_host = url._replace(
        netloc=f"{url.netloc.rpartition('@')[0]}@127.0.0.1:{closed_port()},{url.hostname}:{url.port}"
    )
    server = AppServer(
        tmp_path, extra_env={"DATABASE_URL": multi_host._replace(query="target_session_attrs=read-write").geturl()}
    )
    try:
        server.wait_ready()
        share = f"{server.url}/s/{snapshot.link_id}/"
        with ThreadPoolExecutor(8) as pool:  # one kept connection per gunicorn thread that answers
            assert {r.status_code for r in pool.map(lambda _: httpx.get(share, timeout=30), range(16))} == {200}
            with connection.cursor() as cursor:
                cursor.execute(
                    "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                    "where datname = current_database() and pid <> pg_backend_pid()"
                )
                assert cursor.fetchone()[0] >= 1
            assert {r.status_code for r in pool.map(lambda _: httpx.get(share, timeout=30), range(16))} == {200}
    finally:
        server.stop()


def test_a_share_page_stays_a_503_while_answers_are_counted_for_metrics(cast, shared, client, settings):
    """With /metrics on, every answer is counted in the database; a count that cannot be written (the database is
    away) leaves the answer as it was."""
    settings.METRICS_TOKEN = "t" * 32
    _, snapshot = shared
    with database_away():
        share = client.get(f"/s/{snapshot.link_id}/")
    assert_unavailable(share, "text/html")
