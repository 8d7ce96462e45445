"""`spyglass seed`: believable synthetic history — diurnal latency, loss bursts, outages, and path traces with a
route change and a lossy hop (seed_paths.py) — written set-based."""

import math
import random
import time
from datetime import UTC, datetime

from django.db import transaction

from spyglass.lib.rounds import round_of

from . import results
from .models import Agent, Test
from .seed_paths import SeededPaths

CITIES = [
    ("Amsterdam", "NL"),
    ("Ashburn, VA", "US"),
    ("Bangalore", "IN"),
    ("Berlin", "DE"),
    ("Chicago, IL", "US"),
    ("Dallas, TX", "US"),
    ("Dublin", "IE"),
    ("Frankfurt", "DE"),
    ("Hong Kong", "HK"),
    ("Johannesburg", "ZA"),
    ("London", "GB"),
    ("Los Angeles, CA", "US"),
    ("Madrid", "ES"),
    ("Melbourne", "AU"),
    ("Mexico City", "MX"),
    ("Milan", "IT"),
    ("Mumbai", "IN"),
    ("New York, NY", "US"),
    ("Osaka", "JP"),
    ("Paris", "FR"),
    ("Sao Paulo", "BR"),
    ("San Jose, CA", "US"),
    ("Seattle, WA", "US"),
    ("Seoul", "KR"),
    ("Singapore", "SG"),
    ("Stockholm", "SE"),
    ("Sydney", "AU"),
    ("Tokyo", "JP"),
    ("Toronto", "CA"),
    ("Warsaw", "PL"),
]


def seed_agents(test: Test, count: int, rng: random.Random) -> list[Agent]:
    org_id = test.account_group.organization_id
    agents = []
    for i in range(count):
        city, country = CITIES[i % len(CITIES)]
        name = f"{city} #{i // len(CITIES) + 1}" if i >= len(CITIES) else city
        agent, _ = Agent.objects.get_or_create(
            organization_id=org_id,
            name=name,
            defaults={
                "location": city,
                "country_id": country,
                "agent_type": Agent.CLOUD,
                "ip_addresses": [f"198.51.100.{i % 250 + 1}"],
            },
        )
        agents.append(agent)
    test.agents.add(*agents)
    return agents


class _AgentModel:
    """One agent's behaviour: a base latency, a diurnal swing, and a few incidents."""

    def __init__(self, rng: random.Random, start: int, end: int, interval: int):
        self.base = rng.uniform(8, 180)
        self.phase = rng.random()
        self.swing = rng.uniform(0.05, 0.35)
        self.rng = rng
        span = max(end - start, interval)
        self.bursts = [
            (t, t + rng.randint(3, 20) * interval, rng.uniform(5, 60))
            for t in (start + rng.randrange(span) for _ in range(max(1, span // 43200)))
        ]
        self.outages = [
            (t, t + rng.randint(2, 8) * interval)
            for t in (start + rng.randrange(span) for _ in range(1 if rng.random() < 0.3 else 0))
        ]

    def at(self, t: int) -> tuple[float, float, bool]:
        """(latency ms, loss %, down) at time t."""
        down = any(a <= t < b for a, b in self.outages)
        latency = self.base * (1 + self.swing * math.sin(2 * math.pi * (t / 86400 + self.phase)))
        latency *= 1 + abs(self.rng.gauss(0, 0.04))
        loss = 0.0
        for a, b, level in self.bursts:
            if a <= t < b:
                loss = min(100.0, round(level * self.rng.uniform(0.5, 1.5) / 5) * 5)
        if not loss and self.rng.random() < 0.01:
            loss = 5.0
        return latency, loss, down


def _net(test, agent, r, date, latency, loss, down, rng):
    if down:
        return {
            "test_id": test.id,
            "agent_id": agent.id,
            "round_id": r,
            "date": date,
            "server_ip": "203.0.113.10",
            "server": test.target,
            "loss": 100.0,
            "min_latency": None,
            "avg_latency": None,
            "max_latency": None,
            "jitter": None,
            "error_type": "Connect",
            "error_details": "Connection timed out",
        }
    jitter = abs(rng.gauss(0, latency * 0.02)) + 0.05
    return {
        "test_id": test.id,
        "agent_id": agent.id,
        "round_id": r,
        "date": date,
        "server_ip": "203.0.113.10",
        "server": test.target,
        "loss": loss,
        "min_latency": round(latency * 0.97, 3),
        "avg_latency": round(latency, 3),
        "max_latency": round(latency * 1.06 + jitter, 3),
        "jitter": round(jitter, 3),
        "error_type": "None",
        "error_details": "",
    }


def _http(test, agent, r, date, latency, down, rng):
    row = {
        "test_id": test.id,
        "agent_id": agent.id,
        "round_id": r,
        "date": date,
        "server_ip": "203.0.113.10",
        "response_code": None,
        "num_redirects": 0,
        "redirect_time": 0.0,
        "dns_time": None,
        "connect_time": None,
        "ssl_time": None,
        "wait_time": None,
        "receive_time": None,
        "response_time": None,
        "total_time": None,
        "wire_size": None,
        "throughput": None,
        "error_type": "None",
        "error_details": "",
        "ssl_version": "",
        "ssl_cipher": "",
        "ssl_certs": [],
        "request_headers": "",
        "response_headers": "",
    }
    if down:
        row.update(error_type="Connect", error_details="Connection timed out", total_time=5000.0)
        return row
    dns, connect = round(rng.uniform(1, 20), 1), round(latency, 1)
    ssl = round(latency * 2, 1) if test.url.startswith("https") else 0.0
    wait = round(latency + rng.uniform(20, 120), 1)
    receive = round(rng.uniform(1, 30), 1)
    size = rng.randint(9000, 60000)
    total = dns + connect + ssl + wait + receive
    row.update(
        response_code=200,
        dns_time=dns,
        connect_time=connect,
        ssl_time=ssl,
        wait_time=wait,
        receive_time=receive,
        response_time=round(dns + connect + ssl + wait, 1),
        total_time=round(total, 1),
        wire_size=size,
        throughput=round(size / (receive / 1000.0)),
        ssl_version="TLSv1.3" if ssl else "",
        ssl_cipher="TLS_AES_128_GCM_SHA256" if ssl else "",
    )
    return row


def _dns(test, agent, r, date, latency, down, rng):
    out = []
    name = test.domain.split()[0] if test.domain else "example.com"
    for i, server in enumerate(test.dns_servers or [{"serverId": 1, "serverName": "ns1.example.net"}]):
        row = {
            "test_id": test.id,
            "agent_id": agent.id,
            "round_id": r,
            "date": date,
            "server_ip": "",
            "server": server["serverName"],
            "server_id": server.get("serverId", i + 1),
            "resolution_time": None,
            "mappings": "",
            "error_type": "None",
            "error_details": "",
        }
        if down:
            row.update(error_type="Timeout", error_details="No answer within 5 s")
        else:
            row.update(resolution_time=round(latency * rng.uniform(0.9, 1.3), 1), mappings=f"{name}. 192.0.2.10 (A)")
        out.append(row)
    return out


def seed(
    test: Test, agents: int, hours: float, random_seed: int | None = None, now: float | None = None, progress=None
) -> int:
    """Write `hours` of history for `agents` agents; returns the number of result rows written (net, http, dns).
    Tests that take network measurements also get `numPathTraces` path traces per agent and round."""
    rng = random.Random(random_seed)
    end = round_of(now if now is not None else time.time(), test.interval)
    start = end - int(hours * 3600) + test.interval
    rounds = list(range(start, end + 1, test.interval))
    with transaction.atomic():
        agent_objs = seed_agents(test, agents, rng)
        models = [_AgentModel(rng, start, end, test.interval) for _ in agent_objs]
        traced = test.takes_network_measurements
        paths = SeededPaths(test, agent_objs, start, end, random_seed) if traced else None
        total = 0
        net_rows, http_rows, dns_rows = [], [], []
        chunk = max(1, 20000 // max(1, len(agent_objs)))
        for n, r in enumerate(rounds, start=1):
            for agent, model in zip(agent_objs, models, strict=True):
                date = datetime.fromtimestamp(r + rng.randint(0, max(0, test.interval // 3)), tz=UTC)
                latency, loss, down = model.at(r)
                if paths is not None:
                    net_rows.append(_net(test, agent, r, date, latency, loss, down, rng))
                    paths.add(agent, r, date.timestamp(), latency, down)
                if test.type == Test.HTTP_SERVER:
                    http_rows.append(_http(test, agent, r, date, latency, down, rng))
                elif test.type == Test.DNS_SERVER:
                    dns_rows.extend(_dns(test, agent, r, date, latency, down, rng))
            if n % chunk == 0 or n == len(rounds):
                for kind, rows in (("net", net_rows), ("http", http_rows), ("dns", dns_rows)):
                    total += results.upsert(kind, rows)
                    rows.clear()
                if paths is not None:
                    paths.flush()
                if progress:
                    progress(n, len(rounds))
    return total
