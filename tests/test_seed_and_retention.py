"""Synthetic history (diurnal latency, loss bursts, outages) and the retention purge that spares pinned windows."""

import statistics

import pytest
from django.db.models import Max, Min

from spyglass.cli.main import main
from spyglass.monitoring.models import HttpResult, NetResult, RetentionPin
from spyglass.monitoring.retention import purge_old_results
from spyglass.monitoring.seed import seed
from spyglass.worker import run_once
from tests.conftest import make_test

NOW = 1_795_000_000


def test_seed_writes_one_row_per_agent_and_round(cast):
    test = make_test(cast.owner, "http-server", interval=60)
    count = seed(test, agents=5, hours=2, random_seed=1, now=NOW)
    assert NetResult.objects.filter(test=test).count() == 5 * 120
    assert HttpResult.objects.filter(test=test).count() == 5 * 120
    assert count == 2 * 5 * 120
    assert test.agents.count() == 5
    span = NetResult.objects.filter(test=test).aggregate(lo=Min("round_id"), hi=Max("round_id"))
    assert span["hi"] - span["lo"] == 119 * 60


def test_seeded_latency_follows_the_day_and_has_loss_and_outages(cast):
    test = make_test(cast.owner, interval=600)
    seed(test, agents=30, hours=48, random_seed=11, now=NOW)
    rows = list(NetResult.objects.filter(test=test).values("agent_id", "round_id", "avg_latency", "loss"))
    by_agent = {}
    for r in rows:
        if r["avg_latency"] is not None:
            by_agent.setdefault(r["agent_id"], []).append(r["avg_latency"])
    swings = [max(v) / min(v) for v in by_agent.values()]
    assert statistics.median(swings) > 1.1  # a daily swing, not a flat line
    assert any(r["loss"] and 0 < r["loss"] < 100 for r in rows)  # loss bursts
    assert any(r["loss"] == 100 and r["avg_latency"] is None for r in rows)  # outages


def test_the_same_random_seed_gives_the_same_history(cast):
    a = make_test(cast.owner, name="a", interval=300)
    b = make_test(cast.owner, name="b", interval=300)
    seed(a, agents=3, hours=3, random_seed=5, now=NOW)
    seed(b, agents=3, hours=3, random_seed=5, now=NOW)
    values = [
        list(NetResult.objects.filter(test=t).order_by("round_id", "agent__name").values_list("avg_latency", "loss"))
        for t in (a, b)
    ]
    assert values[0] == values[1]


def test_seed_command_validates_its_arguments(cast, capsys):
    test = make_test(cast.owner)
    with pytest.raises(SystemExit) as exit_info:
        main(["seed", "--test", str(test.id), "--agents", "0", "--hours", "1"])
    assert exit_info.value.code == 2
    assert "--agents" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["seed", "--test", str(test.id), "--agents", "2", "--hours", "1", "--random-seed", "4"])
    assert exit_info.value.code == 0
    assert NetResult.objects.filter(test=test).count() == 120


def test_retention_purges_old_results_but_keeps_pinned_windows(cast, settings):
    settings.RETENTION_DAYS = 1
    test = make_test(cast.owner, interval=3600)
    seed(test, agents=2, hours=72, random_seed=2, now=NOW)
    pinned_start = NOW - 60 * 3600
    RetentionPin.objects.create(test=test, start_round=pinned_start, end_round=pinned_start + 2 * 3600)
    purged = purge_old_results(now=NOW)
    left = set(NetResult.objects.filter(test=test).values_list("round_id", flat=True))
    cutoff = NOW - 86400
    assert purged > 0
    assert all(r >= cutoff or pinned_start <= r <= pinned_start + 7200 for r in left)
    assert {pinned_start // 3600 * 3600 + h * 3600 for h in range(1, 3)} <= left
    assert len([r for r in left if r >= cutoff]) == 24


def test_the_worker_pass_runs_retention(cast, settings):
    settings.RETENTION_DAYS = 1
    test = make_test(cast.owner, interval=3600)
    seed(test, agents=1, hours=48, random_seed=2)
    report = run_once()
    assert report["results_purged"] >= 23
    assert NetResult.objects.filter(test=test).count() <= 25
