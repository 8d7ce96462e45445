"""The on-disk spool: results not yet acknowledged by the server, kept across outages and restarts.

A SQLite file in the spool directory. Each result has a key (kind, test, round[, DNS server or trace index]); storing a key again
replaces the earlier row, so the spool never holds two versions of one measurement. It is bounded: past `max_rows`
the oldest rows are dropped and counted (the count is kept on disk and reported in every heartbeat)."""

import json
import sqlite3
import threading
from pathlib import Path

DEFAULT_MAX_ROWS = 100_000


def key_of(row: dict) -> str:
    kind = row["kind"]
    extra = row.get("server", "") if kind == "dns" else row.get("traceIndex", "") if kind == "path" else ""
    return f"{kind}:{row['testId']}:{row['roundId']}:{extra}"


class Spool:
    def __init__(self, directory: str | Path, max_rows: int = DEFAULT_MAX_ROWS):
        self.path = Path(directory)
        self.path.mkdir(parents=True, exist_ok=True)
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path / "spool.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS rows (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, body TEXT)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER)")
        self._db.execute("CREATE TABLE IF NOT EXISTS rounds (test_id INTEGER PRIMARY KEY, round_id INTEGER)")

    def done_rounds(self) -> dict[int, int]:
        """The last round measured per test, across restarts."""
        with self._lock:
            return dict(self._db.execute("SELECT test_id, round_id FROM rounds").fetchall())

    def _bump(self, name: str, by: int):
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?",
            (name, by, by),
        )

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return row[0] if row else 0

    def add(self, rows: list[dict], test_id: int | None = None, round_id: int | None = None) -> None:
        """Keep the rows; with test_id and round_id, also remember that this round of the test is done (a restarted
        agent must not measure a round twice)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if test_id is not None:
                    self._db.execute(
                        "INSERT INTO rounds (test_id, round_id) VALUES (?, ?) "
                        "ON CONFLICT(test_id) DO UPDATE SET round_id = MAX(round_id, excluded.round_id)",
                        (test_id, round_id),
                    )
                self._db.executemany(
                    "INSERT OR REPLACE INTO rows (key, body) VALUES (?, ?)",
                    [(key_of(r), json.dumps(r, separators=(",", ":"))) for r in rows],
                )
                excess = self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0] - self.max_rows
                if excess > 0:
                    self._db.execute(
                        "DELETE FROM rows WHERE seq IN (SELECT seq FROM rows ORDER BY seq LIMIT ?)", (excess,)
                    )
                    self._bump("dropped", excess)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def batch(self, limit: int = 500) -> list[tuple[int, dict]]:
        """The oldest unacknowledged rows: [(seq, row)]."""
        with self._lock:
            found = self._db.execute("SELECT seq, body FROM rows ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(seq, json.loads(body)) for seq, body in found]

    def ack(self, seqs: list[int]) -> None:
        """Forget rows the server has stored. By seq: a row replaced while in flight stays, to be sent again."""
        with self._lock:
            self._db.executemany("DELETE FROM rows WHERE seq = ?", [(s,) for s in seqs])

    def reject(self, seqs: list[int]) -> None:
        """Forget rows the server refused as invalid (re-sending them could never succeed)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM rows WHERE seq = ?", [(s,) for s in seqs])
            self._bump("rejected", len(seqs))
            self._db.execute("COMMIT")

    def depth(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._counter("dropped")

    @property
    def rejected(self) -> int:
        with self._lock:
            return self._counter("rejected")

    def close(self) -> None:
        with self._lock:
            self._db.close()
