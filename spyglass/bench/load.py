"""`python -m spyglass.bench.load URL REQUESTS CONCURRENCY`: a load generator in a process of its own; prints JSON
{"requests", "ok", "seconds", "per_second", "p99_ms"}. BENCH_AUTHORIZATION, when set, is sent as the Authorization
header of every request."""

import json
import os
import sys
import threading
import time

import httpx


def main():
    url, total, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    counter = iter(range(total))
    lock = threading.Lock()
    latencies, ok = [], [0]
    authorization = os.environ.get("BENCH_AUTHORIZATION", "")
    headers = {"Authorization": authorization} if authorization else {}

    def worker():
        with httpx.Client(timeout=60, headers=headers) as client:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                start = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    ok[0] += response.status_code == 200

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0
    print(
        json.dumps({"requests": total, "ok": ok[0], "seconds": seconds, "per_second": total / seconds, "p99_ms": p99})
    )


if __name__ == "__main__":
    main()
