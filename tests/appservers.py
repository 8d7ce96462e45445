"""Real app processes for multi-process tests: `spyglass serve` (gunicorn) on loopback ports against the test
database, stopped by PID when the test ends."""

import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import httpx
from django.conf import settings
from django.db import connection

from tests.smtp import free_port


def database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class AppServer:
    def __init__(self, data_dir, worker=False, extra_env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "SPYGLASS_TEST_DB_NAME"}
        env.update(
            DATABASE_URL=database_url(),
            SPYGLASS_SECRET_KEY=settings.SECRET_KEY,
            SPYGLASS_DATA_DIR=str(data_dir),
            SPYGLASS_BASE_URL=self.url,
        )
        env.update(extra_env or {})  # may replace the above (several processes behind one address)
        command = [sys.executable, "-m", "spyglass.cli.main", "serve", "--no-agent", "--addr", f"127.0.0.1:{self.port}"]
        command += ["--workers", "1"] + ([] if worker else ["--no-worker"])
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/v6/status.json", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("app server did not start in time")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
