"""The demo's data: organization, account groups, a user per role, three tests on local targets, 48 h of history.

Idempotent: running the demo again reuses everything, only pointing the tests at this run's target ports."""

import socket
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from spyglass.accounts.models import ApiToken
from spyglass.accounts.roles import access_for
from spyglass.accounts.services import create_user
from spyglass.monitoring import asn, tests_service
from spyglass.monitoring.models import Agent, AsnPrefix, NetResult, Test
from spyglass.monitoring.seed import seed
from spyglass.monitoring.test_validation import TestWriteSerializer
from spyglass.sharing.links import view_url
from spyglass.sharing.models import Snapshot
from spyglass.sharing.services import create_snapshot

ORG = "Spyglass Demo"
GROUPS = ["Operations", "Engineering"]
PASSWORD = "spyglass-demo"
USERS = [
    ("org.admin@demo.spyglass.test", "Orla Admin", GROUPS, "Organization Admin"),
    ("account.admin@demo.spyglass.test", "Aaron Admin", ["Operations"], "Account Admin"),
    ("regular@demo.spyglass.test", "Rita Regular", ["Operations"], "Regular User"),
]
SEED_AGENTS, SEED_HOURS = 4, 48
# A prefix-to-AS table for the seeded paths' addresses (documentation ranges and ASNs, RFC 5737, 6598 and 5398),
# loaded only when the operator has loaded none: the path view then names the hops' networks.
DEMO_PREFIXES = [
    "198.51.100.0\t24\t64500",
    "203.0.113.0\t24\t64501",
    "192.0.2.0\t24\t64502",
    "100.64.0.0\t10\t64502",
]
DEMO_AS_NAMES = {64500: "DEMO-TRANSIT", 64501: "DEMO-TARGET-HOSTING", 64502: "DEMO-ACCESS-ISP"}


@dataclass
class DemoData:
    users: list[tuple[str, str, str]]  # (email, role, API token)
    tests: list[Test]
    agent_name: str
    share_url: str  # a share link of the demo web page's last 6 hours: open it signed out


SHARE_NAME = "Demo web page, last 6 hours"


def _share_link(access, test: Test) -> str:
    """The demo's one share link, made once through the same service as the share panel and the API."""
    snapshot = Snapshot.objects.filter(source_test=test, display_name=SHARE_NAME).first()
    if snapshot is None:
        anchor = NetResult.objects.filter(test=test).aggregate(m=Max("round_id"))["m"]
        snapshot = create_snapshot(
            access,
            test.id,
            display_name=SHARE_NAME,
            hours=6,
            anchor=anchor,
            position="ending",
            view="response-time",
            note="Made by spyglass demo",
        )
    return view_url(snapshot.link_id)


def _tests(ports: dict) -> list[tuple[str, str, dict]]:
    return [
        ("agent-to-server", "Demo TCP service", {"server": f"127.0.0.1:{ports['tcp']}", "probeCount": 20}),
        ("http-server", "Demo web page", {"url": f"http://127.0.0.1:{ports['http']}/"}),
        (
            "dns-server",
            "Demo DNS",
            {"domain": "www.demo.test A", "dnsServers": [{"serverName": f"127.0.0.1:{ports['dns']}"}]},
        ),
    ]


def _point_at(test: Test, attrs: dict) -> None:
    """Targets are immutable through the API; the demo moves its own tests to this run's ports."""
    if "server" in attrs:
        test.server, test.port = "127.0.0.1", int(attrs["server"].rsplit(":", 1)[1])
    if "url" in attrs:
        test.url = attrs["url"]
    if "dnsServers" in attrs:
        test.dns_servers = [{"serverId": 1, "serverName": attrs["dnsServers"][0]["serverName"]}]
    test.save(update_fields=["server", "port", "url", "dns_servers"])


@transaction.atomic
def prepare(ports: dict, progress=None) -> DemoData:
    users, people = [], []
    for email, name, groups, role in USERS:
        user = create_user(email, PASSWORD, name, ORG, groups, role)
        users.append((email, role, ApiToken.issue(user)))
        people.append(user)
    admin_access = access_for(people[0], None)
    agent_name = socket.gethostname() or "spyglass"
    agent, _ = Agent.objects.get_or_create(
        organization_id=admin_access.organization_id, name=agent_name, defaults={"location": "this machine"}
    )
    if not AsnPrefix.objects.exists():
        asn.load(asn.parse_prefixes(DEMO_PREFIXES, "demo prefixes"), DEMO_AS_NAMES, "spyglass demo")
    tests = []
    for test_type, name, attrs in _tests(ports):
        test = Test.objects.filter(account_group=admin_access.account_group, name=name).first()
        if test is None:
            body = TestWriteSerializer(data={"testName": name, "interval": 60, **attrs}, test_type=test_type)
            body.is_valid(raise_exception=True)
            test = tests_service.create_test(admin_access, test_type, body.validated_data)
        else:
            _point_at(test, attrs)
        test.agents.add(agent)
        if not NetResult.objects.filter(test=test).exists():
            seed(test, SEED_AGENTS, SEED_HOURS, random_seed=test.id)
        tests.append(test)
        if progress:
            progress(test)
    web = next(t for t in tests if t.type == Test.HTTP_SERVER)
    return DemoData(users, tests, agent_name, _share_link(admin_access, web))
