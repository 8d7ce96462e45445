"""Rounds: each assigned test runs once per round, at an offset within the round that is stable per (agent, test).

roundId = floor(now / interval) * interval. A round whose slot has passed long ago (the agent was down or asleep)
is skipped — missed rounds stay missing. A run still going when its round ends records an error for that round."""

import hashlib
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from spyglass.lib.rounds import round_of

from .measure import overrun_rows, run_assignment

log = logging.getLogger(__name__)
SPREAD_FRACTION = 0.5  # slots fall in the first half of a round, leaving the rest for the run itself
LATE_FRACTION = 0.25  # a slot missed by more than this is too late unless at least this part of the round remains


def offset_of(agent_key: str, test_id: int, spread: float) -> float:
    """Seconds after the round start: stable for (agent, test), spread evenly over [0, spread)."""
    digest = hashlib.sha256(f"{agent_key}:{test_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * spread


@dataclass
class Run:
    assignment: dict
    round_id: int
    future: Future
    ends: float


class Scheduler:
    def __init__(
        self,
        agent_key: str,
        emit,
        clock=time.time,
        spread: float | None = None,
        workers: int = 8,
        run=None,
        done_rounds: dict[int, int] | None = None,
    ):
        """emit(rows, test_id, round_id) receives every round's rows; spread (seconds) overrides the default spread
        of slots; done_rounds are rounds already measured (by an earlier run of this agent)."""
        self.agent_key = agent_key
        self.emit = emit
        self.clock = clock
        self.spread = spread
        self.run = run or run_assignment
        self.assignments: dict[int, dict] = {}
        self.last_round: dict[int, int] = dict(done_rounds or {})
        self.running: dict[int, Run] = {}
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")

    def set_assignments(self, assignments: list[dict]) -> None:
        self.assignments = {a["testId"]: a for a in assignments}

    def slot(self, a: dict, round_id: int) -> float:
        spread = a["interval"] * SPREAD_FRACTION if self.spread is None else self.spread
        return round_id + offset_of(self.agent_key, a["testId"], spread)

    def tick(self) -> float:
        """Start due runs, collect finished ones, record overruns. Returns seconds until something is due."""
        now = self.clock()
        wake = now + 1.0
        for test_id, run in list(self.running.items()):
            if run.future.done():
                del self.running[test_id]
                self.last_round[test_id] = run.round_id
                try:
                    rows = run.future.result()
                except Exception as exc:  # a probe bug must not stop the agent; the round records it
                    log.exception("test %s failed in round %s", test_id, run.round_id)
                    rows = overrun_rows(run.assignment, run.round_id, now)
                    for row in rows:
                        row["errorType"], row["errorDetails"] = "Error", f"agent error: {exc}"
                self.emit(rows, test_id, run.round_id)
            elif now >= run.ends:
                # The thread cannot be killed; its late answer is dropped, and the round records the overrun.
                del self.running[test_id]
                self.last_round[test_id] = run.round_id
                run.future.cancel()
                self.emit(overrun_rows(run.assignment, run.round_id, run.ends - 0.001), test_id, run.round_id)
            else:
                wake = min(wake, run.ends)
        for test_id, a in self.assignments.items():
            if test_id in self.running:
                continue
            interval = a["interval"]
            round_id = round_of(now, interval)
            if self.last_round.get(test_id, -1) >= round_id:
                wake = min(wake, self.slot(a, round_id + interval))
                continue
            slot = self.slot(a, round_id)
            if now < slot:
                wake = min(wake, slot)
                continue
            ends = round_id + interval
            if now - slot > interval * LATE_FRACTION and ends - now < interval * LATE_FRACTION:
                self.last_round[test_id] = round_id  # too late for this round: it stays missing
                continue
            future = self.pool.submit(self.run, dict(a), round_id, now)
            self.running[test_id] = Run(a, round_id, future, ends)
            wake = min(wake, ends)
        return max(0.01, wake - self.clock())

    def loop(self, stop) -> None:
        while not stop.is_set():
            stop.wait(min(self.tick(), 1.0))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
