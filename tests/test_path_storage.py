"""Path trace storage: the packed round reads back what was written (times within their steps, probes and errors
exactly) on random input, and bench row 11's measure counts what the path tables hold."""

import random

from spyglass.bench import paths as bench_paths
from spyglass.monitoring import path_format
from spyglass.monitoring.models import Path, PathRound


def random_trace(rng, index, path_id, hops) -> path_format.Trace:
    times = [None if rng.random() < 0.15 else rng.choice([rng.uniform(0, 2), rng.uniform(0, 400)]) for _ in range(hops)]
    sent = [rng.choice([3, 3, 3, 10, 0]) for _ in range(hops)]
    lost = [rng.randint(0, s) for s in sent]
    error = rng.choice(["", "", "no route to host", "é ünïcode"])
    return path_format.Trace(index, path_id, rng.random() < 0.8, rng.random() < 0.3, error, times, sent, lost)


def test_a_packed_round_reads_back_what_was_written():
    rng = random.Random(7)
    for _ in range(1000):
        round_id = rng.randrange(1_700_000_000, 1_900_000_000) // 60 * 60
        date = round_id + rng.uniform(0, 200)
        shared = rng.randrange(1, 10**7)
        traces = [
            random_trace(rng, i, shared if rng.random() < 0.7 else rng.randrange(1, 10**7), rng.randint(0, 30))
            for i in sorted(rng.sample(range(10), rng.randint(1, 10)))
        ]
        packed = path_format.encode(round_id, date, traces)
        got_date, got = path_format.decode(round_id, packed)
        assert path_format.path_ids(packed) == {t.path_id for t in traces}  # read without decoding the hops
        assert abs(got_date - date) <= 0.05 + 1e-6  # a tenth of a second
        assert len(got) == len(traces)
        for a, b in zip(traces, got, strict=True):
            assert (a.index, a.path_id, a.reached, a.icmp, a.error) == (b.index, b.path_id, b.reached, b.icmp, b.error)
            assert (a.sent, a.lost) == (b.sent, b.lost)
            for t, back in zip(a.times, b.times, strict=True):
                if t is None:
                    assert back is None
                else:
                    step = 0.01 if t < 10 else 0.1 if t < 100 else 1.0
                    assert abs(back - t) <= step / 2 + 1e-9, (t, back)


def test_three_traces_of_an_unchanging_path_take_a_byte_a_hop_after_the_first():
    rng = random.Random(3)
    base = [0.4, 1.2, 3.0] + [5 + 45 * (h + 1) / 12 for h in range(12)]
    traces = [
        path_format.Trace(i, 123456, True, False, "", [t * (1 + rng.gauss(0, 0.02)) for t in base], [3] * 15, [0] * 15)
        for i in range(3)
    ]
    packed = path_format.encode(1_795_000_000, 1_795_000_001.5, traces)
    assert len(packed) <= 80


def test_bench_row_11_counts_the_path_tables(cast):
    steady, _ = bench_paths._cost("steady", 3, 1, None)
    assert PathRound.objects.count() == 3 * 60 and Path.objects.count() == 3
    changing, _ = bench_paths._cost("changing", 3, 1, 1)
    assert Path.objects.count() == 3 + 3 * 60
    assert 50 < steady < changing
