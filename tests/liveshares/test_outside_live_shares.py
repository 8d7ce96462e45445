"""Sharing a test with another organization: invite by login e-mail → pending → accept → every account group of
that organization sees it, read-only → revoke → gone at once. Declining. E-mails reach a real SMTP server."""

import pytest

from spyglass.accounts import roles
from spyglass.liveshares.models import LiveShare
from tests.conftest import make_person, make_test

from .conftest import accept, listed_tests, share


@pytest.fixture
def globex(cast):
    """The other organization: its admin (cast.other_org, group 'Globex Ops') and a second group 'Globex Lab'."""
    return make_person("lab@globex.test", "Globex", ["Globex Lab"], roles.ACCOUNT_ADMIN)


def invite(cast, test, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = share(cast.teammate, test.id, email=email)  # Organization Admin: may share outside
    assert response.status_code == 201, response.content
    return response.json()["liveShares"][0]


def test_the_whole_life_of_an_outside_share(cast, globex, smtp_server, django_capture_on_commit_callbacks):
    test = make_test(cast.owner, "http-server", name="checkout")
    sent = invite(cast, test, "Admin@Globex.test ", django_capture_on_commit_callbacks)
    assert sent["direction"] == "outgoing" and sent["status"] == "pending"
    assert sent["email"] == "admin@globex.test" and sent["organizationName"] is None
    assert sent["acceptedDate"] is None

    # The e-mail arrived at the SMTP server, naming the test and where to accept.
    [mail] = smtp_server.to("admin@globex.test")
    assert "checkout" in mail["Subject"] and "Acme" in mail["Subject"]
    assert "Pending Shares" in mail.get_content()

    # Pending: every group of Globex sees it among incoming shares, none among its tests yet.
    for person in (cast.other_org, globex):
        incoming = person.client.get("/v6/live-shares.json").json()["liveShares"]
        assert [(s["testId"], s["direction"], s["status"], s["organizationName"]) for s in incoming] == [
            (test.id, "incoming", "pending", "Acme")
        ]
        assert test.id not in listed_tests(person)
        assert person.client.get(f"/v6/tests/{test.id}.json").status_code == 404

    accepted = accept(globex, sent["id"])
    assert accepted.status_code == 200
    assert accepted.json()["liveShares"][0]["status"] == "accepted"
    assert accepted.json()["liveShares"][0]["acceptedDate"]

    # Every account group of Globex has it, flagged liveShare 1; the sharer sees who accepted.
    for person in (cast.other_org, globex):
        assert listed_tests(person)[test.id] == 1
        detail = person.client.get(f"/v6/tests/{test.id}.json").json()["test"][0]
        assert detail["liveShare"] == 1 and detail["testName"] == "checkout"
    outgoing = cast.owner.client.get("/v6/live-shares.json").json()["liveShares"]
    assert [(s["status"], s["organizationName"]) for s in outgoing] == [("accepted", "Globex")]
    assert listed_tests(cast.owner)[test.id] == 0  # the owner's own test is not a live share
    # Other Acme groups and unrelated organizations still do not see it.
    assert test.id not in listed_tests(cast.other_group)

    # Revoke: gone at once, from every group, from lists, detail and data.
    assert cast.teammate.client.post(f"/v6/live-shares/{sent['id']}/delete.json").status_code == 204
    for person in (cast.other_org, globex):
        assert test.id not in listed_tests(person)
        assert person.client.get(f"/v6/tests/{test.id}.json").status_code == 404
        assert person.client.get(f"/v6/web/http-server/{test.id}.json").status_code == 404
        assert person.client.get("/v6/live-shares.json").json() == {"liveShares": []}


def test_declining_keeps_the_test_out_and_tells_the_sharer(cast, globex, django_capture_on_commit_callbacks):
    test = make_test(cast.owner, name="edge")
    sent = invite(cast, test, "admin@globex.test", django_capture_on_commit_callbacks)
    response = globex.client.post(f"/v6/live-shares/{sent['id']}/decline.json")
    assert response.status_code == 200 and response.json()["liveShares"][0]["status"] == "declined"
    assert test.id not in listed_tests(globex) and test.id not in listed_tests(cast.other_org)
    outgoing = cast.owner.client.get("/v6/live-shares.json").json()["liveShares"]
    assert [s["status"] for s in outgoing] == ["declined"]
    # A decision is final: accepting afterwards is refused and changes nothing.
    again = accept(cast.other_org, sent["id"])
    assert again.status_code == 400 and "declined" in again.json()["errorMessage"]
    # The sharer may invite again: the same share becomes pending anew.
    reopened = invite(cast, test, "admin@globex.test", django_capture_on_commit_callbacks)
    assert reopened["id"] == sent["id"] and reopened["status"] == "pending"


def test_an_address_without_an_account_gets_the_same_answer_and_the_invitation_waits(
    cast, smtp_server, django_capture_on_commit_callbacks
):
    test = make_test(cast.owner, name="edge")
    known = invite(cast, test, "admin@globex.test", django_capture_on_commit_callbacks)
    unknown = invite(cast, test, "newcomer@initech.test", django_capture_on_commit_callbacks)
    strip = {"id", "email", "createdDate"}
    assert {k: v for k, v in known.items() if k not in strip} == {k: v for k, v in unknown.items() if k not in strip}
    assert smtp_server.to("newcomer@initech.test") and smtp_server.to("admin@globex.test")

    # The user signs up later: the invitation is waiting in their organization's Pending Shares.
    newcomer = make_person("newcomer@initech.test", "Initech", ["Initech Ops"], roles.ORGANIZATION_ADMIN)
    incoming = newcomer.client.get("/v6/live-shares.json").json()["liveShares"]
    assert [(s["id"], s["status"]) for s in incoming] == [(unknown["id"], "pending")]
    assert accept(newcomer, unknown["id"]).status_code == 200
    assert listed_tests(newcomer) == {test.id: 1}
    assert test.id not in listed_tests(cast.other_org)  # Globex has not accepted its own invitation


def test_an_outside_share_cannot_reach_the_sharers_own_organization_or_be_made_twice(cast):
    test = make_test(cast.owner, name="edge")
    own = share(cast.teammate, test.id, email="dev@acme.test")
    assert own.status_code == 400 and own.json()["errorMessage"].startswith("email:")
    assert share(cast.teammate, test.id, email="admin@globex.test").status_code == 201
    twice = share(cast.teammate, test.id, email="ADMIN@globex.test")
    assert twice.status_code == 400 and "already shared" in twice.json()["errorMessage"]
    assert LiveShare.objects.count() == 1


def test_a_failing_mail_server_does_not_lose_the_share(cast, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens there
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    test = make_test(cast.owner, name="edge")
    invite(cast, test, "admin@globex.test", django_capture_on_commit_callbacks)
    assert LiveShare.objects.get().status == "pending"


def test_only_a_recipient_decides_and_only_the_sharer_revokes(cast, globex, django_capture_on_commit_callbacks):
    test = make_test(cast.owner, name="edge")
    sent = invite(cast, test, "admin@globex.test", django_capture_on_commit_callbacks)
    assert accept(cast.owner, sent["id"]).status_code == 404  # the sharer cannot accept its own share
    assert accept(cast.other_group, sent["id"]).status_code == 404
    assert globex.client.post(f"/v6/live-shares/{sent['id']}/delete.json").status_code == 404
    assert accept(globex, sent["id"]).status_code == 200
    assert accept(cast.other_org, sent["id"]).status_code == 400  # decided once, for the organization


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "testId"),
        ({"testId": "x", "aid": 1}, "testId"),
        ({"testId": 1}, "aid"),
        ({"testId": 1, "aid": 2, "email": "a@b.test"}, "aid"),
        ({"testId": 1, "email": "not an address"}, "email"),
        ({"testId": 1, "aid": True}, "aid"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(cast, body, field):
    response = cast.teammate.client.post("/v6/live-shares/new.json", body, format="json")
    assert response.status_code == 400
    assert response.json()["errorMessage"].startswith(f"{field}:")
    assert not LiveShare.objects.exists()
