"""The relay: forwards IP packets between two TUN file descriptors, delaying and dropping the forward direction.

Usage: relay.py FD_A FD_B DELAY_MS LOSS SEED. Packets read from A (the root namespace side) reach B after DELAY_MS,
except a fraction LOSS of them, dropped at random; packets from B reach A at once."""

import heapq
import os
import random
import select
import signal
import sys
import time


def main() -> int:
    fd_a, fd_b, delay_ms, loss, seed = (
        int(sys.argv[1]),
        int(sys.argv[2]),
        float(sys.argv[3]),
        float(sys.argv[4]),
        int(sys.argv[5]),
    )
    rng = random.Random(seed)
    try:  # a relay kept waiting by a busy machine would add delay of its own
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))
    except OSError:
        pass
    delay = delay_ms / 1000.0
    queue: list[tuple[float, int, bytes]] = []
    seq = 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while True:
        timeout = max(0.0, queue[0][0] - time.perf_counter()) if queue else None
        ready, _, _ = select.select([fd_a, fd_b], [], [], timeout)
        for fd in ready:
            packet = os.read(fd, 65535)
            if fd == fd_a:
                if rng.random() < loss:
                    continue
                seq += 1
                heapq.heappush(queue, (time.perf_counter() + delay, seq, packet))
            else:
                os.write(fd_a, packet)
        now = time.perf_counter()
        while queue and queue[0][0] <= now:
            os.write(fd_b, heapq.heappop(queue)[2])


if __name__ == "__main__":
    sys.exit(main())
