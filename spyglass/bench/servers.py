"""Real app processes for the rows that need them: the product's gunicorn configuration on loopback ports."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_processes(count: int, env_extra: dict | None = None):
    """Start `count` app processes; yields their base URLs; stops them (by PID) on exit."""
    env = {**os.environ, **(env_extra or {})}
    procs, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "spyglass.bench.server", str(port)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(url + "/v6/status.json", timeout=2)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{url} did not start") from None
                    time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def load(url: str, requests: int, concurrency: int, authorization: str = "") -> dict:
    """Run the load generator in a process of its own and return its figures; `authorization` is sent as the
    requests' Authorization header (through the environment, not the command line other processes can read)."""
    import json

    out = subprocess.run(
        [sys.executable, "-m", "spyglass.bench.load", url, str(requests), str(concurrency)],
        env={**os.environ, "BENCH_AUTHORIZATION": authorization},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout)
