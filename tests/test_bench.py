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
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(out.read_text()), done.stdout, done.stderr, ("postgresql" if db_args else "sqlite")


@pytest.mark.slow
def test_quick_runs_every_row_and_writes_its_figures_as_json(tmp_path):
    report, table, _, database = _bench(tmp_path)

    assert set(report["machine"]) >= {"cpus", "platform", "python", "processor"}
    assert isinstance(report["machine"]["cpus"], int)
    assert report["database"] == database and report["quick"] is True
    assert [r["id"] for r in report["results"]] == list(range(1, 15))
    for result in report["results"]:
        assert set(result) >= {"id", "what", "value", "target", "met", "detail"}
        assert isinstance(result["what"], str) and result["what"]
        assert isinstance(result["value"], int | float)
        op, number = result["target"].split()
        assert op in ("<=", ">=") and float(number) > 0
        assert result["met"] == (result["value"] <= float(number) if op == "<=" else result["value"] >= float(number))
    # The same figures are printed as a table.
    assert "spyglass bench" in table and "share page weight" in table

    # What the rows hold besides time, which is never asserted: the page's weight is a size; every visit under
    # load is counted (else row 4 reads 0); every uploaded row is accepted and stored (else row 5 reads 0); exactly
    # the limit's snapshots are created under contention (row 8 reads 1).
    rows = {r["id"]: r for r in report["results"]}
    assert rows[3]["met"], rows[3]["detail"]
    assert rows[4]["value"] > 0, rows[4]["detail"]
    sent = re.search(r"(\d+) visits recorded for (\d+) requests", rows[4]["detail"]).groups()
    assert sent[0] == sent[1]
    assert rows[5]["value"] > 0, rows[5]["detail"]
    assert rows[8]["value"] == 1, rows[8]["detail"]

    # The rows measure what they name: row 5's baseline is the database's fastest bulk load; row 6 times cold
    # exports (no export chunk stored when the timer starts) and exports while an agent's uploads are accepted;
    # row 7 runs on an organization holding only its own test; row 10 lists 50 tests and every request under load
    # answered 200.
    baseline = "COPY" if database == "postgresql" else "executemany"
    assert f"{baseline} " in rows[5]["detail"] and rows[5]["value"] > 0, rows[5]["detail"]

    assert "; 0 export chunks stored when a cold export started;" in rows[6]["detail"], rows[6]["detail"]
    accepted, posted = re.search(r"\((\d+) of (\d+) POSTs answered 200\)", rows[6]["detail"]).groups()
    assert accepted == posted and int(posted) > 0, rows[6]["detail"]

    assert "tests listed 1; its organization holds: tests 1, snapshot copies 0, results 0" in rows[7]["detail"]

    # Row 12 is a size the database counts: the steady path's, and what changing paths cost, in the detail.
    assert 0 < rows[12]["value"] < 1000, rows[12]["detail"]
    every_hour, every_round = map(
        int, re.search(r"changes every hour (\d+) B, every round (\d+) B", rows[12]["detail"]).groups()
    )
    assert rows[12]["value"] <= every_hour < every_round, rows[12]["detail"]

    assert rows[10]["value"] > 0, rows[10]["detail"]
    # Row 14 reads 0 unless every round and every data point reached the receiver.
    assert rows[14]["value"] > 0 and "rounds/s pushed" in rows[14]["detail"], rows[14]["detail"]
    answered, sent = re.search(r"(\d+) of (\d+) requests answered 200", rows[10]["detail"]).groups()
    assert answered == sent and "tests listed 50" in rows[10]["detail"], rows[10]["detail"]

    # Rows 9 and 11 time pages over the hour rollups the worker's pass computed (it found every seeded hour to
    # compute); row 9's first views start with no valid rollup document of the snapshot stored; row 11's pages
    # answered 200, else it reads infinity.
    assert "a valid rollup document of the snapshot when a first view started: 0 times" in rows[9]["detail"]
    computed = re.search(r"hour rollups computed by the worker's pass before: (\d+)", rows[9]["detail"]).group(1)
    assert int(computed) > 0, rows[9]["detail"]
    assert "answers [200, 200]" in rows[11]["detail"] and rows[11]["value"] > 0, rows[11]["detail"]
    computed = re.search(r"hour rollups computed by the worker's pass before: (\d+)", rows[11]["detail"]).group(1)
    assert int(computed) >= 2 * 24, rows[11]["detail"]  # the two tests' 24 hours at least (25 with the partial one)


@pytest.mark.slow
def test_it_leaves_no_database_behind_on_postgresql(tmp_path):
    """The temp database the bench creates on the server is dropped afterwards."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        pytest.skip("the PostgreSQL run of scripts/test.sh checks this")
    import psycopg

    report, _, log, _ = _bench(tmp_path, "--only", "3")
    assert [r["id"] for r in report["results"]] == [3]  # only the rows asked for
    name = re.search(r"temp database (spyglass_bench_[0-9a-f]+)", log).group(1)
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone() == (0,)
