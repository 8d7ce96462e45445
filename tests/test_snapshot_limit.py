"""The per-organization creation limit: SPYGLASS_SNAPSHOT_RATE (default 5 per 5 minutes and 10 per hour), counting
only successful creations, answering 429 with errorMessage and Retry-After. (Concurrency across processes:
test_snapshot_processes.py.)"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from spyglass.lib.rates import parse_rates
from spyglass.sharing.models import Snapshot
from tests.conftest import make_test

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def create(person, test, name="s"):
    body = {"testId": test.id, "displayName": name, "from": "2026-11-22 08:00:00", "to": "2026-11-22 09:00:00"}
    return person.client.post("/v6/snapshot.json", body, format="json")


def test_the_sixth_creation_in_five_minutes_is_429_with_retry_after(cast):
    test = make_test(cast.owner)
    with time_machine.travel(T0, tick=False) as clock:
        codes = []
        for i in range(6):
            codes.append(create(cast.owner if i % 2 else cast.teammate, test).status_code)
            clock.shift(timedelta(seconds=10))
        assert codes == [201] * 5 + [429]
        refused = create(cast.owner, test)
        assert "5 per 5 minutes" in refused.json()["errorMessage"]
        assert 0 < int(refused["Retry-After"]) <= 300
        assert Snapshot.objects.count() == 5
        clock.shift(timedelta(seconds=int(refused["Retry-After"])))
        assert create(cast.owner, test).status_code == 201


def test_the_hourly_limit_applies_too_and_is_per_organization(cast):
    test = make_test(cast.owner)
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(10):
            assert create(cast.owner, test).status_code == 201
            clock.shift(timedelta(minutes=1, seconds=30))  # 4 per 5 minutes at most
        refused = create(cast.owner, test)
        assert refused.status_code == 429 and "10 per hour" in refused.json()["errorMessage"]
        assert int(refused["Retry-After"]) > 30 * 60
        other = make_test(cast.other_org, name="globex")
        assert create(cast.other_org, other).status_code == 201  # another organization has its own count


def test_refused_creations_do_not_count(cast):
    test = make_test(cast.owner)
    bad = {"testId": test.id, "displayName": "s", "from": "2026-11-22 08:00:00", "to": "2026-11-22 11:00:00"}
    for _ in range(8):
        assert cast.owner.client.post("/v6/snapshot.json", bad, format="json").status_code == 400
    for _ in range(5):
        assert create(cast.owner, test).status_code == 201


def test_revoking_does_not_give_back_a_creation(cast):
    test = make_test(cast.owner)
    for _ in range(5):
        link = create(cast.owner, test).json()["link"]["linkId"]
        cast.owner.client.post(f"/v6/snapshots/{link}/delete.json")
    assert create(cast.owner, test).status_code == 429


def test_the_rate_setting_is_configurable_and_validated(cast, settings):
    settings.SNAPSHOT_RATE = parse_rates("2/1m")
    test = make_test(cast.owner)
    assert [create(cast.owner, test).status_code for _ in range(3)] == [201, 201, 429]
    assert parse_rates("5/5m,10/1h") == [(5, 300), (10, 3600)]
    assert parse_rates("100/d") == [(100, 86400)]
    for bad in ("", "5", "5/5x", "0/1m", "five/1m"):
        with pytest.raises(ValueError):
            parse_rates(bad)


def test_a_bad_rate_setting_stops_the_start_with_a_clear_message(monkeypatch):
    import importlib

    import spyglass.settings as settings_module

    monkeypatch.setenv("SPYGLASS_SNAPSHOT_RATE", "lots")
    with pytest.raises(ImproperlyConfigured, match="SPYGLASS_SNAPSHOT_RATE"):
        importlib.reload(settings_module)
    monkeypatch.delenv("SPYGLASS_SNAPSHOT_RATE")
    importlib.reload(settings_module)
