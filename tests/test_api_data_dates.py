"""Exported dates are written by the database in v6 form: they must read exactly as format_v6_date would write the
stored datetime (UTC, whole seconds), on SQLite and PostgreSQL alike."""

import time
from datetime import UTC, datetime, timedelta, timezone

from spyglass.lib.timefmt import format_v6_date
from spyglass.monitoring import results
from spyglass.monitoring.models import NetResult
from tests.conftest import make_agent, make_test


def test_it_exports_each_rows_date_in_utc_whole_seconds(cast):
    test = make_test(cast.owner, "agent-to-server", name="edge", interval=60)
    agent = make_agent(cast.owner)
    test.agents.add(agent)
    last = int(time.time()) // 60 * 60 - 60
    # Sub-second dates: truncated to the second, never rounded up.
    dates = [last + 59.999, last - 60 + 0.5, last - 120]
    results.upsert(
        "net",
        [
            {"test_id": test.id, "agent_id": agent.id, "round_id": r, "date": datetime.fromtimestamp(d, tz=UTC)}
            for r, d in zip((last, last - 60, last - 120), dates, strict=True)
        ],
    )
    body = cast.owner.client.get(f"/v6/net/metrics/{test.id}.json?window=10m").json()
    exported = {row["roundId"]: row["date"] for row in body["net"]["metrics"]}
    stored = {r.round_id: format_v6_date(r.date) for r in NetResult.objects.filter(test=test)}
    assert exported == stored and len(exported) == 3
    assert exported[last] == datetime.fromtimestamp(last + 59, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_response_dates_read_in_utc_whole_seconds_whatever_the_datetime_carries():
    # format_v6_date writes the fields itself (cheaper than strftime): it must still read as strftime would.
    plus_five = timezone(timedelta(hours=5, minutes=30))
    assert format_v6_date(datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)) == "2026-01-02 03:04:05"
    assert format_v6_date(datetime(2026, 1, 1, 2, 0, 7, tzinfo=plus_five)) == "2025-12-31 20:30:07"
    assert format_v6_date(datetime(2026, 7, 8, 9, 10, 11)) == "2026-07-08 09:10:11"  # naive: taken as UTC
    assert format_v6_date(1_800_000_000) == "2027-01-15 08:00:00"
    early = datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert format_v6_date(early) == early.strftime("%Y-%m-%d %H:%M:%S")
    assert format_v6_date(None) is None
