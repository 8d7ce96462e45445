"""Through the real app server (gunicorn): an answer given before the body is read still reaches the client.

gunicorn drains only 64 KiB of an unread body before closing the connection, and the client then sees a reset
instead of the 404, 401 or 413 it was sent (spyglass/api/middleware.py reads the rest)."""

import httpx
import pytest
from django.conf import settings

from tests.appservers import AppServer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="app processes on the test database need the PostgreSQL run (scripts/test.sh runs it)",
    ),
]


@pytest.fixture
def server(tmp_path):
    started = AppServer(tmp_path)
    try:
        yield started.wait_ready()
    finally:
        started.stop()


def json_body(size):
    return b'{"testName": "' + b"x" * size + b'"}'


def test_answers_given_before_the_body_is_read_reach_the_client(server, cast):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        headers = {"Content-Type": "application/json"}
        missing = client.post("/v6/no-such-endpoint.json", content=json_body(300_000), headers=headers)
        assert missing.status_code == 404
        stranger = client.post(
            "/v6/tests/agent-to-server/new.json", content=json_body(300_000), headers=headers, auth=("a@b.c", "nope")
        )
        assert stranger.status_code == 401
        too_big = client.post("/v6/tests/agent-to-server/new.json", content=json_body(2_000_000), headers=headers)
        assert too_big.status_code == 413 and "1 MiB" in too_big.json()["errorMessage"]
        # The same keep-alive connection still serves what comes next.
        owner = (cast.owner.user.email, cast.owner.token)
        assert client.get("/v6/tests.json", auth=owner).status_code == 200
