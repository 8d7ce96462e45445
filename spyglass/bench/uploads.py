"""The rows that upload results through the agent API: ingestion (row 5), and the agent uploading beside row 6's
cold exports."""

import statistics
import time

import httpx
import orjson

from .rows import row


def uploading_agent(data):
    """A context: an agent of the big test uploading into the last hour of its window over real HTTP, one POST
    after another, until the context ends; yields a list the POSTs' status codes are added to. Its agent and its
    rows are deleted afterwards, so that later rows see the test as seeded."""
    import threading
    from contextlib import contextmanager

    from spyglass.monitoring.agent_service import issue_agent_token
    from spyglass.monitoring.models import Agent

    from .servers import app_processes

    @contextmanager
    def uploading():
        test = data.big_test
        org_id = test.account_group.organization_id
        agent = Agent.objects.create(organization_id=org_id, name="bench uploader", agent_type=Agent.ENTERPRISE)
        test.agents.add(agent)
        token = issue_agent_token(org_id, "bench uploader")
        (batch,) = _agent_batches([agent.id], test.id, 60, data.anchor)[agent.id]
        body = orjson.dumps({"results": batch})
        codes, stop = [], threading.Event()
        try:
            with (
                app_processes(1) as (url,),
                httpx.Client(
                    base_url=url,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    timeout=120,
                ) as http,
            ):
                first = http.post(f"/agent/v1/agents/{agent.id}/results", content=body)  # its rows arrive once
                codes.append(first.status_code)

                def upload():
                    while not stop.is_set():
                        codes.append(http.post(f"/agent/v1/agents/{agent.id}/results", content=body).status_code)

                thread = threading.Thread(target=upload)
                thread.start()
                try:
                    yield codes
                finally:
                    stop.set()
                    thread.join()
        finally:
            agent.delete()  # its results and its place in the test go with it

    return uploading()


def _agent_batches(agent_ids: list[int], test_id: int, rounds: int, last_round: int) -> dict[int, list[list[dict]]]:
    """What each agent's spool uploads: net rows in v6 names, BATCH_ROWS to a POST, oldest round first."""
    import random

    from spyglass.agent.runtime import BATCH_ROWS

    rng = random.Random(5)
    out = {}
    for agent_id in agent_ids:
        rows = []
        for r in range(last_round - (rounds - 1) * 60, last_round + 1, 60):
            latency = rng.uniform(5, 120)
            rows.append(
                {
                    "kind": "net",
                    "testId": test_id,
                    "roundId": r,
                    "date": r + rng.uniform(0, 30),
                    "server": "bench.example.com:443",
                    "serverIp": "192.0.2.10",
                    "loss": rng.choice((0.0, 0.0, 0.0, 20.0)),
                    "minLatency": round(latency * 0.97, 3),
                    "avgLatency": round(latency, 3),
                    "maxLatency": round(latency * 1.08, 3),
                    "jitter": round(rng.uniform(0, 4), 3),
                    "errorType": "None",
                    "errorDetails": "",
                }
            )
        out[agent_id] = [rows[i : i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]
    return out


def _insert_tuples(batches: dict[int, list[list[dict]]]) -> tuple[str, list[list[tuple]]]:
    """The same rows as column tuples for a bare INSERT, converted for the driver beforehand (not timed)."""
    from datetime import UTC, datetime

    from django.db import connection
    from django.utils import timezone

    from spyglass.monitoring.models import NetResult

    date_field = NetResult._meta.get_field("date")
    table = NetResult._meta.db_table
    columns = "test_id, agent_id, round_id, date, server, server_ip, loss, min_latency, avg_latency, max_latency, "
    columns += "jitter, error_type, error_details, recorded_at"
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 14)})"
    recorded = date_field.get_db_prep_save(timezone.now(), connection)
    out = []
    for agent_id, agent_batches in batches.items():
        for batch in agent_batches:
            out.append(
                [
                    (
                        r["testId"],
                        agent_id,
                        r["roundId"],
                        date_field.get_db_prep_save(datetime.fromtimestamp(r["date"], tz=UTC), connection),
                        r["server"],
                        r["serverIp"],
                        r["loss"],
                        r["minLatency"],
                        r["avgLatency"],
                        r["maxLatency"],
                        r["jitter"],
                        r["errorType"],
                        r["errorDetails"],
                        recorded,
                    )
                    for r in batch
                ]
            )
    return sql, out


def _bulk_loader(table: str, insert_sql: str):
    """The fastest bulk load the database has, as a function loading one batch of driver-ready tuples: psycopg's
    COPY … FROM STDIN on PostgreSQL, executemany of a bare INSERT on SQLite (which has no bulk-load path)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return "executemany", lambda cursor, batch: cursor.executemany(insert_sql, batch)
    columns = insert_sql[insert_sql.index("(") + 1 : insert_sql.index(")")]
    copy_sql = f"COPY {table} ({columns}) FROM STDIN"

    def copy(cursor, batch):
        with cursor.cursor.copy(copy_sql) as stream:  # the psycopg cursor under Django's wrapper
            for values in batch:
                stream.write_row(values)

    return "COPY", copy


@row(
    5,
    "result ingestion through the agent API: rows/s ÷ the database's fastest bulk load of the same rows into the "
    "same table (COPY on PostgreSQL, executemany on SQLite)",
    ">= 0.5",
    missed="a POST's HTTP, its typed decoding, the upsert's conflict check and the commit around the insert; it "
    "moves with the machine's load (docs/benchmarks.md)",
)
def agent_ingestion(data):
    """Agents upload their spool over real HTTP to an app process (batches of BATCH_ROWS, one POST after another,
    keep-alive, as the agent runtime does); the baseline loads the same rows in the same batches, one transaction
    each, by the database's fastest path. Rows are deleted (untimed) before every run."""
    from django.db import connection, transaction

    from spyglass.lib.rounds import round_of
    from spyglass.monitoring.agent_service import issue_agent_token
    from spyglass.monitoring.models import Agent, NetResult
    from spyglass.monitoring.tests_service import create_test

    from .servers import app_processes

    test = create_test(
        data.access,
        "agent-to-server",
        {"testName": "ingest", "interval": 60, "server": "bench.example.com", "port": 443},
    )
    org_id = test.account_group.organization_id
    agents = [
        Agent.objects.create(organization_id=org_id, name=f"ingest {i}", agent_type=Agent.ENTERPRISE)
        for i in range(2 if data.quick else 10)
    ]
    test.agents.add(*agents)
    token = issue_agent_token(org_id, "bench ingestion")
    rounds = 1000 if data.quick else 2000
    batches = _agent_batches([a.id for a in agents], test.id, rounds, round_of(time.time(), 60) - 60)
    bodies = [(agent_id, orjson.dumps({"results": b})) for agent_id, bs in batches.items() for b in bs]
    sql, tuples = _insert_tuples(batches)
    total = sum(len(b) for b in tuples)
    table = NetResult._meta.db_table
    baseline_name, load_batch = _bulk_loader(table, sql)

    def clear():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE test_id = %s", [test.id])

    accepted, loaded = [], []
    with (
        app_processes(1) as (url,),
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, timeout=120
        ) as client,
    ):

        def through_api():
            clear()
            start = time.perf_counter()
            count = 0
            for agent_id, body in bodies:
                response = client.post(f"/agent/v1/agents/{agent_id}/results", content=body)
                assert response.status_code == 200, (response.status_code, response.text[:300])
                count += response.json()["accepted"]
            elapsed = time.perf_counter() - start
            accepted.append(count == total == NetResult.objects.filter(test=test).count())
            return elapsed

        def bulk_load():
            clear()
            start = time.perf_counter()
            for batch in tuples:
                with transaction.atomic(), connection.cursor() as cursor:
                    load_batch(cursor, batch)
            elapsed = time.perf_counter() - start
            loaded.append(NetResult.objects.filter(test=test).count() == total)
            return elapsed

        through_api(), bulk_load()  # warm the app's workers, connections and caches
        api_times, insert_times = [], []
        for _ in range(3 if data.quick else 5):
            api_times.append(through_api())
            insert_times.append(bulk_load())
    clear()
    api, bare = statistics.median(api_times), statistics.median(insert_times)
    detail = (
        f"{total:,} rows in {len(bodies)} POSTs of {len(tuples[0])}; API {total / api:,.0f} rows/s, "
        f"{baseline_name} {total / bare:,.0f} rows/s"
    )
    if not all(accepted):
        return 0.0, detail + "; NOT every row was accepted and stored"
    if not all(loaded):
        return 0.0, detail + f"; NOT every row was stored by {baseline_name}"
    return bare / api, detail
