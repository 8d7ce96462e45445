"""A kept PostgreSQL connection that the server closed is replaced before the share page's statement (Django's
CONN_HEALTH_CHECKS), and the view is answered and counted as usual."""

import time

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.test import Client

from spyglass.sharing.models import SnapshotVisit
from tests.conftest import make_snapshot, make_test

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="a kept connection the server closes needs the PostgreSQL run",
    ),
]


def _new_request():
    close_old_connections()  # what Django does at a request's start: the next query health-checks again


def test_a_connection_the_server_closed_is_replaced(cast):
    snapshot = make_snapshot(cast.owner, make_test(cast.owner, "agent-to-server", interval=60), hours=1)
    client = Client()
    connection.close()  # a fresh one: the kept connection of earlier tests may be past CONN_MAX_AGE
    assert client.get(f"/s/{snapshot.link_id}/").status_code == 200
    raw = connection.connection

    _new_request()
    with psycopg.connect(_dsn(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [raw.info.backend_pid])
    for _ in range(100):  # until the backend's goodbye reaches the socket
        if _readable(raw):
            break
        time.sleep(0.02)
    assert client.get(f"/s/{snapshot.link_id}/").status_code == 200
    assert connection.connection is not raw
    assert SnapshotVisit.objects.filter(snapshot=snapshot).count() == 2


def _readable(raw) -> bool:
    import select

    poll = select.poll()
    poll.register(raw.fileno(), select.POLLIN)
    return bool(poll.poll(0))


def _dsn() -> str:
    params = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port")
    return " ".join(f"{k}={params[k]}" for k in keys if params.get(k))
