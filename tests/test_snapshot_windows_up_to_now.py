"""A snapshot freezes what has happened: a window wholly in the future is refused with a message saying so, and one
reaching past now ends at the round in progress — through the API and the share panel alike (one rule, in
sharing.services.create_snapshot)."""

from datetime import UTC, datetime

import pytest

from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot
from tests.conftest import make_test
from tests.web_support import signed_in

NOW = 1795338000 + 30  # 2026-11-22 09:00:30 UTC: 30 s into the round of 09:00
CURRENT = NOW - 30


def v6(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def test_now(cast, time_machine):
    test = make_test(cast.owner, name="edge", interval=60)
    seed(test, agents=2, hours=3, random_seed=5, now=CURRENT)
    time_machine.move_to(datetime.fromtimestamp(NOW, UTC), tick=False)
    return test


def post(person, test, start, end):
    body = {"testId": test.id, "displayName": "ahead", "from": v6(start), "to": v6(end), "isPublic": 1}
    return person.client.post("/v6/snapshot.json", body, format="json")


@pytest.mark.parametrize("start", [CURRENT + 60, CURRENT + 3600, CURRENT + 86400 * 30])
def test_the_api_refuses_a_window_wholly_in_the_future(cast, test_now, start):
    response = post(cast.owner, test_now, start, start + 3600)
    assert response.status_code == 400, response.content
    message = response.json()["errorMessage"]
    assert "in the future" in message and v6(start) in message and v6(CURRENT) in message
    assert not Snapshot.objects.exists()


def test_the_api_ends_a_window_reaching_past_now_at_the_round_in_progress(cast, test_now):
    response = post(cast.owner, test_now, CURRENT - 1800, CURRENT + 1800)
    assert response.status_code == 201, response.content
    link = response.json()["link"]
    assert (link["startRoundId"], link["endRoundId"], link["roundId"]) == (CURRENT - 1800, CURRENT, CURRENT - 1800)
    # The window starting at the round in progress is that round alone.
    response = post(cast.owner, test_now, CURRENT, CURRENT + 3600)
    assert response.status_code == 201, response.content
    assert (response.json()["link"]["startRoundId"], response.json()["link"]["endRoundId"]) == (CURRENT, CURRENT)


def panel(client, test, round_id, position, hours="6"):
    form = {
        "display_name": "Outage",
        "hours": hours,
        "position": position,
        "round_id": str(round_id),
        "view": "latency",
        "expiry": "7",
        "action": "link",
        "agents": [str(a) for a in test.agents.values_list("id", flat=True)],
    }
    return client.post(f"/tests/{test.id}/snapshots/", form)


def test_the_share_panel_follows_the_same_rule(cast, test_now):
    client = signed_in(cast.owner)
    refused = panel(client, test_now, CURRENT + 3600, "starting")
    assert refused.status_code == 400
    assert "in the future" in refused.content.decode() and not Snapshot.objects.exists()

    assert panel(client, test_now, CURRENT, "around").status_code == 201
    snapshot = Snapshot.objects.get()
    assert (snapshot.start_round, snapshot.end_round, snapshot.round_id) == (CURRENT - 3 * 3600, CURRENT, CURRENT)
