"""Authentication: Basic email:token and Bearer; tokens kept only as keyed digests; failed-login throttling."""

import base64

import pytest
from rest_framework.test import APIClient

from spyglass.accounts.models import ApiToken
from spyglass.lib import tokens


def _basic(email, token):
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


def test_it_accepts_basic_email_and_token(cast):
    response = cast.owner.client.get("/v6/account-groups.json")
    assert response.status_code == 200
    names = [g["accountGroupName"] for g in response.json()["accountGroups"]]
    assert names == ["Ops", "Lab"]


def test_it_accepts_bearer_token(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {cast.owner.token}")
    assert client.get("/v6/tests.json").status_code == 200


def test_it_answers_401_with_error_message_without_credentials(db):
    response = APIClient().get("/v6/tests.json")
    assert response.status_code == 401
    assert "errorMessage" in response.json()
    assert response["WWW-Authenticate"].startswith("Basic")


def test_it_refuses_a_token_under_another_users_email(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic(cast.teammate.user.email, cast.owner.token))
    assert client.get("/v6/tests.json").status_code == 401


def test_it_refuses_the_password_in_place_of_the_token(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic(cast.owner.user.email, "correct horse battery"))
    assert client.get("/v6/tests.json").status_code == 401


def test_it_refuses_malformed_basic_credentials(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic %%%not-base64")
    response = client.get("/v6/tests.json")
    assert response.status_code == 401
    assert response.json()["errorMessage"]


def test_it_stores_only_a_keyed_digest_of_the_token(cast, settings):
    stored = ApiToken.objects.get(user=cast.owner.user)
    assert cast.owner.token not in stored.digest
    assert stored.digest == tokens.digest(settings.SECRET_KEY, cast.owner.token)
    assert len(cast.owner.token) >= 22  # ≥ 128 bits in URL-safe base64


def test_regenerating_a_token_invalidates_the_old_one(cast):
    old_client = cast.owner.client
    ApiToken.issue(cast.owner.user)
    assert old_client.get("/v6/tests.json").status_code == 401


def test_it_throttles_a_failing_credential_after_too_many_failed_logins(cast, settings, time_machine):
    time_machine.move_to(1_795_000_020, tick=False)  # one hour window for the whole test
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 5
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION=_basic(cast.owner.user.email, "wrong"))
    codes = [bad.get("/v6/tests.json").status_code for _ in range(7)]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]
    limited = bad.get("/v6/tests.json")
    assert limited.json()["errorMessage"].startswith("Too many failed logins")
    assert 0 < int(limited["Retry-After"]) <= 3600
    # The right token from that address passes: failures are held against what failed (tests/test_failed_logins.py).
    assert cast.owner.client.get("/v6/tests.json").status_code == 200
    other_ip = bad.get("/v6/tests.json", REMOTE_ADDR="10.9.9.9")
    assert other_ip.status_code == 429  # the account's failures follow it to another address


@pytest.mark.parametrize("aid", [None, "own"])
def test_the_token_user_and_their_access_come_in_one_statement(cast, aid):
    """What every API request reads first — the token's user, the membership, role and permissions — is one
    statement, for the default group and for an `aid`; and it answers as access_for would."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = "/v6/tests.json" + ("" if aid is None else f"?aid={cast.owner.aid}")
    with CaptureQueriesContext(connection) as captured:
        response = cast.owner.client.get(url)
    assert response.status_code == 200
    reads = [q["sql"] for q in captured.captured_queries if "accounts_membership" in q["sql"]]
    assert len(reads) == 1 and "accounts_apitoken" in reads[0] and "accounts_permission" in reads[0]
    # Another group's aid is still refused, as before.
    assert cast.owner.client.get(f"/v6/tests.json?aid={cast.other_org.aid}").status_code == 400


def test_without_aid_a_user_acts_in_their_default_group_else_their_first(cast):
    """Both ways of reading access (the API's token statement and access_for) choose the same membership: the
    default group's, even when it is not the first; the first when there is no default."""
    from spyglass.accounts.models import AccountGroup
    from spyglass.accounts.roles import access_for

    user = cast.owner.user
    ops = AccountGroup.objects.get(name="Ops", organization=user.default_account_group.organization)
    lab = AccountGroup.objects.get(name="Lab", organization=ops.organization)
    created = cast.owner.client.post(
        f"/v6/tests/agent-to-server/new.json?aid={lab.id}",
        {"testName": "in lab", "interval": 60, "server": "example.com:443"},
        format="json",
    )
    assert created.status_code == 201

    def listed():
        return [t["testName"] for t in cast.owner.client.get("/v6/tests.json").json()["test"]]

    for default, group, names in ((lab, lab, ["in lab"]), (None, ops, [])):
        user.default_account_group = default
        user.save(update_fields=["default_account_group"])
        assert access_for(user, None).account_group == group
        assert listed() == names
