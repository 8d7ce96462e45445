"""Data endpoints: time ranges (window / from / to, lenient dates), latest round, pagination, shapes."""

import time

import pytest

from spyglass.lib.rounds import round_of
from spyglass.monitoring.seed import seed
from tests.conftest import make_test

NOW = 1_795_000_000  # a fixed "now" keeps round arithmetic exact


@pytest.fixture
def seeded(cast):
    test = make_test(cast.owner, "http-server", name="web", interval=60)
    seed(test, agents=3, hours=2, random_seed=7, now=time.time())
    return test


def test_without_a_range_only_the_latest_round_is_returned(cast):
    test = make_test(cast.owner, "http-server", name="web", interval=60)
    seed(test, agents=3, hours=2, random_seed=7, now=NOW)
    body = cast.owner.client.get(f"/v6/net/metrics/{test.id}.json").json()
    rounds = {row["roundId"] for row in body["net"]["metrics"]}
    assert rounds == {round_of(NOW, 60)}
    assert len(body["net"]["metrics"]) == 3
    assert "from" not in body and body["pages"] == {"current": 1}


def test_window_returns_every_round_in_it_with_v6_fields(cast, seeded):
    body = cast.owner.client.get(f"/v6/web/http-server/{seeded.id}.json?window=30m").json()
    rows = body["web"]["httpServer"]
    assert 29 * 3 <= len(rows) <= 31 * 3
    assert body["web"]["test"]["testId"] == seeded.id
    assert {"from", "to", "pages"} <= set(body)
    row = rows[0]
    for field in (
        "agentId",
        "agentName",
        "countryId",
        "date",
        "roundId",
        "permalink",
        "serverIp",
        "responseCode",
        "numRedirects",
        "redirectTime",
        "dnsTime",
        "sslTime",
        "connectTime",
        "waitTime",
        "receiveTime",
        "wireSize",
        "responseTime",
        "throughput",
        "totalTime",
        "errorType",
        "errorDetails",
        "sslCipher",
        "sslVersion",
    ):
        assert field in row, field
    assert "sslCerts" not in row and "requestHeaders" not in row
    assert all(r["roundId"] % 60 == 0 for r in rows)
    assert [r["roundId"] for r in rows] == sorted(r["roundId"] for r in rows)


@pytest.mark.parametrize("window, minutes", [("3600", 60), ("90m", 90), ("1h", 60), ("2h", 120)])
def test_window_units(cast, seeded, window, minutes):
    body = cast.owner.client.get(f"/v6/net/metrics/{seeded.id}.json?window={window}").json()
    rounds = {r["roundId"] for r in body["net"]["metrics"]}
    assert minutes - 1 <= len(rounds) <= minutes + 1


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-01-01T00:00:00&to=2026-01-01T01:00:00",
        "from=2026-01-01 00:00:00&to=2026-01-01 01:00:00",
        "from=2026-01-01T0:00:00 &to=2026-01-01T1:00:00 ",
        "from=2026-01-01 0:00&to=2026-01-01 1:00",
    ],
)
def test_from_and_to_are_parsed_leniently(cast, query):
    test = make_test(cast.owner, interval=300)
    body = cast.owner.client.get(f"/v6/net/metrics/{test.id}.json?{query}").json()
    assert (body["from"], body["to"]) == ("2026-01-01 00:00:00", "2026-01-01 01:00:00")


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("window=1h&from=2026-01-01T00:00:00", "window cannot be combined"),
        ("to=2026-01-01T00:00:00", "to requires from"),
        ("window=12y", "window must be"),
        ("window=-5", "window must be"),
        ("from=yesterday", "from:"),
        ("from=2026-02-30T00:00:00", "not a valid date"),
        ("from=2026-01-02T00:00:00&to=2026-01-01T00:00:00", "to must not be before from"),
        ("window=1h&lastRoundId=abc", "lastRoundId"),
    ],
)
def test_bad_ranges_are_400_naming_the_parameter(cast, query, fragment):
    test = make_test(cast.owner)
    response = cast.owner.client.get(f"/v6/net/metrics/{test.id}.json?{query}")
    assert response.status_code == 400
    assert fragment in response.json()["errorMessage"]


def test_pages_follow_next_links_without_losing_or_repeating_rows(cast, seeded, settings):
    settings.DATA_PAGE_ROWS = 40  # 3 agents a round: a page holds 13 whole rounds
    url = f"/v6/net/metrics/{seeded.id}.json?window=2h"
    seen, pages = [], 0
    while url:
        body = cast.owner.client.get(url).json()
        rows = body["net"]["metrics"]
        pages += 1
        assert body["pages"]["current"] == pages
        assert len({r["roundId"] for r in rows}) * 3 == len(rows)  # a page never splits a round
        seen.extend((r["roundId"], r["agentId"]) for r in rows)
        nxt = body["pages"].get("next")
        assert nxt is None or "lastRoundId=" in nxt
        url = nxt.replace(settings.BASE_URL, "") if nxt else None
    everything = cast.owner.client.get(f"/v6/net/metrics/{seeded.id}.json?window=2h")
    assert len(seen) == len(set(seen)) > 80
    assert pages > 2
    assert everything.status_code == 200


def test_pages_are_read_with_query_logging_on_and_start_where_the_last_page_ended(cast, seeded):
    """With queries logged (DEBUG, assertNumQueries) the dates' format once broke SQLite's logging: a 500. A later
    page's query must start at its own first round, or each page re-reads every row of the pages before it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from spyglass.lib.timeranges import TimeRange
    from spyglass.monitoring import queries

    now = round_of(time.time(), 60)
    window = TimeRange(now - 7200, now)
    first = queries.read_page("net", seeded, window, limit=40)
    with CaptureQueriesContext(connection) as captured:
        second = queries.read_page("net", seeded, window, first.next_last_round_id, limit=40)
    assert second.rows[0]["roundId"] == first.next_last_round_id + 60
    page_query = next(q["sql"] for q in captured.captured_queries if "v6_date" in q["sql"])
    assert page_query.count('"round_id" >=') == 1 and '"round_id" >' not in page_query.replace('" >=', "")
    assert str(first.next_last_round_id + 1) in page_query
    # The row path serves XML: it answers with logging on, too.
    with CaptureQueriesContext(connection):
        assert cast.owner.client.get(f"/v6/net/metrics/{seeded.id}.xml?window=2h").status_code == 200


def test_http_data_is_404_for_a_network_only_test(cast):
    test = make_test(cast.owner, "agent-to-server")
    assert cast.owner.client.get(f"/v6/web/http-server/{test.id}.json").status_code == 404
    assert cast.owner.client.get(f"/v6/dns/server/{test.id}.json").status_code == 404


def test_dns_rows_carry_answers_as_one_newline_joined_string(cast):
    test = make_test(cast.owner, "dns-server", interval=60)
    seed(test, agents=2, hours=1, random_seed=3)
    rows = cast.owner.client.get(f"/v6/dns/server/{test.id}.json?window=1h").json()["dns"]["server"]
    assert rows and {"server", "serverId", "resolutionTime", "mappings", "errorDetails"} <= set(rows[0])
    assert any("(A)" in r["mappings"] for r in rows)
