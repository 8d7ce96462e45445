"""The benchmark's rows. Each measures a ratio within the same run, against a baseline on the same data."""

import base64
import gc
import posixpath
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson

ROWS: list["Row"] = []


@dataclass
class Row:
    id: int
    what: str
    target: str
    measure: Callable
    missed: str = ""  # why the target is missed on our reference machine (docs/benchmarks.md), shown when it is

    def met(self, value: float) -> bool:
        op, number = self.target.split()
        return value <= float(number) if op == "<=" else value >= float(number)


def row(id: int, what: str, target: str, missed: str = ""):
    def register(fn):
        ROWS.append(Row(id, what, target, fn, missed))
        ROWS.sort(key=lambda r: r.id)
        return fn

    return register


def interleaved_medians(a, b, repeat: int = 7) -> tuple[float, float]:
    """Median seconds of a and of b, run alternately so drift on a shared machine hits both alike."""
    a(), b()
    times_a, times_b = [], []
    for _ in range(repeat):
        for fn, times in ((a, times_a), (b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def interleaved_prepared(a, b, repeat: int = 7) -> tuple[float, float]:
    """interleaved_medians of two (prepare, run) pairs: each run timed alone, after its prepare and a garbage
    collection (untimed); the first run of each is a warm-up."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(repeat + 1):
        for (prepare, run), taken in zip((a, b), times, strict=True):
            prepare()
            gc.collect()  # what the previous run left is not collected during this one
            start = time.perf_counter()
            run()
            if i:  # the first of each warms up
                taken.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def api_client(data, authenticated: bool = True):
    from rest_framework.test import APIClient

    client = APIClient()
    if authenticated:
        creds = base64.b64encode(f"{data.user.email}:{data.token}".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {creds}")
    return client


def export_all(client, path: str) -> list[dict]:
    """Follow pages.next to the end; returns every row."""
    from django.conf import settings

    rows, url = [], path
    while url:
        body = orjson.loads(client.get(url).content)
        rows.extend(body["net"]["metrics"])
        nxt = body["pages"].get("next")
        url = nxt.replace(settings.BASE_URL, "") if nxt else None
    return rows


def fetch_all(client, path: str) -> int:
    """Fetch every page as a client saving the export would, following pages.next; returns the bytes received.

    Only the envelope's tail is decoded: "pages" is the top-level key after the rows (and a bare `"pages":` cannot
    occur inside a JSON string), so `{` + the tail from its last occurrence is the object holding pages.next."""
    from django.conf import settings

    received, url = 0, path
    while url:
        content = client.get(url).content
        received += len(content)
        tail = orjson.loads(b"{" + content[content.rindex(b'"pages":') :])
        nxt = tail["pages"].get("next")
        url = nxt.replace(settings.BASE_URL, "") if nxt else None
    return received


def _cold_exports(data, client, path: str, exported: list[dict], repeat: int) -> tuple[float, float, int]:
    """(median seconds of a cold export, median seconds of orjson.dumps of its rows, the most export chunks stored
    when a cold export's timer started). Before each cold export (untimed) the test's chunks are dropped, which
    is what a write of its hours leaves for the next reader: the export builds every page from the rows."""
    from spyglass.monitoring.models import ExportChunk

    chunks = ExportChunk.objects.filter(test=data.big_test)
    colds, dumps, stored = [], [], 0
    for _ in range(repeat):  # alternately, so that drift on a shared machine hits both alike
        chunks.delete()
        stored = max(stored, chunks.count())
        start = time.perf_counter()
        fetch_all(client, path)
        colds.append(time.perf_counter() - start)
        start = time.perf_counter()
        orjson.dumps(exported)
        dumps.append(time.perf_counter() - start)
    return statistics.median(colds), statistics.median(dumps), stored


@row(
    6,
    "data API export, 48 h as JSON, cold (the first export after its rows arrived: no export chunks stored): "
    "rows/s ÷ orjson.dumps of the same rows; the same while an agent uploads into the test in the detail",
    ">= 0.5",
    missed="a cold export reads every row from the database and writes the export chunks a repeat export reads "
    "(docs/benchmarks.md)",
)
def data_export(data):
    """A cold export: the 48 h window's pages fetched as a client saving the export would (every byte, following
    pages.next, without decoding the rows, which the baseline — serialization only — does not do either), with no
    export chunk of the test stored when the timer starts. The detail adds the same while an agent of the test
    uploads into the window's last hour over HTTP, and repeat (warm) exports, which read the chunks."""
    from spyglass.monitoring.models import ExportChunk

    client = api_client(data)
    path = f"/v6/net/metrics/{data.big_test.id}.json?window={data.hours}h"
    repeat = 5 if data.quick else 7
    ExportChunk.objects.filter(test=data.big_test).delete()
    exported = export_all(client, path)  # untimed: the rows the baseline serializes, and their count
    n = len(exported)
    cold, dumps, stored = _cold_exports(data, client, path, exported, repeat)
    size = fetch_all(client, path)
    warm, warm_dumps = interleaved_medians(lambda: fetch_all(client, path), lambda: orjson.dumps(exported))
    from .uploads import uploading_agent

    with uploading_agent(data) as codes:
        during = export_all(client, path)  # untimed: the rows with the uploader's, which the baseline serializes
        busy, busy_dumps, busy_stored = _cold_exports(data, client, path, during, repeat)
    uploads = f"{codes.count(200)} of {len(codes)} POSTs answered 200"
    detail = (
        f"{n} rows, {size / 1e6:.1f} MB; cold export {n / cold:,.0f} rows/s, orjson {n / dumps:,.0f} rows/s; "
        f"{max(stored, busy_stored)} export chunks stored when a cold export started; "
        f"while an agent uploads ({uploads}): {len(during)} rows, cold export {len(during) / busy:,.0f} rows/s, "
        f"orjson {len(during) / busy_dumps:,.0f} rows/s, ratio {(len(during) / busy) / (len(during) / busy_dumps):.3g}; "
        f"repeat exports from the chunks {n / warm:,.0f} rows/s, ratio {(n / warm) / (n / warm_dumps):.3g}"
    )
    return (n / cold) / (n / dumps), detail


def _organization_holdings(tenant) -> str:
    """What the tenant's organization holds, as the detail says it: its tests, the snapshot copies among them and
    their results (row 7 is measured on an organization holding only its own test)."""
    from spyglass.monitoring.models import NetResult, Test

    org_id = tenant.access.account_group.organization_id
    tests = Test.objects.filter(account_group__organization_id=org_id)
    results = NetResult.objects.filter(test__in=tests).count()
    return f"tests {tests.count()}, snapshot copies {tests.filter(saved_event=True).count()}, results {results}"


@row(
    7,
    "API auth overhead: GET /v6/tests req/s with Basic email:token ÷ req/s unauthenticated (test-only switch), "
    "on an organization of its own holding one test",
    ">= 0.8",
)
def auth_overhead(data):
    """On an organization no other row writes to (one test, no results, no snapshot copies), so that what
    earlier rows created cannot move it."""
    from .data import own_organization

    tenant = own_organization("auth", tests=1)
    basic = api_client(tenant)
    switched = api_client(tenant, authenticated=False)
    switched.force_authenticate(user=tenant.user)  # the test-only switch: DRF skips the authenticators
    n = 200
    answered = len(orjson.loads(basic.get("/v6/tests.json").content)["test"])

    def burst(client):
        for _ in range(n):
            client.get("/v6/tests.json")

    with_auth, without = interleaved_medians(lambda: burst(basic), lambda: burst(switched), repeat=5)
    return without / with_auth, (
        f"{n / with_auth:,.0f} req/s with Basic, {n / without:,.0f} req/s without; tests listed {answered}; "
        f"its organization holds: {_organization_holdings(tenant)}"
    )


@row(
    10,
    "test list throughput: GET /v6/tests (50 tests, Basic email:token) req/s ÷ a minimal Django view's req/s",
    ">= 0.5",
    missed="met at the edge: a stored list still costs the token and access statement, the rate counter and its "
    "lookup besides the HTTP server's own cost, and the ratio moves with the machine's load (docs/benchmarks.md)",
)
def test_list_throughput(data):
    """The same app process and load generator as row 4, alternating with the same minimal view, on an
    organization of its own holding 50 tests; 0 unless every request answered 200 with the 50 tests."""
    from .data import own_organization
    from .servers import app_processes, load

    tenant = own_organization("list", tests=50)
    authorization = "Basic " + base64.b64encode(f"{tenant.user.email}:{tenant.token}".encode()).decode()
    requests, rounds = (300, 3) if data.quick else (1000, 3)
    baseline, listed = [], []
    with app_processes(1) as (url,):
        answer = httpx.get(url + "/v6/tests.json", headers={"Authorization": authorization}, timeout=60)
        tests = len(answer.json()["test"]) if answer.status_code == 200 else 0
        for _ in range(rounds):  # alternately, so that drift on a shared machine hits both alike
            baseline.append(load(url + "/__bench__/minimal", requests, 16))
            listed.append(load(url + "/v6/tests.json", requests, 16, authorization))
    lists = statistics.median(run["per_second"] for run in listed)
    minimal = statistics.median(run["per_second"] for run in baseline)
    sent, answered = requests * rounds, sum(run["ok"] for run in listed)
    first, stored = _list_first_and_stored(tenant)
    detail = (
        f"{lists:.0f} req/s vs {minimal:.0f} req/s (medians of {rounds} alternate runs of {requests}); "
        f"{answered} of {sent} requests answered 200; tests listed {tests}; in-process, a list built and stored "
        f"(nothing stored for the group) {first * 1000:.1f} ms, a stored one {stored * 1000:.1f} ms"
    )
    return (lists / minimal if answered == sent and tests == 50 else 0.0), detail


def _list_first_and_stored(tenant) -> tuple[float, float]:
    """Median seconds of a list request in-process with nothing stored for the group (what the first request after
    a change costs: the list built, rendered and stored) and of a request the stored list answers."""
    from spyglass.api.models import StoredTestList

    client = api_client(tenant)
    group = tenant.access.account_group.id

    def forget():
        StoredTestList.objects.filter(account_group_id=group).delete()

    def get():
        assert client.get("/v6/tests.json").status_code == 200

    return interleaved_prepared((forget, get), (lambda: None, get), repeat=15)


@row(1, "snapshot creation cost: create a 48 h snapshot ÷ create a 1 h snapshot", "<= 1.3")
def snapshot_creation_cost(data):
    long, short = interleaved_medians(
        lambda: data.snapshot(data.big_test, hours=data.hours), lambda: data.snapshot(data.big_test, hours=1), repeat=9
    )
    return long / short, f"{data.hours} h: {long * 1000:.1f} ms, 1 h: {short * 1000:.1f} ms"


def _share_page(data, test):
    """The share page of a snapshot of `test`: (a function fetching it, the first response, the queries it ran)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    snapshot = data.snapshot(test)
    client = api_client(data, authenticated=False)
    url = f"/s/{snapshot.link_id}/"
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200, page.status_code
    return (lambda: client.get(url)), page, [q["sql"] for q in queries.captured_queries]


def _aggregate_query(sqls: list[str]):
    """The page's aggregate over the results (the largest GROUP BY on a results table), as a function running it
    alone; None when the page ran none."""
    from django.db import connection

    grouped = [sql for sql in sqls if "GROUP BY" in sql.upper() and "result" in sql]
    if not grouped:
        return None
    sql = max(grouped, key=len)

    def run_alone():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()

    return run_alone


def _forget_stored(snapshot):
    """Drop what the share page keeps once computed (summary, rollups, renders): the next view is a first view."""
    from spyglass.sharing import stored
    from spyglass.sharing.models import Snapshot

    stored.forget(Snapshot.objects.filter(id=snapshot.id))


def _first_views(data, test, repeat: int) -> tuple[float, float]:
    """(median seconds of a first, uncached view, median seconds of a repeat view) of a share page of `test`."""
    snapshot = data.snapshot(test)
    client = api_client(data, authenticated=False)
    url = f"/s/{snapshot.link_id}/"
    firsts, repeats = [], []
    for _ in range(repeat):
        _forget_stored(snapshot)
        start = time.perf_counter()
        client.get(url)
        firsts.append(time.perf_counter() - start)
        start = time.perf_counter()
        client.get(url)
        repeats.append(time.perf_counter() - start)
    return statistics.median(firsts), statistics.median(repeats)


@row(
    2, "share page render, 48 h window, 50 agents: first view's server time ÷ its aggregate SQL query run alone", "<= 3"
)
def share_page_render(data):
    """A first view: it computes and stores the window's per-round rollups (its aggregate), the summary and the
    render; repeat views read those (their time is in the detail). Stored data is dropped (untimed) before each."""
    _, _, sqls = _share_page(data, data.big_test)
    query = _aggregate_query(sqls)
    if query is None:
        return float("inf"), "the page's first view ran no aggregate query over the results"
    snapshot = data.snapshot(data.big_test)
    client = api_client(data, authenticated=False)
    url = f"/s/{snapshot.link_id}/"
    client.get(url), query()
    pages, queries = [], []
    for _ in range(9):
        _forget_stored(snapshot)
        start = time.perf_counter()
        client.get(url)
        pages.append(time.perf_counter() - start)
        start = time.perf_counter()
        query()
        queries.append(time.perf_counter() - start)
    page_time, query_time = statistics.median(pages), statistics.median(queries)
    _, repeat = _first_views(data, data.big_test, 3)
    detail = (
        f"first view {page_time * 1000:.1f} ms, query {query_time * 1000:.1f} ms; repeat views {repeat * 1000:.1f} ms"
    )
    return page_time / query_time, detail


_LINKED = re.compile(r'<(?:link|script)\b[^>]*?(?:href|src)="(/static/[^"]+)"')
_MODULE_IMPORT = re.compile(r"""(?:\bimport|\bfrom)\s*["'](\./[^"']+)["']""")


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@row(3, "share page weight, 48 h window: HTML + data + its static files, as sent (KB)", "<= 300")
def share_page_weight(data):
    """What a first visit downloads: the page (chart data included) and every stylesheet, script and icon it links,
    with the scripts' ES module imports, each as sent to a browser that accepts brotli and gzip (static files are
    served compressed: spyglass/web/staticfiles.py). The detail gives the static files' uncompressed size too."""
    _, page, _ = _share_page(data, data.big_test)
    html = len(page.content)
    client = api_client(data, authenticated=False)
    todo, seen, sent, unpacked = _LINKED.findall(page.content.decode()), set(), 0, 0
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        compressed, plain = client.get(path, HTTP_ACCEPT_ENCODING="br, gzip"), client.get(path)
        assert compressed.status_code == 200, path
        sent, body = sent + len(_body(compressed)), _body(plain)
        unpacked += len(body)
        if path.endswith(".js"):
            todo += [
                posixpath.normpath(posixpath.join(posixpath.dirname(path), name))
                for name in _MODULE_IMPORT.findall(body.decode(errors="replace"))
            ]
    total = html + sent
    detail = (
        f"{total:,} bytes: HTML and data {html:,}, {len(seen)} static files {sent:,} compressed "
        f"({unpacked:,} uncompressed: {(html + unpacked) / 1024:.1f} KB in all)"
    )
    return total / 1024, detail


def _refreshed(test) -> int:
    """Untimed: the worker's rollup pass over what was written (spyglass.worker.refresh_rollups, every minute in
    production), so a read finds the hours' rollups a live system keeps. Returns the hours it computed."""
    from spyglass.monitoring.rollups import refresh

    total = 0
    while done := refresh(limit=5000, within=30 * 86400):
        total += done
    return total


def _cold_first_view(data, test) -> float:
    """Seconds of one first view of a share page of `test` with none of its test's hour rollups stored either."""
    from spyglass.monitoring.models import RollupHour

    snapshot = data.snapshot(test)
    client = api_client(data, authenticated=False)
    _forget_stored(snapshot)
    RollupHour.objects.filter(test=test).delete()
    start = time.perf_counter()
    client.get(f"/s/{snapshot.link_id}/")
    return time.perf_counter() - start


@row(
    9,
    "cost grows with rounds, not rows: share page first views (nothing stored for the snapshot), 48 h, "
    "50 agents ÷ 5 agents",
    "<= 1.5",
)
def rounds_not_rows(data):
    """First views — the snapshot's stored summary, rollup document and renders dropped (untimed) before each, so
    the page computes them — over the test's hour rollups as the worker keeps them; the detail adds repeat views
    and a first view with no hour rollup of the test stored (what every first view cost before them)."""
    from spyglass.sharing.models import SnapshotRollup
    from spyglass.sharing.stored import stamp

    computed = _refreshed(data.big_test) + _refreshed(data.small_test)
    client = api_client(data, authenticated=False)
    valid = []  # per first view: whether a rollup document of the snapshot was valid when its timer started

    def first(test):
        snapshot = data.snapshot(test)

        def prepare():
            _forget_stored(snapshot)
            snapshot.refresh_from_db()
            valid.append(SnapshotRollup.objects.filter(snapshot=snapshot, stamp=stamp(snapshot)).exists())

        return prepare, lambda: client.get(f"/s/{snapshot.link_id}/")

    big_first, small_first = interleaved_prepared(first(data.big_test), first(data.small_test), repeat=9)
    big, _, _ = _share_page(data, data.big_test)
    small, _, _ = _share_page(data, data.small_test)
    big_time, small_time = interleaved_medians(big, small, repeat=9)
    big_cold, small_cold = _cold_first_view(data, data.big_test), _cold_first_view(data, data.small_test)
    detail = (
        f"first views {data.agents} agents {big_first * 1000:.1f} ms, 5 agents {small_first * 1000:.1f} ms "
        f"(a valid rollup document of the snapshot when a first view started: {sum(valid)} times; hour rollups "
        f"computed by the worker's pass before: {computed}); repeat views {big_time * 1000:.1f} ms and "
        f"{small_time * 1000:.1f} ms; a first view with no hour rollup of the test stored {big_cold * 1000:.1f} ms "
        f"and {small_cold * 1000:.1f} ms"
    )
    return big_first / small_first, detail


@row(
    4,
    "share page throughput, every visit counted: views/s ÷ a minimal Django view's req/s",
    ">= 0.5",
    missed="one statement per view; what is left is spread over the app, PostgreSQL (the visit's INSERT, its tally "
    "and commit) and the load generator on the same 2 cores (docs/benchmarks.md)",
)
def share_page_throughput(data):
    from spyglass.sharing.models import SnapshotVisit

    from .servers import app_processes, load

    snapshot = data.snapshot(data.big_test, hours=1)
    requests, rounds = (300, 3) if data.quick else (2000, 3)
    baseline, shared = [], []
    with app_processes(1) as (url,):
        for _ in range(rounds):  # alternately, so that drift on a shared machine hits both alike
            baseline.append(load(url + "/__bench__/minimal", requests, 16))
            shared.append(load(f"{url}/s/{snapshot.link_id}/", requests, 16))
    views = statistics.median(run["per_second"] for run in shared)
    minimal = statistics.median(run["per_second"] for run in baseline)
    sent, answered = requests * rounds, sum(run["ok"] for run in shared)
    visits = SnapshotVisit.objects.filter(snapshot=snapshot).count()
    detail = (
        f"{views:.0f} views/s vs {minimal:.0f} req/s (medians of {rounds} alternate runs of {requests}); "
        f"{visits} visits recorded for {sent} requests ({answered} answered 200)"
    )
    return (views / minimal if visits == sent else 0.0), detail


@row(8, "snapshot creation under contention: 50 concurrent POST /v6/snapshot, 2 app processes", ">= 1")
def creation_under_contention(data):
    """1 when the successes equal the default limit (5 per 5 minutes) exactly, else 0; p99 latency in the detail."""
    from concurrent.futures import ThreadPoolExecutor

    from spyglass.lib.timefmt import format_v6_date

    from .data import own_organization
    from .servers import app_processes

    # An organization of its own, so its creation limit starts untouched.
    tenant = own_organization("contention", tests=1)
    user, token, (test,) = tenant.user, tenant.token, tenant.tests
    limit = 5
    body = {
        "testId": test.id,
        "displayName": "contended",
        "isPublic": 1,
        "from": format_v6_date(data.anchor - 3600),
        "to": format_v6_date(data.anchor),
    }
    with app_processes(2, {"SPYGLASS_SNAPSHOT_RATE": "5/5m,10/1h"}) as urls:

        def post(i):
            start = time.perf_counter()
            r = httpx.post(urls[i % 2] + "/v6/snapshot.json", json=body, auth=(user.email, token), timeout=60)
            return r.status_code, time.perf_counter() - start

        with ThreadPoolExecutor(50) as pool:
            outcomes = list(pool.map(post, range(50)))
    codes = [code for code, _ in outcomes]
    latencies = sorted(seconds for _, seconds in outcomes)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    exact = codes.count(201) == limit and codes.count(429) == 50 - limit
    other = sorted({code for code in codes if code not in (201, 429)})
    others = f", other answers: {', '.join(f'{codes.count(c)}× {c}' for c in other)}" if other else ""
    detail = f"{codes.count(201)} created, {codes.count(429)} refused (429){others}; p99 {p99:.0f} ms"
    return (1.0 if exact else 0.0), detail


def _live_tests(data):
    """Row 11's two tests, seeded when the row first runs (no other row reads them): 200 and 20 agents over 7 days
    up to now at 60 s (2,016,000 and 201,600 results); 20 and 2 agents over 24 hours with --quick."""
    from spyglass.monitoring.seed import seed
    from spyglass.monitoring.tests_service import create_test

    agents, hours = ((20, 2), 24) if data.quick else ((200, 20), 7 * 24)
    made = []
    for count in agents:
        body = {"testName": f"live {count}", "interval": 60, "server": "bench.example.com", "port": 443}
        test = create_test(data.access, "agent-to-server", body)
        seed(test, agents=count, hours=hours, random_seed=count, now=time.time())
        made.append(test)
    return made, agents, hours


def _latest_round_written(test):
    """Untimed: one agent's result for the test's latest round written again through the upload path, as a live
    test's agents do every minute: the latest hour's rollup is stale for the next view."""
    from spyglass.monitoring import results
    from spyglass.monitoring.models import NetResult

    row = NetResult.objects.filter(test=test).order_by("-round_id").values().first()
    row.pop("id"), row.pop("recorded_at")
    results.upsert("net", [row])


@row(
    11,
    "cost grows with rounds, not rows: the live results page over 7 days, server time, 200 agents ÷ 20 agents",
    "<= 1.5",
)
def live_page_rounds_not_rows(data):
    """GET of a test's results page (period 7 days, signed in) while its agents write: before each timed view
    (untimed) one result of the latest round is written again, so the view computes the latest hour's rollup from
    its rows, as a live page does between the worker's passes. The rest of the week comes from the hour rollups the
    worker keeps (its pass runs untimed first). The detail adds views with every hour's rollup stored, and a view
    with none (what every view cost before the rollups)."""
    from django.test import Client

    from spyglass.monitoring.models import RollupHour

    from .child import settle

    (big, small), (many, few), hours = _live_tests(data)
    settle()  # as after the other rows' seeding
    computed = _refreshed(big) + _refreshed(small)
    client = Client()
    client.force_login(data.user)
    period = "7d" if hours > 24 else "24h"

    def page(test):
        return lambda: client.get(f"/tests/{test.id}/?period={period}")

    answers = [client.get(f"/tests/{t.id}/?period={period}").status_code for t in (big, small)]
    writing = interleaved_prepared(
        (lambda: _latest_round_written(big), page(big)), (lambda: _latest_round_written(small), page(small)), 7
    )
    stored = interleaved_prepared((lambda: None, page(big)), (lambda: None, page(small)), 5)

    def none_stored(test):
        return lambda: RollupHour.objects.filter(test=test).delete()

    cold = interleaved_prepared((none_stored(big), page(big)), (none_stored(small), page(small)), 1)
    detail = (
        f"{many} agents {writing[0] * 1000:.1f} ms, {few} agents {writing[1] * 1000:.1f} ms while written to "
        f"({hours} h, answers {answers}; hour rollups computed by the worker's pass before: {computed}); "
        f"with every hour's rollup stored {stored[0] * 1000:.1f} ms and {stored[1] * 1000:.1f} ms "
        f"(ratio {stored[0] / stored[1]:.3g}); with none stored {cold[0] * 1000:.1f} ms and {cold[1] * 1000:.1f} ms "
        f"(ratio {cold[0] / cold[1]:.3g})"
    )
    return (writing[0] / writing[1] if answers == [200, 200] else float("inf")), detail


def _dashboard_of_six(data):
    """Row 13's dashboard, seeded when the row first runs (no other row reads it): one HTTP test with network
    measurements, 50 agents over 7 days up to now at 60 s (504,000 HTTP and as many network results; 10 agents
    over 6 hours with --quick), and six widgets on it over 7 days — four of its HTTP metrics, two network ones."""
    from spyglass.accounts.roles import access_for
    from spyglass.dashboards import services as dashboards
    from spyglass.monitoring.seed import seed
    from spyglass.monitoring.tests_service import create_test

    from .data import own_organization

    agents, hours = (10, 6) if data.quick else (50, 7 * 24)
    tenant = own_organization("dashboards")
    body = {"testName": "week of six", "interval": 60, "url": "https://bench.example.com/"}
    test = create_test(tenant.access, "http-server", body)
    seed(test, agents=agents, hours=hours, random_seed=13, now=time.time())
    access = access_for(tenant.user, None)
    board = dashboards.default_dashboard(access)
    for metric in ("totalTime", "responseTime", "availability", "throughput", "latency", "loss"):
        dashboards.add_widget(access, board, test.id, metric, 7 * 24 * 3600)
    return access, board, agents, hours


@row(
    13,
    "dashboard snapshot first view, 6 widgets × 7 days × 50 agents: server time ÷ a test snapshot's first view, "
    "48 h × 50 agents",
    "<= 3",
)
def dashboard_snapshot_first_view(data):
    """GET of a dashboard snapshot's share page (every view of it computes its widgets: nothing is stored per
    snapshot) against a first view of a test snapshot's share page (its stored rollups and render dropped, untimed,
    before each). Both read the hour rollups the worker keeps (its pass runs untimed first); each widget sums them
    per step. The detail adds the dashboard snapshot's view with no hour rollup stored (each widget then computes
    its hours from the rows, and stores them for the next)."""
    from spyglass.monitoring import rollups
    from spyglass.monitoring.models import RollupHour
    from spyglass.sharing.dashboard_snapshots import create_dashboard_snapshot

    from .child import settle

    access, board, agents, hours = _dashboard_of_six(data)
    settle()
    rollups.refresh(limit=100_000, within=30 * 86400)  # the worker's pass
    dashboard_snapshot = create_dashboard_snapshot(access, board)
    test_snapshot = data.snapshot(data.big_test)
    client = api_client(data, authenticated=False)
    dash_url, test_url = f"/s/d/{dashboard_snapshot.link_id}/", f"/s/{test_snapshot.link_id}/"
    answers = [client.get(dash_url).status_code, client.get(test_url).status_code]
    dash, test = interleaved_prepared(
        (lambda: None, lambda: client.get(dash_url)),
        (lambda: _forget_stored(test_snapshot), lambda: client.get(test_url)),
    )
    test_id = dashboard_snapshot.widgets.values_list("source_test_id", flat=True).first()

    def none_stored():
        RollupHour.objects.filter(test_id=test_id).delete()

    cold, _ = interleaved_prepared((none_stored, lambda: client.get(dash_url)), (lambda: None, lambda: None), 1)
    detail = (
        f"dashboard snapshot {dash * 1000:.1f} ms ({agents} agents, {hours} h of data, 6 widgets over 7 days), "
        f"test snapshot first view {test * 1000:.1f} ms ({data.agents} agents, {data.hours} h); answers {answers}; "
        f"the dashboard snapshot with no hour rollup stored {cold * 1000:.1f} ms"
    )
    return (dash / test if answers == [200, 200] else float("inf")), detail
