"""Data export pages from stored JSON (spyglass/monitoring/chunks.py): byte for byte the pages the row path builds,
and never stale — after a write, a late upload, an agent's rename, a change of BASE_URL, a purge or a race."""

import time
from datetime import UTC, datetime

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spyglass.lib import jsonsplice
from spyglass.lib.rounds import round_of
from spyglass.lib.timefmt import format_v6_date
from spyglass.lib.timeranges import TimeRange
from spyglass.monitoring import chunks, queries, results
from spyglass.monitoring.models import Agent, ExportChunk, ResultHour
from spyglass.monitoring.retention import purge_old_results
from spyglass.monitoring.scope import ReadScope
from spyglass.monitoring.seed import seed
from tests.conftest import make_test

NOW = 1_795_000_000 + 1234  # not on an hour: windows cut hours in two


def pages(kind, test, time_range, limit, read):
    """Every page of the range as (rows as JSON bytes, next roundId), following next as a client would."""
    out, last = [], None
    while True:
        page = read(kind, test, time_range, last, limit=limit)
        body = jsonsplice.dumps(page.rows)
        out.append((body, page.next_last_round_id))
        if page.next_last_round_id is None:
            return out
        last = page.next_last_round_id


def from_chunks(*args, **kwargs):
    page = chunks.read_page_json(*args, **kwargs)
    assert page is not None
    return page


@pytest.fixture
def http_test(cast):
    test = make_test(cast.owner, "http-server", name="web", interval=60)
    seed(test, agents=4, hours=3, random_seed=11, now=NOW)
    return test


@pytest.mark.parametrize("limit", [3, 7, 40, 1000])
@pytest.mark.parametrize("kind", ["net", "http"])
def test_pages_are_the_row_paths_pages_byte_for_byte(http_test, kind, limit):
    # limit 3 < 4 agents: every round is larger than a page and comes whole; 7 and 40 cut inside hours.
    window = TimeRange(NOW - 2 * 3600 - 600, NOW - 300)
    expected = pages(kind, http_test, window, limit, queries.read_page)
    assert expected[0][0] != b"[]" and (len(expected) > 1) == (limit < 1000)
    assert pages(kind, http_test, window, limit, from_chunks) == expected  # built
    assert pages(kind, http_test, window, limit, from_chunks) == expected  # stored


def test_dns_pages_match_too(cast):
    test = make_test(cast.owner, "dns-server", name="dns", interval=60)
    seed(test, agents=3, hours=2, random_seed=5, now=NOW)
    window = TimeRange(NOW - 7200, NOW)
    expected = pages("dns", test, window, 25, queries.read_page)
    assert pages("dns", test, window, 25, from_chunks) == pages("dns", test, window, 25, from_chunks) == expected


def test_a_second_export_reads_no_result_rows(cast, http_test):
    url = f"/v6/net/metrics/{http_test.id}.json?from={format_v6_date(NOW - 3 * 3600)}&to={format_v6_date(NOW)}"
    first = cast.owner.client.get(url)
    with CaptureQueriesContext(connection) as captured:
        second = cast.owner.client.get(url)
    assert first.content == second.content and len(second.json()["net"]["metrics"]) > 100
    assert not [q for q in captured.captured_queries if "monitoring_netresult" in q["sql"]]


def export(client, test, settings) -> list[dict]:
    rows, url = [], f"/v6/net/metrics/{test.id}.json?window=3h"
    while url:
        body = client.get(url).json()
        rows += body["net"]["metrics"]
        url = body["pages"].get("next", "").replace(settings.BASE_URL, "")
    return rows


@pytest.fixture
def recent(cast, settings):
    settings.DATA_PAGE_ROWS = 50
    test = make_test(cast.owner, "agent-to-server", name="recent", interval=60)
    seed(test, agents=3, hours=2, random_seed=3, now=time.time() - 600)
    return test


def net_row(test, round_id, agent_id, loss):
    return {
        "test_id": test.id,
        "agent_id": agent_id,
        "round_id": round_id,
        "date": datetime.fromtimestamp(round_id, UTC),
        "loss": loss,
        "min_latency": 1.0,
        "avg_latency": 2.0,
        "max_latency": 3.0,
        "jitter": 0.5,
    }


def test_a_rewritten_row_and_a_late_upload_show_in_the_next_export(cast, recent, settings):
    before = export(cast.owner.client, recent, settings)
    assert ExportChunk.objects.filter(test=recent).exists()
    old = before[len(before) // 2]
    late = Agent.objects.create(organization_id=recent.account_group.organization_id, name="Late", country_id="NZ")
    recent.agents.add(late)
    # A new value for an exported row, and a row of an exported round uploaded late by another agent.
    results.upsert("net", [net_row(recent, old["roundId"], old["agentId"], 42.5)])
    results.upsert("net", [net_row(recent, old["roundId"], late.id, 7.25)])
    after = {(r["roundId"], r["agentId"]): r for r in export(cast.owner.client, recent, settings)}
    assert after[(old["roundId"], old["agentId"])]["loss"] == 42.5
    assert after[(old["roundId"], late.id)]["loss"] == 7.25 and after[(old["roundId"], late.id)]["agentName"] == "Late"
    assert len(after) == len(before) + 1


def test_a_renamed_agent_is_renamed_in_the_next_export(cast, recent, settings):
    before = export(cast.owner.client, recent, settings)
    agent = recent.agents.get(id=before[0]["agentId"])
    agent.name, agent.country_id = "Renamed <b>", "IS"
    agent.save()
    after = export(cast.owner.client, recent, settings)
    mine = [r for r in after if r["agentId"] == agent.id]
    assert mine and all(r["agentName"] == "Renamed <b>" and r["countryId"] == "IS" for r in mine)
    assert len(after) == len(before)


def test_a_deleted_agents_rows_leave_the_next_export(cast, recent, settings):
    """Deleting an agent deletes its results without a write the hours' versions count: the chunks' agent check
    is what notices."""
    before = export(cast.owner.client, recent, settings)
    gone = before[0]["agentId"]
    Agent.objects.filter(id=gone).delete()
    after = export(cast.owner.client, recent, settings)
    assert after == [r for r in before if r["agentId"] != gone]
    assert len(after) < len(before)


def test_permalinks_follow_base_url(cast, recent, settings):
    export(cast.owner.client, recent, settings)
    settings.BASE_URL = "https://spyglass.example.org"
    after = export(cast.owner.client, recent, settings)
    assert all(r["permalink"].startswith("https://spyglass.example.org/tests/") for r in after)


def test_purged_rows_leave_the_export(cast, recent, settings):
    before = export(cast.owner.client, recent, settings)
    cutoff_round = before[len(before) // 2]["roundId"]
    purge_old_results(now=cutoff_round + 86400, days=1)
    after = export(cast.owner.client, recent, settings)
    assert after and all(r["roundId"] >= cutoff_round for r in after)
    assert after == [r for r in before if r["roundId"] >= cutoff_round]


def test_a_write_racing_a_build_is_not_lost(cast, recent, settings, monkeypatch):
    """A build reads the hour's version, then its rows; a write committed in between (or just after the rows were
    read) leaves the chunk with the older version, so the next export rebuilds it."""
    settings.DATA_PAGE_ROWS = 100_000  # one page: no later page of the same export reads the chunk again
    rows = export(cast.owner.client, recent, settings)
    target = rows[-1]
    ExportChunk.objects.all().delete()
    real = queries.as_dicts

    def write_after_reading(test, fields, raw, *whole):
        out = real(test, fields, raw, *whole)
        if any(r[0] == target["roundId"] for r in raw):
            monkeypatch.setattr(chunks, "as_dicts", real)
            results.upsert("net", [net_row(recent, target["roundId"], target["agentId"], 99.0)])
        return out

    monkeypatch.setattr(chunks, "as_dicts", write_after_reading)
    racing = export(cast.owner.client, recent, settings)
    assert [r for r in racing if r["roundId"] == target["roundId"] and r["agentId"] == target["agentId"]]
    hour = target["roundId"] - target["roundId"] % 3600
    stored = ExportChunk.objects.get(test=recent, kind="net", hour=hour)
    assert stored.version < ResultHour.objects.get(test=recent, hour=hour).version
    after = export(cast.owner.client, recent, settings)
    changed = [r for r in after if r["roundId"] == target["roundId"] and r["agentId"] == target["agentId"]]
    assert changed[0]["loss"] == 99.0


def test_a_chunk_rebuilt_under_a_page_is_read_again(cast, recent, settings, monkeypatch):
    expected = export(cast.owner.client, recent, settings)
    real, calls = chunks._read, []

    def rebuilt_elsewhere(kind, test, wanted, agent_ids):
        calls.append(wanted)
        found, agents = real(kind, test, wanted, agent_ids)
        if len(calls) == 1:  # as if another request stored a new build between the index and the bodies
            return {hour: (build + 1, segments, data) for hour, (build, segments, data) in found.items()}, agents
        return found, agents

    monkeypatch.setattr(chunks, "_read", rebuilt_elsewhere)
    assert export(cast.owner.client, recent, settings) == expected
    assert len(calls) > 1


def test_reads_chunks_cannot_serve_use_the_row_path(cast, http_test):
    test = http_test
    window = TimeRange(NOW - 3600, NOW)
    assert chunks.read_page_json("net", test, TimeRange(None, NOW, latest_only=True)) is None
    frozen = ReadScope(source_test_id=test.id, agent_ids=frozenset({1}))
    assert chunks.read_page_json("net", test, window, scope=frozen) is None
    # XML and the optional HTTP fields come from the row path, and still answer.
    url = f"/v6/web/http-server/{test.id}.json?from={format_v6_date(NOW - 3600)}&to={format_v6_date(NOW)}"
    with_headers = cast.owner.client.get(url + "&headers=1").json()["web"]["httpServer"]
    assert with_headers and "requestHeaders" in with_headers[0]
    xml = cast.owner.client.get(url.replace(".json", ".xml"))
    assert xml.status_code == 200 and b"<httpServer>" in xml.content


def test_round_hours_are_counted_by_every_write(cast):
    test = make_test(cast.owner, "agent-to-server", name="hours", interval=60)
    end = round_of(NOW, 60)
    seed(test, agents=2, hours=2, random_seed=1, now=NOW)
    hours = dict(ResultHour.objects.filter(test=test).values_list("hour", "version"))
    first = end - 2 * 3600 + 60
    assert set(hours) == set(range(first - first % 3600, end + 1, 3600))


def test_a_page_reaching_past_a_stale_hours_guess_reads_on(cast, recent, settings):
    """_chunks sends the index only of the hours a page is expected to reach, guessed from the stored row counts;
    a stale chunk's count can be wrong, and the page must still read every hour it needs."""
    settings.DATA_PAGE_ROWS = 100_000
    expected = export(cast.owner.client, recent, settings)
    second = ExportChunk.objects.filter(test=recent, kind="net").order_by("hour")[1]
    ExportChunk.objects.filter(id=second.id).update(rows=10**9)
    ResultHour.objects.filter(test=recent, hour=second.hour).update(version=second.version + 1)
    assert export(cast.owner.client, recent, settings) == expected
    assert ExportChunk.objects.get(id=second.id).rows < 10**9


def test_any_run_of_rounds_decodes_from_its_segments_alone(monkeypatch):
    """chunk_format: every run of whole rounds comes back exactly from just the segments holding it."""
    import random

    from spyglass.monitoring import chunk_format

    monkeypatch.setattr(chunk_format, "SEGMENT_BYTES", 100)  # many segments, rounds straddling none
    rng = random.Random(4)
    rounds = [(60 * i, 1, orjson.dumps([{"n": rng.random(), "s": "é" * rng.randrange(90)}])[1:-1]) for i in range(40)]
    encoded = chunk_format.encode(rounds)
    assert len(encoded.segments) > 10 and encoded.raw == b",".join(data for _, _, data in rounds)
    for i in range(len(rounds)):
        for j in range(i, len(rounds)):
            first, end = encoded.rounds[i][2], encoded.rounds[j][3]
            needed = chunk_format.segments_for(encoded.segments, first, end)
            stored = encoded.body[needed[0][2] : needed[-1][3]]
            assert b"".join(chunk_format.decode(needed, first, end, stored)) == encoded.raw[first:end]
