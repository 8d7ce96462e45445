"""`spyglass bench` runs on a throw-away database and writes its figures as JSON in the shape runs are compared by.

Only the shape is checked: the figures are measurements of this machine, never asserted."""

import json
import os
import re
import subprocess
import sys

import pytest


def _bench(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SPYGLASS_DATA_DIR"] = str(tmp_path / "data")
    out = tmp_path / "bench.json"
    database_url = os.environ.get("DATABASE_URL", "")
    db_args = ["--database-url", database_url] if database_url.startswith("postgres") else []
    done = subprocess.run(
        [sys.executable, "-m", "spyglass.cli.main", "bench", "--quick", *args, "--json", str(out), *db_args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(out.read_text()), done.stdout, done.stderr, ("postgresql" if db_args else "sqlite")


def test_it_writes_the_figures_of_the_rows_asked_for_as_json(tmp_path):
    report, table, _, database = _bench(tmp_path, "--only", "3", "--only", "1")

    assert set(report["machine"]) >= {"cpus", "platform", "python", "processor"}
    assert isinstance(report["machine"]["cpus"], int)
    assert report["database"] == database
    assert [r["id"] for r in report["results"]] == [1, 3]
    for result in report["results"]:
        assert set(result) >= {"id", "what", "value", "target", "met"}
        assert isinstance(result["what"], str) and result["what"]
        assert isinstance(result["value"], int | float)
        op, number = result["target"].split()
        assert op in ("<=", ">=") and float(number) > 0
        assert result["met"] == (result["value"] <= float(number) if op == "<=" else result["value"] >= float(number))
    # The same figures are printed as a table.
    assert "spyglass bench" in table and "share page weight" in table


def test_it_leaves_no_database_behind_on_postgresql(tmp_path):
    """The temp database the bench creates on the server is dropped afterwards."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        pytest.skip("the PostgreSQL run of scripts/test.sh checks this")
    import psycopg

    _, _, log, _ = _bench(tmp_path, "--only", "3")
    name = re.search(r"temp database (spyglass_bench_[0-9a-f]+)", log).group(1)
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone() == (0,)
