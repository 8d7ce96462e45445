"""Live share fixtures: a real SMTP server on loopback, people with custom roles, shares made through the API."""

import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from spyglass.accounts import roles
from spyglass.accounts.models import Membership, Permission, Role
from spyglass.accounts.services import ensure_builtin_roles
from spyglass.monitoring import results
from tests.conftest import Person, make_person

BASIC = [roles.VIEW_TESTS, roles.EDIT_TESTS]


class Inbox:
    """Collects what the SMTP server accepted."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"to": list(envelope.rcpt_tos), "message": message})
        self.arrived.set()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m["message"] for m in self.messages if address in m["to"]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd in a thread), with Django pointed at it; stopped after the test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()


def custom_role(organization, name: str, labels: list[str]) -> Role:
    ensure_builtin_roles()
    role = Role.objects.create(name=name, organization=organization)
    role.permissions.set(Permission.objects.filter(label__in=labels))
    return role


def person_with(email: str, org: str, group: str, labels: list[str]) -> Person:
    """A user whose role in `group` has exactly these permissions."""
    person = make_person(email, org, [group], roles.ACCOUNT_ADMIN)
    membership = Membership.objects.get(user=person.user)
    membership.role = custom_role(membership.account_group.organization, f"only {email}", labels)
    membership.save()
    return person


def share(person: Person, test_id: int, **recipient):
    """POST /v6/live-shares/new as that person; returns the response."""
    return person.client.post("/v6/live-shares/new.json", {"testId": test_id, **recipient}, format="json")


def accept(person: Person, share_id: int, aid: int | None = None):
    suffix = f"?aid={aid}" if aid else ""
    return person.client.post(f"/v6/live-shares/{share_id}/accept.json{suffix}", {}, format="json")


def listed_tests(person: Person, aid: int | None = None) -> dict[int, int]:
    """testId → liveShare flag of what the person's account group lists."""
    suffix = f"?aid={aid}" if aid else ""
    return {t["testId"]: t["liveShare"] for t in person.client.get(f"/v6/tests.json{suffix}").json()["test"]}


def write_net_rounds(test, agent, round_ids, latency=10.0):
    """Network results for the given rounds, latency rising by one per round so each round is recognisable."""
    from datetime import UTC, datetime

    rows = [
        {
            "test_id": test.id,
            "agent_id": agent.id,
            "round_id": r,
            "date": datetime.fromtimestamp(r, UTC),
            "loss": 0.0,
            "avg_latency": latency + i,
            "min_latency": latency + i,
            "max_latency": latency + i,
            "jitter": 1.0,
        }
        for i, r in enumerate(round_ids)
    ]
    results.upsert("net", rows)
