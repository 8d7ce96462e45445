"""The web app's tenancy checkpoint: another account group or organization gets 404 on every page of a test; a
Regular User sees tests but cannot change them; agents and agent tokens are for Account Admins only."""

import pytest

from spyglass.monitoring import models
from spyglass.monitoring.models import AgentToken
from tests.conftest import make_agent, make_test
from tests.web_support import signed_in


@pytest.fixture
def test(cast):
    return make_test(cast.owner, name="ops edge")


PAGES = ["/tests/{id}/", "/tests/{id}/?roundId=1&view=latency", "/tests/{id}/edit/", "/tests/{id}/delete/"]


@pytest.mark.parametrize("outsider", ["other_group", "other_org"])
def test_it_answers_404_to_other_tenants_for_every_page_of_a_test(cast, test, outsider):
    client = signed_in(getattr(cast, outsider))
    for page in PAGES:
        response = client.get(page.format(id=test.id))
        assert response.status_code == 404, page
        assert "ops edge" not in response.content.decode()
    assert client.post(f"/tests/{test.id}/toggle/").status_code == 404
    assert client.post(f"/tests/{test.id}/delete/").status_code == 404
    assert client.post(f"/tests/{test.id}/edit/", {"testName": "pwned", "interval": 60}).status_code == 404
    test.refresh_from_db()
    assert test.name == "ops edge" and test.enabled


@pytest.mark.parametrize("outsider", ["other_group", "other_org"])
def test_it_does_not_list_other_tenants_tests(cast, test, outsider):
    assert "ops edge" not in signed_in(getattr(cast, outsider)).get("/tests/").content.decode()


def test_it_answers_404_for_a_test_of_the_users_other_group_until_they_switch(cast, test):
    client = signed_in(cast.owner)
    lab = cast.owner.user.memberships.get(account_group__name="Lab").account_group_id
    assert client.get(f"/tests/{test.id}/?aid={lab}").status_code == 404
    assert client.get(f"/tests/{test.id}/").status_code == 200


def test_it_lets_a_teammate_see_and_edit(cast, test):
    client = signed_in(cast.teammate)
    assert client.get(f"/tests/{test.id}/").status_code == 200
    assert client.post(f"/tests/{test.id}/toggle/").status_code == 302
    test.refresh_from_db()
    assert not test.enabled


def test_it_lets_a_regular_user_see_but_not_change(cast, test):
    client = signed_in(cast.regular)
    listing = client.get("/tests/").content.decode()
    assert "ops edge" in listing and f"/tests/{test.id}/edit/" not in listing and "New test" not in listing
    assert client.get(f"/tests/{test.id}/").status_code == 200
    assert client.get(f"/tests/{test.id}/edit/").status_code == 404
    assert client.get("/tests/new/http-server/").status_code == 404
    assert client.post(f"/tests/{test.id}/toggle/").status_code == 404
    assert client.post(f"/tests/{test.id}/delete/").status_code == 404
    assert models.Test.objects.filter(id=test.id, enabled=True).exists()


def test_it_shows_agents_to_account_admins_only(cast):
    make_agent(cast.owner, "Frankfurt")
    assert "Frankfurt" in signed_in(cast.owner).get("/agents/").content.decode()
    assert signed_in(cast.regular).get("/agents/").status_code == 404
    assert "Frankfurt" not in signed_in(cast.other_org).get("/agents/").content.decode()


def test_it_answers_404_when_revoking_another_organizations_agent_token(cast):
    signed_in(cast.other_org).post("/agents/tokens/", {"name": "globex"})
    token = AgentToken.objects.get(name="globex")
    assert signed_in(cast.owner).post(f"/agents/tokens/{token.id}/revoke/").status_code == 404
    token.refresh_from_db()
    assert not token.revoked


def test_it_never_shows_a_snapshot_test_in_the_tests_list(cast, test):
    models.Test.objects.filter(id=test.id).update(saved_event=True)
    assert "ops edge" not in signed_in(cast.owner).get("/tests/").content.decode()
    assert signed_in(cast.owner).get(f"/tests/{test.id}/edit/").status_code == 404
