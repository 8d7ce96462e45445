"""The scheduler: roundIds, stable offsets, one run per round, overruns recorded, missed rounds left missing."""

import threading
import time

from spyglass.agent.scheduler import Scheduler, offset_of
from tests.agent_helpers import TcpService, closed_port, wait_for


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def tcp_assignment(port: int, test_id: int = 1, interval: int = 60, **extra) -> dict:
    return {
        "testId": test_id,
        "type": "agent-to-server",
        "interval": interval,
        "server": "127.0.0.1",
        "port": port,
        "protocol": "TCP",
        "probeCount": 3,
        "probeSpacing": 10,
        "numPathTraces": 0,  # rounds are the subject here; path rows have tests of their own
        **extra,
    }


class Sink:
    def __init__(self):
        self.rows, self.lock = [], threading.Lock()

    def __call__(self, rows, test_id, round_id):
        with self.lock:
            self.rows.extend(rows)


def run_until_quiet(scheduler: Scheduler):
    scheduler.tick()
    wait_for(lambda: all(r.future.done() for r in scheduler.running.values()))
    scheduler.tick()


def test_it_spreads_tests_over_the_round_at_offsets_stable_per_agent_and_test():
    assert offset_of("agent-a", 7, 30) == offset_of("agent-a", 7, 30)
    offsets = {offset_of("agent-a", t, 30) for t in range(200)}
    assert all(0 <= o < 30 for o in offsets)
    assert len(offsets) == 200
    assert max(offsets) - min(offsets) > 25  # spread over the window, not bunched
    assert offset_of("agent-a", 7, 30) != offset_of("agent-b", 7, 30)


def test_it_runs_each_test_once_per_round_with_the_round_id_of_its_interval():
    service = TcpService()
    sink, clock = Sink(), FakeClock(6_000_000 + 1.0)
    scheduler = Scheduler("a", sink, clock=clock, spread=0)
    scheduler.set_assignments([tcp_assignment(service.port, interval=120)])
    run_until_quiet(scheduler)
    clock.now += 30
    run_until_quiet(scheduler)  # same round: nothing new
    assert [(r["roundId"], r["kind"], r["loss"]) for r in sink.rows] == [(6_000_000, "net", 0.0)]
    assert sink.rows[0]["avgLatency"] > 0
    clock.now += 100  # the next round
    run_until_quiet(scheduler)
    assert [r["roundId"] for r in sink.rows] == [6_000_000, 6_000_120]
    scheduler.close()
    service.close()


def test_it_waits_for_the_slot_of_a_test_within_the_round():
    service = TcpService()
    sink, clock = Sink(), FakeClock(6_000_000.0)
    scheduler = Scheduler("a", sink, clock=clock)
    assignment = tcp_assignment(service.port)
    scheduler.set_assignments([assignment])
    slot = scheduler.slot(assignment, 6_000_000)
    clock.now = slot - 0.5
    run_until_quiet(scheduler)
    assert sink.rows == []
    clock.now = slot + 0.1
    run_until_quiet(scheduler)
    assert [r["roundId"] for r in sink.rows] == [6_000_000]
    scheduler.close()
    service.close()


def test_rounds_missed_while_the_agent_was_down_stay_missing():
    service = TcpService()
    sink, clock = Sink(), FakeClock(6_000_000 + 1.0)
    scheduler = Scheduler("a", sink, clock=clock, spread=0)
    scheduler.set_assignments([tcp_assignment(service.port)])
    run_until_quiet(scheduler)
    clock.now += 4 * 60 + 50  # asleep for four rounds, waking late in the fifth
    run_until_quiet(scheduler)
    clock.now += 20  # early in the next round
    run_until_quiet(scheduler)
    assert [r["roundId"] for r in sink.rows] == [6_000_000, 6_000_000 + 5 * 60]
    scheduler.close()
    service.close()


def test_a_round_that_overruns_records_an_error_for_that_round():
    service = TcpService()
    sink = Sink()
    scheduler = Scheduler("a", sink, spread=0)
    # 40 probes 100 ms apart need 4 s; the round is 2 s long.
    scheduler.set_assignments([tcp_assignment(service.port, interval=2, probeCount=40, probeSpacing=100)])
    stop = threading.Event()
    threading.Thread(target=scheduler.loop, args=(stop,), daemon=True).start()
    first = wait_for(lambda: list(sink.rows), timeout=10)[0]
    stop.set()
    scheduler.close()
    service.close()
    assert first["errorType"] == "Timeout"
    assert "did not finish within its round" in first["errorDetails"]
    assert first["roundId"] % 2 == 0
    assert first["roundId"] <= first["date"] < first["roundId"] + 2
    assert first.get("avgLatency") is None  # an error, never made-up numbers


def test_it_records_an_unreachable_target_as_full_loss_with_the_reason():
    sink, clock = Sink(), FakeClock(time.time() // 60 * 60 + 1)
    scheduler = Scheduler("a", sink, clock=clock, spread=0)
    scheduler.set_assignments([tcp_assignment(closed_port())])
    run_until_quiet(scheduler)
    scheduler.close()
    (row,) = sink.rows
    assert row["loss"] == 100.0
    assert row["errorType"] == "Connect"
    assert "refused" in row["errorDetails"]
