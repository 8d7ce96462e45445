"""The benchmark's rows. Each measures a ratio within the same run, against a baseline on the same data."""

import base64
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

ROWS: list["Row"] = []


@dataclass
class Row:
    id: int
    what: str
    target: str
    measure: Callable

    def met(self, value: float) -> bool:
        op, number = self.target.split()
        return value <= float(number) if op == "<=" else value >= float(number)


def row(id: int, what: str, target: str):
    def register(fn):
        ROWS.append(Row(id, what, target, fn))
        ROWS.sort(key=lambda r: r.id)
        return fn

    return register


def median_seconds(fn, repeat: int = 5) -> float:
    fn()  # warm caches and connections once
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


@row(6, "data API export, 48 h as JSON: rows/s ÷ orjson.dumps of the same rows", ">= 0.5")
def data_export(data):
    client = api_client(data)
    path = f"/v6/net/metrics/{data.big_test.id}.json?window={data.hours}h"
    exported = export_all(client, path)
    api = median_seconds(lambda: export_all(client, path), repeat=3)
    dumps = median_seconds(lambda: orjson.dumps(exported), repeat=5)
    n = len(exported)
    return (n / api) / (n / dumps), f"{n} rows; API {n / api:,.0f} rows/s, orjson {n / dumps:,.0f} rows/s"


@row(7, "API auth overhead: req/s with Basic email:token ÷ req/s unauthenticated (test-only switch)", ">= 0.8")
def auth_overhead(data):
    basic = api_client(data)
    switched = api_client(data, authenticated=False)
    switched.force_authenticate(user=data.user)  # the test-only switch: DRF skips the authenticators
    n = 200

    def burst(client):
        for _ in range(n):
            client.get("/v6/tests.json")

    with_auth = median_seconds(lambda: burst(basic))
    without = median_seconds(lambda: burst(switched))
    return without / with_auth, f"{n / with_auth:,.0f} req/s with Basic, {n / without:,.0f} req/s without"
