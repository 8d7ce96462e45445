"""Per-organization API rate limit, counted in the database so every app process shares it."""

import pytest

from tests.conftest import make_test


@pytest.fixture(autouse=True)
def _mid_minute(time_machine):
    # Counters are per minute: hold the clock still so a test never straddles a window boundary.
    time_machine.move_to(1_795_000_020, tick=False)


def test_every_response_carries_the_rate_limit_headers(cast, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 50
    response = cast.owner.client.get("/v6/tests.json")
    assert response["X-Organization-Rate-Limit-Limit"] == "50"
    remaining = int(response["X-Organization-Rate-Limit-Remaining"])
    assert 0 <= remaining < 50
    assert int(response["X-Organization-Rate-Limit-Reset"]) % 60 == 0
    again = cast.owner.client.get("/v6/tests.json")
    assert int(again["X-Organization-Rate-Limit-Remaining"]) == remaining - 1


def test_past_the_limit_the_organization_gets_429_and_another_does_not(cast, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 5
    codes = [cast.owner.client.get("/v6/tests.json").status_code for _ in range(4)]
    codes += [cast.teammate.client.get("/v6/tests.json").status_code for _ in range(3)]
    assert codes == [200] * 5 + [429] * 2
    limited = cast.owner.client.get("/v6/tests.json")
    assert limited.json()["errorMessage"].startswith("Organization rate limit exceeded")
    assert int(limited["Retry-After"]) >= 1
    assert limited["X-Organization-Rate-Limit-Remaining"] == "0"
    assert cast.other_org.client.get("/v6/tests.json").status_code == 200


def test_a_limited_write_changes_nothing(cast, settings):
    make_test(cast.owner, name="before")
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    response = cast.owner.client.post(
        "/v6/tests/agent-to-server/new.json", {"testName": "after", "interval": 60, "server": "h:1"}, format="json"
    )
    assert response.status_code == 429
    settings.API_RATE_LIMIT_PER_MINUTE = 1000
    assert [t["testName"] for t in cast.owner.client.get("/v6/tests.json").json()["test"]] == ["before"]


def test_counters_count_exactly_and_leave_the_connection_durable(transactional_db):
    """On PostgreSQL a counter commits without waiting for the disk (set_config in its one statement): only that
    statement's transaction, never the session or a caller's transaction."""
    from django.db import connection, transaction

    from spyglass.accounts import ratelimit

    counts = [ratelimit.hit("test-counter", 3600, now=1_795_000_000)[0] for _ in range(5)]
    assert counts == [1, 2, 3, 4, 5]
    with transaction.atomic():
        assert ratelimit.hit("test-counter", 3600, now=1_795_000_000)[0] == 6
        transaction.set_rollback(True)
    assert ratelimit.peek("test-counter", 3600, now=1_795_000_000) == 5
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
            # The relaxed statement does relax its own transaction (seen here inside one, then rolled back).
            with transaction.atomic():
                cursor.execute(ratelimit._statements(1)[1], ["test-counter", 1_795_000_000 // 3600 * 3600, 1])
                assert cursor.fetchone()[0] == 6
                cursor.execute("SHOW synchronous_commit")
                assert cursor.fetchone()[0] == "off"
                transaction.set_rollback(True)
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
        assert ratelimit.peek("test-counter", 3600, now=1_795_000_000) == 5
