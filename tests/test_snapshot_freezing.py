"""A snapshot shows its window as it was when taken: later edits, re-imports, new rows, deletion of the source test
and retention change nothing — and taking it costs the same for 48 h as for 1 h."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from spyglass.monitoring import results
from spyglass.monitoring.models import NetResult, RetentionPin, Test
from spyglass.monitoring.retention import purge_old_results
from spyglass.monitoring.seed import seed
from spyglass.sharing import links
from spyglass.sharing.models import Snapshot
from tests.conftest import make_agent, make_snapshot, make_test

START = 1_795_000_000 // 3600 * 3600
WIDE = "from=2026-01-01T00:00:00&to=2027-12-31T00:00:00"


def seeded(person, hours=6, agents=3):
    test = make_test(person, "agent-to-server", name="edge", interval=60)
    seed(test, agents=agents, hours=hours, random_seed=3, now=START + hours * 3600 - 60)
    return test


def snapshot_rows(person, snapshot):
    body = person.client.get(f"/v6/net/metrics/{snapshot.test_id}.json?{WIDE}").json()
    return {(r["roundId"], r["agentId"]): r["avgLatency"] for r in body["net"]["metrics"]}


def rewrite(test, round_ids, latency):
    rows = list(NetResult.objects.filter(test=test, round_id__in=round_ids).values())
    for row in rows:
        row.pop("id")
        row["avg_latency"] = latency
    results.upsert("net", rows)
    return len(rows)


def test_reimported_rows_inside_the_window_are_copied_before_being_replaced(cast):
    test = seeded(cast.owner)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START + 3600)
    before = snapshot_rows(cast.owner, snapshot)
    assert len(before) == 61 * 3
    changed = rewrite(test, [START + 3600, START + 3660, START + 7200], 999.0)
    assert changed == 9
    assert snapshot_rows(cast.owner, snapshot) == before
    live = cast.owner.client.get(f"/v6/net/metrics/{test.id}.json?{WIDE}").json()["net"]["metrics"]
    assert {r["avgLatency"] for r in live if r["roundId"] == START + 3600} == {999.0}
    rewrite(test, [START + 3600], 111.0)  # a second rewrite keeps the snapshot's first (frozen) version
    assert snapshot_rows(cast.owner, snapshot) == before
    assert NetResult.objects.filter(test_id=snapshot.test_id).count() == 9


def test_two_snapshots_of_the_same_window_both_keep_their_rows(cast):
    test = seeded(cast.owner)
    first = make_snapshot(cast.owner, test, hours=1, anchor=START + 3600)
    first_rows = snapshot_rows(cast.owner, first)
    rewrite(test, [START + 3660], 500.0)
    second = make_snapshot(cast.owner, test, hours=2, anchor=START + 3600, position="around")
    second_rows = snapshot_rows(cast.owner, second)
    rewrite(test, [START + 3660, START + 3720], 700.0)
    assert snapshot_rows(cast.owner, first) == first_rows
    assert snapshot_rows(cast.owner, second) == second_rows
    assert {v for (r, _), v in second_rows.items() if r == START + 3660} == {500.0}


def test_rows_written_after_the_snapshot_do_not_appear_in_it(cast):
    test = seeded(cast.owner, hours=2)
    # "starting at" the last seeded round: most of the window is in the future
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START + 7200 - 60)
    before = snapshot_rows(cast.owner, snapshot)
    newcomer = make_agent(cast.owner, name="Late Agent")
    late = [
        {"test_id": test.id, "agent_id": newcomer.id, "round_id": START + 7200 - 60, "date": "2026-11-19T00:00:00Z"},
        {"test_id": test.id, "agent_id": newcomer.id, "round_id": START + 7260, "date": "2026-11-19T00:01:00Z"},
    ]
    for row in late:
        from django.utils.dateparse import parse_datetime

        row["date"] = parse_datetime(row["date"])
        row["avg_latency"] = 1.0
    results.upsert("net", late)
    seed(test, agents=3, hours=1, random_seed=9, now=START + 3 * 3600)  # new rounds, same agents
    assert snapshot_rows(cast.owner, snapshot) == before


def test_editing_the_source_test_does_not_change_the_frozen_configuration(cast):
    test = seeded(cast.owner, hours=2)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START)
    response = cast.owner.client.post(
        f"/v6/tests/agent-to-server/{test.id}/update.json",
        {"testName": "renamed", "interval": 300, "description": "new"},
        format="json",
    )
    assert response.status_code == 200
    frozen = cast.owner.client.get(f"/v6/tests/{snapshot.test_id}.json").json()["test"][0]
    assert (frozen["testName"], frozen["interval"], frozen["server"]) == ("edge", 60, "example.com:443")
    assert frozen["savedEvent"] == 1 and len(frozen["agents"]) == 3


def test_deleting_the_source_test_hides_it_but_its_snapshots_keep_their_rows(cast):
    test = seeded(cast.owner, hours=2)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START)
    before = snapshot_rows(cast.owner, snapshot)
    assert cast.owner.client.post(f"/v6/tests/agent-to-server/{test.id}/delete.json").status_code == 204
    assert test.id not in {t["testId"] for t in cast.owner.client.get("/v6/tests.json").json()["test"]}
    assert cast.owner.client.get(f"/v6/net/metrics/{test.id}.json?window=1h").status_code == 404
    assert snapshot_rows(cast.owner, snapshot) == before
    again = cast.owner.client.post(
        "/v6/tests/agent-to-server/new.json", {"testName": "edge", "interval": 60, "server": "h:1"}, format="json"
    )
    assert again.status_code == 201  # the name is free again
    # revoking the last snapshot removes the deleted test for good
    assert cast.owner.client.post(f"/v6/snapshots/{snapshot.link_id}/delete.json").status_code == 204
    assert not Test.objects.filter(id=test.id).exists()
    assert not NetResult.objects.filter(test_id=test.id).exists()


def test_a_test_without_snapshots_is_deleted_for_good(cast):
    test = seeded(cast.owner, hours=1)
    assert cast.owner.client.post(f"/v6/tests/agent-to-server/{test.id}/delete.json").status_code == 204
    assert not Test.objects.filter(id=test.id).exists()


def test_retention_keeps_the_window_and_the_copies(cast, settings):
    test = seeded(cast.owner, hours=6)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START + 3600)
    rewrite(test, [START + 3600], 42.0)
    before = snapshot_rows(cast.owner, snapshot)
    purged = purge_old_results(now=START + 6 * 3600 + 86400 * 2, days=1)
    assert purged > 0
    assert snapshot_rows(cast.owner, snapshot) == before
    assert not NetResult.objects.filter(test=test, round_id__lt=START + 3600).exists()


def test_excluded_agents_are_not_readable_through_the_snapshot(cast):
    test = seeded(cast.owner, hours=2)
    keep = sorted(test.agents.values_list("id", flat=True))[:2]
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START, agent_ids=keep)
    rows = snapshot_rows(cast.owner, snapshot)
    assert {agent for _, agent in rows} == set(keep)
    detail = cast.owner.client.get(f"/v6/tests/{snapshot.test_id}.json").json()["test"][0]
    assert sorted(a["agentId"] for a in detail["agents"]) == keep


def test_data_outside_the_window_is_never_returned_whatever_the_query(cast):
    test = seeded(cast.owner, hours=6)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START + 3600)
    client = cast.owner.client
    for query in ("", "window=12h", WIDE, f"{WIDE}&lastRoundId={START}", "from=2026-11-18T00:00:00"):
        body = client.get(f"/v6/net/metrics/{snapshot.test_id}.json?{query}").json()
        rounds = {r["roundId"] for r in body["net"]["metrics"]}
        assert all(START + 3600 <= r <= START + 7200 for r in rounds), query


def _creation_footprint(person, test, hours):
    with CaptureQueriesContext(connection) as queries:
        before = NetResult.objects.count()
        make_snapshot(person, test, hours=hours, anchor=START + 3600 * 2, position="around")
        after = NetResult.objects.count()
    return len(queries), after - before


def test_creation_does_the_same_work_for_48_hours_as_for_1_hour(cast, settings):
    settings.SNAPSHOT_RATE = [(100, 60)]
    test = seeded(cast.owner, hours=48, agents=4)
    small = _creation_footprint(cast.owner, test, 1)
    large = _creation_footprint(cast.owner, test, 48)
    assert small == large  # same number of queries, and no result row copied
    assert small[1] == 0
    assert RetentionPin.objects.filter(test=test).count() == 2


def test_malformed_link_ids_are_refused_before_the_database(django_assert_num_queries, db):
    for link_id in ("", None, "a" * 31, "a" * 33, "a" * 31 + "!", "é" * 32, 12345, ":key", "../" * 11):
        with django_assert_num_queries(0):
            assert links.find_snapshot(link_id) is None
    assert links.is_well_formed(links.new_link_id())
    assert len({links.new_link_id() for _ in range(1000)}) == 1000


def test_link_ids_carry_at_least_128_random_bits(db):
    link_id = links.new_link_id()
    assert len(link_id) * 5 >= 160 and link_id == link_id.lower()
    assert Snapshot._meta.get_field("link_id").unique


def test_the_worker_removes_snapshots_a_month_after_they_expire_and_releases_their_window(cast):
    from datetime import timedelta

    from django.utils import timezone

    from spyglass.worker import run_once

    test = seeded(cast.owner, hours=2)
    old = make_snapshot(cast.owner, test, hours=1, anchor=START)
    recent = make_snapshot(cast.owner, test, hours=1, anchor=START + 3600)
    Snapshot.objects.filter(id=old.id).update(expires_date=timezone.now() - timedelta(days=31))
    Snapshot.objects.filter(id=recent.id).update(expires_date=timezone.now() - timedelta(days=1))
    assert run_once()["expired_snapshots_purged"] == 1
    assert list(Snapshot.objects.values_list("id", flat=True)) == [recent.id]
    assert not RetentionPin.objects.filter(copy_to_id=old.test_id).exists()
    assert not Test.objects.filter(id=old.test_id).exists()
