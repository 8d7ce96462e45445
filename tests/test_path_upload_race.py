"""Two uploads of different traces of one agent's round at once, as real concurrent transactions: the round is one
packed row (path_store.py), read, merged and written back, and neither upload's traces may be lost. Each writer is
held between its read and its write until the other has read too, or waits for it (tests/path_race.py), so the
uploads overlap wherever the code lets them."""

import json
import subprocess
import sys

import pytest
from django.conf import settings

from spyglass.monitoring import path_format
from spyglass.monitoring.models import NetResult, PathRound
from tests.appservers import migrated_sqlite
from tests.path_race import race
from tests.test_agent_api import acme_token, agent_client, current_round, net_row, registered  # noqa: F401  (fixtures)
from tests.test_path_traces import assigned, path_row, post  # noqa: F401  (fixtures)

on_postgresql = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not on_postgresql, reason="concurrent writing transactions need the PostgreSQL run (test.sh)")
@pytest.mark.parametrize("with_net_row", [False, True])
def test_two_uploads_of_different_traces_of_one_round_at_once_both_land(
    assigned,  # noqa: F811
    acme_token,  # noqa: F811
    monkeypatch,
    with_net_row,
):
    client, agent_id, test = assigned
    r = current_round()
    # The path is stored already (an earlier round): uploading it again only reads the Path table, so the uploads
    # meet nowhere but at the round's row.
    assert post(client, agent_id, [path_row(test, r - 60, 0)]).status_code == 200

    def upload(me: int):
        # The first upload may carry the round's net row too, before its trace (as the agent sends them).
        rows = [net_row(test, r)] if with_net_row and me == 0 else []
        return post(agent_client(acme_token), agent_id, [*rows, path_row(test, r, me)])

    answers = race(upload, monkeypatch)
    assert [getattr(a, "status_code", a) for a in answers] == [200, 200], answers
    (stored,) = PathRound.objects.filter(test=test, round_id=r)
    _, traces = path_format.decode(r, stored.traces)
    assert sorted(t.index for t in traces) == [0, 1]
    assert NetResult.objects.filter(test=test, round_id=r).count() == (1 if with_net_row else 0)


@pytest.mark.skipif(on_postgresql, reason="the SQLite pass's case: SQLite as deployed, a database file")
def test_on_a_sqlite_file_the_second_writer_waits_its_turn_and_both_traces_land(tmp_path):
    # A process of its own: the test run's SQLite database is in memory, where writers do not wait for each other.
    migrated_sqlite(tmp_path)  # its migrate then finds nothing to do
    child = subprocess.run(
        [sys.executable, "-m", "tests.path_race", str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert child.returncode == 0, child.stderr[-3000:]
    outcome = json.loads(child.stdout.strip().splitlines()[-1])
    assert outcome == {"answers": ["1", "1"], "traces": [0, 1]}, outcome
