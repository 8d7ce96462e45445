"""Real app processes for multi-process tests: `spyglass serve` (gunicorn) on loopback ports against the test
database, stopped by PID when the test ends."""

import fcntl
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import django
import httpx
from django.conf import settings
from django.db import connection

from tests.smtp import free_port

SPYGLASS = Path(__file__).resolve().parents[1] / "spyglass"


def migrated_sqlite(data_dir) -> Path:
    """Puts into `data_dir` the SQLite database `spyglass migrate` makes there, for a test whose processes need a
    database but do not test migrating one: a copy of one migrated once per test run (the run's data dir holds it,
    named by a digest of every migration and Django's version), in milliseconds where migrating a fresh file takes
    seconds. Commands started there find it up to date and go on."""
    digest = hashlib.sha256(django.get_version().encode())
    for migration in sorted(SPYGLASS.glob("*/migrations/*.py")):
        digest.update(str(migration.relative_to(SPYGLASS)).encode() + b"\0" + migration.read_bytes())
    template = Path(settings.DATA_DIR) / "test-databases" / f"migrated-{digest.hexdigest()[:16]}.sqlite3"
    template.parent.mkdir(parents=True, exist_ok=True)
    with open(template.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process migrates; the others (workers, the other pass) wait for it
        if not template.exists():
            with tempfile.TemporaryDirectory(dir=template.parent) as scratch:
                env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_") and k != "DATABASE_URL"}
                command = [sys.executable, "-m", "spyglass.cli.main", "migrate"]
                done = subprocess.run(
                    command, env={**env, "SPYGLASS_DATA_DIR": scratch}, capture_output=True, timeout=300
                )
                assert done.returncode == 0, done.stderr.decode()[-2000:]
                # One self-contained file (the migration's writes may still sit in the WAL), then in place at once.
                source, copy = (
                    sqlite3.connect(Path(scratch) / "spyglass.sqlite3"),
                    sqlite3.connect(Path(scratch) / "copy"),
                )
                with source, copy:
                    source.backup(copy)
                source.close()
                copy.close()
                os.replace(Path(scratch) / "copy", template)
    database = Path(data_dir) / "spyglass.sqlite3"
    shutil.copyfile(template, database)
    return database


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

    def __init__(self, data_dir, extra_env=None, migrated=True):
        """`migrated`: start from a migrated database (`migrated_sqlite`); False starts from an empty data dir."""
        self.data_dir = data_dir
        if migrated:
            migrated_sqlite(data_dir)
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
