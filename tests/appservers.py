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


def _wait_serving(process: subprocess.Popen, url: str, timeout: float, exited) -> None:
    """Until `url` answers /v6/status with 200; `exited()` says why when the process ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"spyglass serve exited: {exited()[-2000:]}")
        try:
            if httpx.get(f"{url}/v6/status.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("spyglass serve did not start in time")


def _stop(process: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM by PID, then SIGKILL if it has not ended within `timeout` seconds."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
        _wait_serving(self.process, self.url, timeout, lambda: self.process.stderr.read().decode())
        return self

    def stop(self):
        _stop(self.process, timeout=15)


class SqliteServer:
    """`spyglass serve` on its own SQLite database in `data_dir`, outside the test database: for tests of what the
    process itself does (its logs, its settings from the environment). stdout and stderr go to files there."""

    def __init__(self, data_dir, extra_env=None):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_") and k != "DATABASE_URL"}
        self.env["SPYGLASS_STATIC_ROOT"] = os.environ["SPYGLASS_STATIC_ROOT"]  # the run's static files (conftest)
        self.env.update(SPYGLASS_DATA_DIR=str(data_dir), **(extra_env or {}))
        self.process = None

    def spyglass(self, *args) -> subprocess.CompletedProcess:
        """Another spyglass command on the same data (user create, …)."""
        command = [sys.executable, "-m", "spyglass.cli.main", *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120, check=True)

    def start(self, timeout=60):
        command = [sys.executable, "-m", "spyglass.cli.main", "serve", "--no-agent", "--no-worker", "--workers", "1"]
        command += ["--addr", f"127.0.0.1:{self.port}"]
        with open(self.data_dir / "stdout", "wb") as out, open(self.data_dir / "stderr", "wb") as err:
            self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=err)
        _wait_serving(self.process, self.url, timeout, self.output)
        return self

    def stop(self):
        _stop(self.process, timeout=30)

    def output(self) -> str:
        """Everything the process wrote, stdout then stderr."""
        return "".join((self.data_dir / name).read_text(errors="replace") for name in ("stdout", "stderr"))
