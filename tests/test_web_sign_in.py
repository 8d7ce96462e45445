"""Signing in and out, changing the password, the profile page's API token and the account-group switcher."""

import re

from django.test import Client

from spyglass.accounts.models import ApiToken
from tests.web_support import signed_in

PASSWORD = "correct horse battery"


def test_it_signs_in_with_email_and_password_whatever_the_case_of_the_email(cast):
    client = Client()
    response = client.post("/login/", {"username": "OWNER@acme.test", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/tests/"
    assert client.get("/tests/").status_code == 200


def test_it_refuses_a_wrong_password_with_a_clear_message(cast):
    response = Client().post("/login/", {"username": "owner@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert "That email and password do not match an account." in response.content.decode()


def test_it_sends_signed_out_visitors_to_the_sign_in_page(cast):
    response = Client().get("/tests/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/tests/")


def test_it_signs_out(cast):
    client = signed_in(cast.owner)
    assert client.post("/logout/").status_code == 302
    assert client.get("/tests/").status_code == 302


def test_it_changes_the_password(cast):
    client = signed_in(cast.owner)
    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much better passphrase 42",
            "new_password2": "a much better passphrase 42",
        },
    )
    assert response.status_code == 302
    assert Client().login(username="owner@acme.test", password="a much better passphrase 42")
    assert not Client().login(username="owner@acme.test", password=PASSWORD)


def test_it_refuses_a_password_change_with_the_wrong_old_password(cast):
    response = signed_in(cast.owner).post(
        "/account/password/", {"old_password": "wrong", "new_password1": "x" * 20, "new_password2": "x" * 20}
    )
    assert response.status_code == 200
    assert "old password was entered incorrectly" in response.content.decode()


def test_it_shows_a_new_api_token_once_and_it_works_on_the_api(cast):
    client = signed_in(cast.owner)
    page = client.post("/account/profile/").content.decode()
    token = re.search(r'<code id="api-token">([^<]+)</code>', page).group(1)
    assert len(token) >= 22
    # Only the digest is stored.
    assert token not in ApiToken.objects.get(user=cast.owner.user).digest
    from tests.conftest import api_client

    assert api_client("owner@acme.test", token).get("/v6/tests.json").status_code == 200
    # The old token stopped working, and the profile page does not show the new one again.
    assert cast.owner.client.get("/v6/tests.json").status_code == 401
    assert token not in client.get("/account/profile/").content.decode()


def test_it_lists_the_users_roles_on_the_profile_page(cast):
    page = signed_in(cast.owner).get("/account/profile/").content.decode()
    assert page.count("Account Admin") == 2 and "Ops" in page and "Lab" in page


def test_it_switches_account_group_and_remembers_it(cast):
    from tests.conftest import make_test

    make_test(cast.owner, name="ops only")
    client = signed_in(cast.owner)
    assert "ops only" in client.get("/tests/").content.decode()
    lab = cast.owner.user.memberships.get(account_group__name="Lab").account_group_id
    assert client.post("/account/switch/", {"aid": lab}).status_code == 302
    assert "ops only" not in client.get("/tests/").content.decode()


def test_it_answers_404_when_switching_to_a_group_the_user_is_not_in(cast):
    client = signed_in(cast.owner)
    assert client.post("/account/switch/", {"aid": cast.other_org.aid}).status_code == 404
    assert client.get(f"/tests/?aid={cast.other_group.aid}").status_code == 404
    assert client.get("/tests/?aid=abc").status_code == 404


def test_it_puts_a_csp_without_unsafe_inline_on_every_web_page(cast):
    client = signed_in(cast.owner)
    for path in ("/login/", "/tests/", "/account/profile/", "/agents/", "/tests/new/http-server/", "/nope/"):
        csp = client.get(path)["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp, path


def test_it_stops_sign_ins_to_an_account_from_an_address_after_too_many_failures(cast, settings):
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 2
    client = Client()
    for _ in range(2):
        client.post("/login/", {"username": "owner@acme.test", "password": "guess"})
    response = client.post("/login/", {"username": "owner@acme.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get("/tests/").status_code == 302
    # Only that account waits there (tests/test_failed_logins.py holds the rest).
    assert client.post("/login/", {"username": "mate@acme.test", "password": PASSWORD}).status_code == 302
