"""A live-share recipient's snapshot never holds a round from before the share: through the API and the share panel."""

from spyglass.monitoring.models import NetResult
from spyglass.sharing.models import Snapshot
from spyglass.sharing.scope_provider import scope_of

from .conftest import write_net_rounds
from .test_live_share_read_scope import AFTER, BASE, BEFORE, shared, v6  # noqa: F401  (shared is a fixture)


def snapshot_body(test, start, hours=1):
    return {"testId": test.id, "displayName": "from the share", "from": v6(start), "to": v6(start + hours * 3600)}


def test_the_api_refuses_a_window_reaching_before_the_share(cast, shared):  # noqa: F811
    test, agent = shared
    write_net_rounds(test, agent, AFTER)
    refused = cast.other_group.client.post("/v6/snapshot.json", snapshot_body(test, BEFORE[0]), format="json")
    assert refused.status_code == 400
    assert "before" in refused.json()["errorMessage"] and "shared" in refused.json()["errorMessage"]
    assert not Snapshot.objects.exists()
    # The owner may snapshot the same window: the restriction is the recipient's, not the test's.
    assert cast.owner.client.post("/v6/snapshot.json", snapshot_body(test, BEFORE[0]), format="json").status_code == 201


def test_a_window_after_the_share_is_created_and_shows_only_rounds_after_it(cast, shared):  # noqa: F811
    test, agent = shared
    write_net_rounds(test, agent, AFTER)
    created = cast.other_group.client.post("/v6/snapshot.json", snapshot_body(test, BASE), format="json")
    assert created.status_code == 201, created.content
    snapshot = Snapshot.objects.get(link_id=created.json()["link"]["linkId"])
    assert snapshot.account_group_id == cast.other_group.aid
    rounds = set(scope_of(snapshot).results(NetResult).values_list("round_id", flat=True))
    assert rounds == set(AFTER) and min(rounds) >= BASE


def test_the_share_panel_refuses_it_too_and_says_why(cast, shared):  # noqa: F811
    from tests.web_support import signed_in

    test, agent = shared
    write_net_rounds(test, agent, AFTER)
    client = signed_in(cast.other_group)
    form = {
        "display_name": "panel",
        "hours": "1",
        "position": "around",
        "round_id": str(BASE),
        "view": "loss",
        "expiry": "7",
        "action": "link",
        "agents": [str(agent.id)],
    }
    response = client.post(f"/tests/{test.id}/snapshots/", form)
    assert response.status_code == 400
    assert "when this test was shared with your account group" in response.content.decode()
    assert not Snapshot.objects.exists()
    response = client.post(f"/tests/{test.id}/snapshots/", {**form, "position": "starting"})
    assert response.status_code == 201 and Snapshot.objects.count() == 1
