"""A recipient never reads a round from before the share's creation: data API (JSON and XML export), windows,
from/to, the latest round, paging; the owner keeps reading everything."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from spyglass.accounts.roles import access_for
from spyglass.lib.rounds import round_of
from spyglass.liveshares import hooks, services
from spyglass.monitoring.scope import read_scope
from tests.conftest import make_agent, make_test

from .conftest import accept, write_net_rounds

BASE = round_of(1_795_000_000, 60)  # the first round that starts after the share's creation
BEFORE = list(range(BASE - 600, BASE, 60))
AFTER = list(range(BASE, BASE + 660, 60))


def v6(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def shared(cast, time_machine):
    """The owner's test with rounds before and after a share to Dev made 30 s into the round before BASE."""
    test = make_test(cast.owner, name="edge")
    agent = make_agent(cast.owner)
    write_net_rounds(test, agent, BEFORE, latency=100.0)
    time_machine.move_to(datetime.fromtimestamp(BASE - 30, UTC), tick=False)
    share = services.create(access_for(cast.owner.user, None), test.id, aid=cast.other_group.aid)
    time_machine.move_to(datetime.fromtimestamp(BASE + 3600, UTC), tick=False)  # accepted much later
    assert accept(cast.other_group, share.id).status_code == 200
    return test, agent


def rounds_of(body) -> list[int]:
    return sorted({row["roundId"] for row in body["net"]["metrics"]})


def test_before_the_share_there_is_nothing_even_as_the_latest_round(cast, shared):
    test, _ = shared
    latest = cast.other_group.client.get(f"/v6/net/metrics/{test.id}.json").json()
    assert latest["net"]["metrics"] == []
    assert rounds_of(cast.owner.client.get(f"/v6/net/metrics/{test.id}.json").json()) == [BEFORE[-1]]


def test_from_to_and_window_start_at_the_share(cast, shared):
    test, agent = shared
    write_net_rounds(test, agent, AFTER)
    query = f"from={v6(BEFORE[0])}&to={v6(AFTER[-1])}"
    assert rounds_of(cast.other_group.client.get(f"/v6/net/metrics/{test.id}.json?{query}").json()) == AFTER
    assert rounds_of(cast.owner.client.get(f"/v6/net/metrics/{test.id}.json?{query}").json()) == BEFORE + AFTER
    window = cast.other_group.client.get(f"/v6/net/metrics/{test.id}.json?window=2h").json()
    assert rounds_of(window) == AFTER
    latest = cast.other_group.client.get(f"/v6/net/metrics/{test.id}.json").json()
    assert rounds_of(latest) == [AFTER[-1]]


def test_the_xml_export_starts_at_the_share_too(cast, shared):
    test, agent = shared
    write_net_rounds(test, agent, AFTER)
    response = cast.other_group.client.get(f"/v6/net/metrics/{test.id}.xml?window=2h")
    assert response.status_code == 200
    ids = sorted(int(e.text) for e in ET.fromstring(response.content).iter("roundId"))
    assert ids == AFTER


def test_paging_cannot_reach_back_before_the_share(cast, shared, settings):
    settings.DATA_PAGE_ROWS = 10
    test, agent = shared
    write_net_rounds(test, agent, AFTER)
    seen = []
    url = f"/v6/net/metrics/{test.id}.json?from={v6(BEFORE[0])}&to={v6(AFTER[-1])}&lastRoundId={BEFORE[0]}"
    while url:
        body = cast.other_group.client.get(url.replace("http://127.0.0.1:8000", "")).json()
        seen += rounds_of(body)
        url = body["pages"].get("next")
    assert seen == AFTER


def test_revocation_between_two_reads_denies_rather_than_shows_everything(cast, shared):
    """If a share disappears after the test was looked up, the scope answers nothing, never every row."""
    test, _ = shared
    access = access_for(cast.other_group.user, None)
    assert read_scope(access, test).start_round == BASE - 30
    test.live_shares.all().delete()
    assert read_scope(access, test).start_round == hooks.NOTHING
    assert read_scope(access_for(cast.owner.user, None), test).start_round is None
