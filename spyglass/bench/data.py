"""The benchmark's data: one test with 50 agents at 60 s for 48 h (144,000 results), plus a test of each type."""

import time
from dataclasses import dataclass

from spyglass.accounts.models import ApiToken
from spyglass.accounts.roles import access_for
from spyglass.accounts.services import create_user
from spyglass.lib.rounds import round_of
from spyglass.monitoring.seed import seed
from spyglass.monitoring.tests_service import create_test


@dataclass
class BenchData:
    user: object
    token: str
    access: object
    big_test: object  # 50 agents (10 when quick), 48 h (6 h when quick), 60 s
    small_test: object  # same window, 5 agents: for "cost grows with rounds, not rows"
    http_test: object
    dns_test: object
    agents: int
    hours: int
    anchor: int  # the last seeded round: snapshots end there
    quick: bool

    def snapshot(self, test, hours=None, **options):
        from spyglass.sharing.services import create_snapshot

        return create_snapshot(
            self.access,
            test.id,
            display_name=f"bench {test.name}",
            hours=hours or self.hours,
            anchor=self.anchor,
            position="ending",
            **options,
        )

    @property
    def basic(self) -> tuple[str, str]:
        return self.user.email, self.token


@dataclass
class Tenant:
    """A user of an organization no other row writes to, its API token and its tests."""

    user: object
    token: str
    access: object
    tests: list


def own_organization(name: str, tests: int = 0) -> Tenant:
    """An organization of its own with `tests` agent-to-server tests (no results, no snapshots): a row measured on
    it reads nothing an earlier row wrote, so the order of the rows cannot move it."""
    user = create_user(f"{name}@example.com", f"pw-{name}", name.title(), f"{name.title()} Org", ["A"], "Account Admin")
    access = access_for(user, None)
    body = {"interval": 60, "server": "bench.example.com", "port": 443}
    made = [create_test(access, "agent-to-server", {**body, "testName": f"{name} {i}"}) for i in range(tests)]
    return Tenant(user, ApiToken.issue(user), access, made)


def build(quick: bool) -> BenchData:
    agents, hours = (10, 6) if quick else (50, 48)
    user = create_user("bench@example.com", "bench-password", "Bench", "Bench Org", ["Bench"], "Account Admin")
    token = ApiToken.issue(user)
    access = access_for(user, None)

    def new(test_type, name, **extra):
        body = {"testName": name, "interval": 60, **extra}
        return create_test(access, test_type, body)

    big = new("agent-to-server", "big", server="bench.example.com", port=443)
    small = new("agent-to-server", "small", server="bench.example.com", port=443)
    http = new("http-server", "http", url="https://bench.example.com/")
    dns = new("dns-server", "dns", domain="bench.example.com A", dnsServers=[{"serverName": "ns1.example.net"}])
    now = time.time()
    seed(big, agents=agents, hours=hours, random_seed=1, now=now)
    seed(small, agents=5, hours=hours, random_seed=2, now=now)
    seed(http, agents=5, hours=6, random_seed=3)
    seed(dns, agents=5, hours=6, random_seed=4)
    return BenchData(user, token, access, big, small, http, dns, agents, hours, round_of(now, 60), quick)
