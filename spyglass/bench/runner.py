"""Runs the benchmark in a child process on a throw-away database (a temp SQLite file, or a temp database created on
the PostgreSQL server given by --database-url), prints a table and writes the figures as JSON."""

import json
import os
import platform
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rich.console import Console
from rich.table import Table

err = Console(stderr=True, soft_wrap=True)


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def _temp_database(url: str) -> tuple[str, str]:
    import psycopg

    name = f"spyglass_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}")), name


def _drop_database(url: str, name: str):
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(quick: bool, json_path: str | None, database_url: str | None, only: list[int] | None) -> int:
    from django.conf import settings

    data_dir = Path(tempfile.mkdtemp(prefix="spyglass-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("SPYGLASS_")}
    env.update(
        {
            "SPYGLASS_DATA_DIR": str(data_dir),
            # This installation's collected static files (collected there when they changed), not a copy per run.
            "SPYGLASS_STATIC_ROOT": str(settings.STATIC_ROOT),
            "SPYGLASS_API_RATE_LIMIT": "100000000",
            "SPYGLASS_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "SPYGLASS_ALLOWED_HOSTS": "testserver,127.0.0.1",
            # Rows that create many snapshots are not about the limit; row 8 runs its own servers with the default.
            "SPYGLASS_SNAPSHOT_RATE": "999999/1m",
            "SPYGLASS_FAILED_LOGIN_LIMIT": "1000000",
        }
    )
    temp_db = None
    if database_url:
        env["DATABASE_URL"], temp_db = _temp_database(database_url)
        err.print(f"temp database {temp_db} (dropped afterwards)")
    out = data_dir / "results.json"
    args = [sys.executable, "-m", "spyglass.bench.child", "--out", str(out)]
    args += ["--quick"] if quick else []
    args += [arg for n in (only or []) for arg in ("--only", str(n))]
    try:
        code = subprocess.run(args, env=env).returncode
        if code != 0 or not out.exists():
            err.print(f"[red]benchmark failed[/red] (exit {code})")
            return 1
        report = json.loads(out.read_text())
    finally:
        if temp_db:
            _drop_database(database_url, temp_db)
    report["machine"] = machine()
    report["database"] = "postgresql" if database_url else "sqlite"
    report["quick"] = quick
    _print(report)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n")
        err.print(f"figures written to {json_path}")
    return 0


def _print(report: dict):
    table = Table(title=f"spyglass bench — {report['database']}{' (quick)' if report['quick'] else ''}")
    for column in ("#", "what", "value", "target", "met", "detail"):
        table.add_column(column, overflow="fold")
    for r in report["results"]:
        met = "[green]yes[/green]" if r["met"] else "[red]NO[/red]"
        table.add_row(str(r["id"]), r["what"], f"{r['value']:.3g}", r["target"], met, r.get("detail", ""))
    Console().print(table)
