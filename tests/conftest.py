"""Shared fixtures: the tenancy cast (owner, teammate, Regular User, another account group, another organization)
with API clients, and helpers to make tests and results."""

import base64
import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from spyglass.accounts.models import ApiToken
from spyglass.accounts.services import create_user
from spyglass.monitoring.models import Agent, Test
from tests.smtp import SmtpServer

# The app processes tests start, each on a data dir of its own, serve the static files this run collected (once, under
# a lock: spyglass/web/staticfiles.py) instead of each collecting them again.
os.environ.setdefault("SPYGLASS_STATIC_ROOT", str(settings.STATIC_ROOT))


def pytest_collection_modifyitems(items):
    """Files made mostly of `slow` tests run first, each in its own order. scripts/test.sh hands whole files to its
    xdist workers in this order, so the long ones (rounds measured by the clock, the bench) start at once and run
    beside the rest instead of ending the run alone."""
    counts: dict = {}
    for item in items:
        slow, total = counts.get(item.path, (0, 0))
        counts[item.path] = (slow + (item.get_closest_marker("slow") is not None), total + 1)
    items.sort(key=lambda item: -counts[item.path][0] / counts[item.path][1])  # stable: keeps each file's order


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback (aiosmtpd) that Django's e-mail goes to; `.messages` holds what arrived."""
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Person:
    user: object
    token: str
    client: APIClient

    @property
    def aid(self) -> int:
        return self.user.default_account_group_id


def api_client(email: str, token: str) -> APIClient:
    client = APIClient()
    creds = base64.b64encode(f"{email}:{token}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {creds}")
    return client


def make_person(email, org, groups, role, name=None) -> Person:
    user = create_user(email, "correct horse battery", name or email.split("@")[0].title(), org, groups, role)
    token = ApiToken.issue(user)
    return Person(user, token, api_client(email, token))


@dataclass
class Cast:
    owner: Person
    teammate: Person
    regular: Person
    other_group: Person
    other_org: Person

    def all(self):
        return {
            "owner": self.owner,
            "teammate": self.teammate,
            "regular": self.regular,
            "other_group": self.other_group,
            "other_org": self.other_org,
        }


@pytest.fixture
def cast(db) -> Cast:
    return Cast(
        owner=make_person("owner@acme.test", "Acme", ["Ops", "Lab"], "Account Admin", "Olive Owner"),
        teammate=make_person("mate@acme.test", "Acme", ["Ops"], "Organization Admin", "Tom Mate"),
        regular=make_person("regular@acme.test", "Acme", ["Ops"], "Regular User", "Rita Regular"),
        other_group=make_person("dev@acme.test", "Acme", ["Dev"], "Account Admin", "Gus Group"),
        other_org=make_person("admin@globex.test", "Globex", ["Globex Ops"], "Organization Admin", "Orla Other"),
    )


@pytest.fixture
def dev(cast):
    """The access of the cast's user of another account group (Gus, Account Admin of Dev)."""
    from spyglass.accounts.roles import access_for

    return access_for(cast.other_group.user, None)


def make_test(person: Person, test_type="agent-to-server", name="web edge", interval=60, **fields) -> Test:
    body = {"testName": name, "interval": interval}
    body.update(
        {
            "agent-to-server": {"server": "example.com:443"},
            "http-server": {"url": "https://example.com/"},
            "dns-server": {"domain": "example.com A", "dnsServers": [{"serverName": "ns1.example.net"}]},
        }[test_type]
    )
    body.update(fields)
    response = person.client.post(f"/v6/tests/{test_type}/new.json", body, format="json")
    assert response.status_code == 201, response.content
    return Test.objects.get(id=response.json()["test"][0]["testId"])


def make_agent(person: Person, name="Frankfurt", **fields) -> Agent:
    return Agent.objects.create(
        organization=person.user.default_account_group.organization,
        name=name,
        location=fields.pop("location", name),
        country_id=fields.pop("country_id", "DE"),
        **fields,
    )


def make_snapshot(person: Person, test: Test, hours=2, anchor=1795334400, **options):
    """A snapshot through the one creating service (what both the API and the share panel call)."""
    from spyglass.accounts.roles import access_for
    from spyglass.sharing.services import create_snapshot

    options.setdefault("display_name", f"snapshot of {test.name}")
    return create_snapshot(
        access_for(person.user, test.account_group_id), test.id, hours=hours, anchor=anchor, **options
    )


def make_derived_snapshot(cast: Cast, test: Test):
    """A snapshot made through a live share: the owner's test shared with its other group Lab from long ago,
    accepted there, and snapshotted by the owner working in Lab. Returns (share, snapshot)."""
    from spyglass.accounts.models import AccountGroup
    from spyglass.accounts.roles import access_for
    from spyglass.liveshares import services as live_shares
    from spyglass.sharing.services import create_snapshot

    lab = AccountGroup.objects.get(organization=test.account_group.organization, name="Lab")
    share = live_shares.create(access_for(cast.owner.user, test.account_group_id), test.id, aid=lab.id)
    share.__class__.objects.filter(id=share.id).update(start_round=0)  # shared long before the window
    in_lab = access_for(cast.owner.user, lab.id)
    live_shares.accept(in_lab, share.id)
    snapshot = create_snapshot(in_lab, test.id, display_name="made in Lab", hours=1, anchor=1795334400)
    return share, snapshot


@pytest.fixture
def v7(live_server, settings):
    """v7(person) → the official ThousandEyes SDK's ApiClient (the v7 API), unchanged, for that person's API token
    against the live server."""
    from thousandeyes_sdk.core import ApiClient, Configuration
    from urllib3.util.retry import Retry

    settings.BASE_URL = live_server.url
    clients = []

    def client_for(person: Person):
        # One connection per request: a kept-alive connection would outlive the test in a live-server thread, which
        # then closes the test's shared SQLite connection from the wrong thread. The server closes each connection
        # after its answer without saying so, so the pool may still pick a socket closing under it: a request sent
        # there was never read, and is sent again (for every method; nothing else is retried).
        configuration = Configuration(
            host=f"{live_server.url}/v7",
            access_token=person.token,
            retries=Retry(total=3, connect=3, read=3, status=0, other=0, allowed_methods=None, redirect=False),
        )
        client = ApiClient(configuration)
        client.set_default_header("Connection", "close")
        clients.append(client)
        return client

    yield client_for
    for client in clients:
        client.close()
