"""Two writers of one agent's round at once, held where the race would be (tests/test_path_upload_race.py).

Run as a program (`python -m tests.path_race DATA_DIR`), it plays the race on SQLite as deployed: a database file
(the test run's SQLite database is in memory with a shared cache, where a second writer fails at once instead of
waiting its turn), migrated there, two threads calling agent_service.store_batch as an upload does. It prints what
the round holds afterwards, as JSON."""

import json
import os
import sys
import threading
import time

import pytest
from django.db import connection


class Rendezvous:
    """Holds each upload between reading the stored round and writing it back until the other upload has read it
    too — or cannot, because it waits for the first one (what the fix makes it do). Without that, two uploads
    arriving at once may or may not overlap; with it, they overlap whenever the code lets them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.read = set()  # uploads past their read of the stored round
        self.done = set()
        self.backend = {}  # upload → its PostgreSQL backend's pid

    def start(self, me: int) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                self.backend[me] = cur.fetchone()[0]

    def finish(self, me: int) -> None:
        with self.lock:
            self.done.add(me)

    def _waits(self, other: int, since: float) -> bool:
        """Whether the other upload is held back by a lock the database keeps for this one. PostgreSQL lists the
        lock it waits for; SQLite's busy wait (IMMEDIATE transactions) is not visible from outside, so there a
        second of not reaching the write stands for it."""
        if connection.vendor != "postgresql":
            return time.monotonic() - since > 1.0
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [self.backend[other]])
            return cur.fetchone()[0] > 0

    def before_write(self, me: int, other: int) -> None:
        since = time.monotonic()
        with self.lock:
            self.read.add(me)
        deadline = since + 60
        while time.monotonic() < deadline:
            with self.lock:
                if other in self.read or other in self.done:
                    return
            if self._waits(other, since):
                return
            time.sleep(0.01)
        raise AssertionError("the other upload neither read the round nor waited")


def race(write_trace, monkeypatch) -> list:
    """Two threads, each writing its trace index (0 and 1) with `write_trace(index)`, meeting between reading the
    stored round and writing it (results.upsert_columns, wrapped through `monkeypatch`, path_store's last step).
    Returns each one's answer, or the exception it raised."""
    from spyglass.monitoring import results

    rendezvous = Rendezvous()
    who = threading.local()
    write = results.upsert_columns

    def upsert_columns(kind, columns, constants=None):
        if kind == "path":
            rendezvous.before_write(who.me, 1 - who.me)
        return write(kind, columns, constants)

    monkeypatch.setattr(results, "upsert_columns", upsert_columns)
    answers: list = [None, None]
    start = threading.Barrier(2)

    def run(me: int) -> None:
        who.me = me
        try:
            rendezvous.start(me)
            start.wait(timeout=30)
            answers[me] = write_trace(me)
        except Exception as exc:  # reported by the caller's assertion
            answers[me] = exc
        finally:
            rendezvous.finish(me)
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _sqlite_file_race(data_dir: str) -> dict:
    os.environ.pop("DATABASE_URL", None)
    os.environ["SPYGLASS_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "spyglass.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from spyglass.accounts.models import AccountGroup, Organization
    from spyglass.monitoring import agent_service, path_format
    from spyglass.monitoring.models import Agent, PathRound, Test
    from tests.path_helpers import trace_row

    call_command("migrate", verbosity=0)
    organization = Organization.objects.create(name="race")
    group = AccountGroup.objects.create(organization=organization, name="race")
    kind = Test.AGENT_TO_SERVER
    test = Test.objects.create(account_group=group, type=kind, name="race", interval=60, server="example.com:443")
    agent = Agent.objects.create(organization=organization, name="lab-1")
    r = int(time.time()) // 60 * 60

    def write_trace(index: int, round_id: int = r) -> int:
        row = trace_row(test, agent, round_id, index)
        columns = {name: [value] for name, value in row.items() if name != "agent_id"}
        return agent_service.store_batch(agent.id, {"path": columns})

    write_trace(0, r - 60)  # the path is stored already: the writers meet only at the round's row
    answers = race(write_trace, pytest.MonkeyPatch())
    _, traces = path_format.decode(r, PathRound.objects.get(test=test, round_id=r).traces)
    return {"answers": [repr(a) for a in answers], "traces": sorted(t.index for t in traces)}


if __name__ == "__main__":
    print(json.dumps(_sqlite_file_race(sys.argv[1])))
