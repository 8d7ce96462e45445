"""Live sharing in the web app: the test settings' panels (account groups, other customers), Pending Shares on the
tests list, the badge and read-only pages of a live-shared test, each with its permission present and absent, and
other tenants answered 404."""

import re

import pytest

from spyglass.accounts import roles
from spyglass.accounts.models import AccountGroup
from spyglass.liveshares.models import LiveShare
from spyglass.liveshares.notify import PENDING_SHARES_PATH
from tests.conftest import make_agent, make_test
from tests.liveshares.conftest import person_with
from tests.web_support import net_rows, signed_in

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def test(cast):
    return make_test(cast.owner, name="ops <edge>")


def group_id(name: str) -> int:
    return AccountGroup.objects.get(name=name).id


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def pending_section(html: str) -> str:
    match = re.search(r'<section id="pending-shares".*?</section>', html, re.S)
    return match.group(0) if match else ""


def share_inside(owner, test, group: str):
    response = signed_in(owner).post(f"/tests/{test.id}/sharing/groups/", {"aid": [group_id(group)]})
    assert response.status_code == 302
    return LiveShare.objects.get(test=test, recipient_group__name=group)


# --- inside the organization: the checkbox list --------------------------------------------------------------------


def test_it_shows_the_account_group_checkboxes_with_x_of_y_on_the_settings_page(cast, test):
    html = page(signed_in(cast.owner), f"/tests/{test.id}/edit/")
    assert 'id="live-sharing"' in html
    # Acme has three account groups: Ops (the test's own), Lab and Dev.
    assert ">0 of 3 account groups<" in html
    boxes = re.findall(r'name="aid" value="(\d+)"', html)
    assert sorted(map(int, boxes)) == sorted([group_id("Lab"), group_id("Dev")])
    # An Account Admin may not share outside the organization: that panel is not there.
    assert "share-customers" not in html


def test_it_hides_the_account_groups_link_when_the_organization_has_one_group(cast):
    globex_test = make_test(cast.other_org, name="globex edge")
    html = page(signed_in(cast.other_org), f"/tests/{globex_test.id}/edit/")
    assert 'id="share-groups"' not in html and "of 1 account groups" not in html
    assert ">Share with other customers<" in html


def test_it_shows_no_sharing_section_when_nothing_there_could_be_shared(cast):
    # An Account Admin (inside sharing only) of an organization with a single account group.
    solo = person_with("solo@initech.test", "Initech", "Initech Ops", roles.BUILTIN_ROLES[roles.ACCOUNT_ADMIN])
    solo_test = make_test(solo, name="initech edge")
    assert 'id="live-sharing"' not in page(signed_in(solo), f"/tests/{solo_test.id}/edit/")


def test_checking_a_group_creates_a_pending_share_and_unchecking_revokes_it(cast, test):
    client = signed_in(cast.owner)
    response = client.post(f"/tests/{test.id}/sharing/groups/", {"aid": [group_id("Dev")]})
    assert response.status_code == 302 and response["Location"].endswith(f"/tests/{test.id}/edit/#live-sharing")
    share = LiveShare.objects.get(test=test)
    assert (share.recipient_group.name, share.status) == ("Dev", "pending")
    html = page(client, f"/tests/{test.id}/edit/")
    assert ">1 of 3 account groups<" in html
    assert re.search(rf'value="{group_id("Dev")}" checked> Dev\s*<span class="badge badge-pending">Pending', html)

    client.post(f"/tests/{test.id}/sharing/groups/", {})
    assert not LiveShare.objects.filter(test=test).exists()
    assert ">0 of 3 account groups<" in page(client, f"/tests/{test.id}/edit/")


def test_htmx_saves_answer_with_the_panel_alone(cast, test):
    response = signed_in(cast.owner).post(f"/tests/{test.id}/sharing/groups/", {"aid": [group_id("Lab")]}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="share-groups"') and "<html" not in html
    assert ">1 of 3 account groups<" in html and "Saved." in html


def test_it_refuses_bad_account_group_values_with_a_message_and_changes_nothing(cast, test):
    client = signed_in(cast.owner)
    globex = group_id("Globex Ops")
    for value, message in [("abc", "Choose account groups from the list."), (str(globex), "is not another account")]:
        response = client.post(f"/tests/{test.id}/sharing/groups/", {"aid": [value]}, **HTMX)
        assert response.status_code == 400 and message in response.content.decode()
        # Never the other organization's group name.
        assert "Globex Ops" not in response.content.decode()
    assert not LiveShare.objects.exists()


def test_sharing_inside_needs_its_permission(cast, test):
    labels = [p for p in roles.BUILTIN_ROLES[roles.ACCOUNT_ADMIN] if p != roles.LIVE_SHARE_INSIDE]
    client = signed_in(person_with("plain@acme.test", "Acme", "Ops", labels))
    html = page(client, f"/tests/{test.id}/edit/")
    assert 'id="share-groups"' not in html and "of 1 account groups" not in html
    assert client.post(f"/tests/{test.id}/sharing/groups/", {"aid": [group_id("Dev")]}).status_code == 403
    assert not LiveShare.objects.exists()


# --- outside the organization: other customers ---------------------------------------------------------------------


def test_it_invites_another_customer_the_same_way_whether_or_not_the_address_has_an_account(cast, test):
    client = signed_in(cast.teammate)  # an Organization Admin may share outside
    html = page(client, f"/tests/{test.id}/edit/")
    assert ">Share with other customers<" in html

    known = client.post(f"/tests/{test.id}/sharing/customers/", {"email": "admin@globex.test"}, **HTMX)
    unknown = client.post(f"/tests/{test.id}/sharing/customers/", {"email": "nobody@initech.test"}, **HTMX)
    assert known.status_code == unknown.status_code == 200

    def notice(response):
        text = re.search(r'<p class="share-notice" role="status">(.*?)</p>', response.content.decode()).group(1)
        return text.replace("admin@globex.test", "X").replace("nobody@initech.test", "X")

    assert notice(known) == notice(unknown)
    assert sorted(LiveShare.objects.values_list("recipient_email", "status")) == [
        ("admin@globex.test", "pending"),
        ("nobody@initech.test", "pending"),
    ]
    # Nobody accepted yet: the link still reads "Share with other customers", the list shows both as pending.
    html = page(client, f"/tests/{test.id}/edit/")
    assert ">Share with other customers<" in html and html.count("badge-pending") == 2


def test_it_counts_organizations_that_accepted_as_other_customers(cast, test):
    client = signed_in(cast.teammate)
    client.post(f"/tests/{test.id}/sharing/customers/", {"email": "admin@globex.test"})
    share = LiveShare.objects.get()
    assert signed_in(cast.other_org).post(f"/live-shares/{share.id}/accept/").status_code == 302
    html = page(client, f"/tests/{test.id}/edit/")
    assert ">1 other customer<" in html and "Globex" in html


def test_it_refuses_a_bad_address_and_a_duplicate_with_a_message(cast, test):
    client = signed_in(cast.teammate)
    response = client.post(f"/tests/{test.id}/sharing/customers/", {"email": "not an address"}, **HTMX)
    assert response.status_code == 400
    assert "Must be the recipient&#x27;s login e-mail address." in response.content.decode()
    assert not LiveShare.objects.exists()
    client.post(f"/tests/{test.id}/sharing/customers/", {"email": "a@globex.test"})
    again = client.post(f"/tests/{test.id}/sharing/customers/", {"email": "A@globex.test"}, **HTMX)
    assert again.status_code == 400 and "already shared with that address" in again.content.decode()
    assert LiveShare.objects.count() == 1


def test_deleting_a_customer_recipient_confirms_then_ends_access(cast, test):
    client = signed_in(cast.teammate)
    client.post(f"/tests/{test.id}/sharing/customers/", {"email": "admin@globex.test"})
    share = LiveShare.objects.get()
    signed_in(cast.other_org).post(f"/live-shares/{share.id}/accept/")
    assert "ops &lt;edge&gt;" in page(signed_in(cast.other_org), "/tests/")

    url = f"/tests/{test.id}/sharing/customers/{share.id}/delete/"
    confirm = page(client, url)
    assert "Stop sharing “ops &lt;edge&gt;”?" in confirm and "admin@globex.test" in confirm
    assert LiveShare.objects.exists()  # GET only asks
    response = client.post(url, **HTMX)
    assert response.status_code == 200 and "Stopped sharing with admin@globex.test." in response.content.decode()
    assert not LiveShare.objects.exists()
    assert "ops &lt;edge&gt;" not in page(signed_in(cast.other_org), "/tests/")
    assert signed_in(cast.other_org).get(f"/tests/{test.id}/").status_code == 404


def test_sharing_outside_needs_its_permission(cast, test):
    client = signed_in(cast.owner)  # Account Admin: no "Create live shares for outside the organization"
    assert client.post(f"/tests/{test.id}/sharing/customers/", {"email": "admin@globex.test"}).status_code == 403
    assert not LiveShare.objects.exists()
    signed_in(cast.teammate).post(f"/tests/{test.id}/sharing/customers/", {"email": "admin@globex.test"})
    share = LiveShare.objects.get()
    assert client.post(f"/tests/{test.id}/sharing/customers/{share.id}/delete/").status_code == 403
    assert LiveShare.objects.exists()


def test_a_regular_user_sees_no_sharing_and_cannot_use_it(cast, test):
    client = signed_in(cast.regular)
    assert client.get(f"/tests/{test.id}/edit/").status_code == 404
    assert client.post(f"/tests/{test.id}/sharing/groups/", {"aid": [group_id("Dev")]}).status_code == 403
    assert client.post(f"/tests/{test.id}/sharing/customers/", {"email": "a@globex.test"}).status_code == 403
    assert not LiveShare.objects.exists()


@pytest.mark.parametrize("outsider", ["other_group", "other_org"])
def test_other_tenants_get_404_for_the_sharing_of_a_test(cast, test, outsider):
    signed_in(cast.teammate).post(f"/tests/{test.id}/sharing/customers/", {"email": "x@initech.test"})
    share = LiveShare.objects.get()
    client = signed_in(getattr(cast, outsider))
    assert client.post(f"/tests/{test.id}/sharing/groups/", {"aid": [group_id("Dev")]}).status_code == 404
    assert client.post(f"/tests/{test.id}/sharing/customers/", {"email": "y@initech.test"}).status_code == 404
    assert client.get(f"/tests/{test.id}/sharing/customers/{share.id}/delete/").status_code == 404
    assert client.post(f"/tests/{test.id}/sharing/customers/{share.id}/delete/").status_code == 404
    assert list(LiveShare.objects.values_list("recipient_email", flat=True)) == ["x@initech.test"]


def test_a_share_of_another_test_cannot_be_deleted_through_this_tests_address(cast, test):
    other = make_test(cast.owner, name="second")
    client = signed_in(cast.teammate)
    client.post(f"/tests/{other.id}/sharing/customers/", {"email": "x@initech.test"})
    share = LiveShare.objects.get()
    assert client.post(f"/tests/{test.id}/sharing/customers/{share.id}/delete/").status_code == 404
    assert LiveShare.objects.exists()


# --- Pending Shares, the badge, read-only pages --------------------------------------------------------------------


def test_the_invitation_link_leads_to_the_tests_list(cast):
    assert PENDING_SHARES_PATH == "/settings/tests/#pending-shares"
    response = signed_in(cast.owner).get("/settings/tests/")
    assert response.status_code == 302 and response["Location"] == "/tests/"


def test_pending_shares_are_listed_and_accepting_lists_the_test_with_a_badge(cast, test):
    share_inside(cast.owner, test, "Dev")
    dev = signed_in(cast.other_group)
    section = pending_section(page(dev, "/tests/"))
    assert "Pending Shares" in section and "ops &lt;edge&gt;" in section
    assert re.search(r"Shared by <span[^>]*>Ops<", section)
    assert f"/live-shares/{LiveShare.objects.get().id}/accept/" in section
    # Not accepted yet: the test is not listed, and its page does not exist for Dev.
    assert dev.get(f"/tests/{test.id}/").status_code == 404

    share = LiveShare.objects.get()
    response = dev.post(f"/live-shares/{share.id}/accept/")
    assert response.status_code == 302 and response["Location"] == "/tests/"
    listing = page(dev, "/tests/")
    assert pending_section(listing) == ""
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*ops &lt;edge&gt;.*?</tr>", listing, re.S).group(0)
    assert "Live share" in row and "shared by Ops" in row and "Read-only" in row
    assert f"/tests/{test.id}/edit/" not in row and f"/tests/{test.id}/delete/" not in row


def test_a_live_shared_test_is_read_only_in_every_page_of_the_recipient(cast, test):
    share = share_inside(cast.owner, test, "Dev")
    dev = signed_in(cast.other_group)
    dev.post(f"/live-shares/{share.id}/accept/")
    results = page(dev, f"/tests/{test.id}/")
    assert "badge-live" in results and "read-only, shared by" in results
    assert 'id="share-button"' not in results and 'id="share-panel"' not in results
    for url in (f"/tests/{test.id}/edit/", f"/tests/{test.id}/delete/"):
        assert dev.get(url).status_code == 404
    assert dev.post(f"/tests/{test.id}/toggle/").status_code == 404
    assert dev.post(f"/tests/{test.id}/delete/").status_code == 404
    # The recipient cannot share it on either.
    assert dev.post(f"/tests/{test.id}/sharing/groups/", {"aid": [group_id("Lab")]}).status_code == 404
    test.refresh_from_db()
    assert test.enabled and LiveShare.objects.count() == 1


def test_the_recipients_list_shows_no_status_of_a_round_before_the_share(cast, test):
    agent = make_agent(cast.owner, "Frankfurt")
    share = share_inside(cast.owner, test, "Dev")
    dev = signed_in(cast.other_group)
    dev.post(f"/live-shares/{share.id}/accept/")
    share.refresh_from_db()
    net_rows(test, {agent: (0.0, 10.0, 1.0)}, share.start_round - 60, error_agents=[agent])

    def status_cell(client):
        listing = page(client, "/tests/")
        row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*ops &lt;edge&gt;.*?</tr>", listing, re.S).group(0)
        return re.findall(r'<span class="badge badge-(?:ok|bad|muted)">([^<]*)</span>', row)

    assert status_cell(signed_in(cast.owner)) == ["1 of 1 agents with errors"]
    assert status_cell(dev) == ["No data"]
    net_rows(test, {agent: (0.0, 10.0, 1.0)}, share.start_round + 60)
    assert status_cell(dev) == ["OK · 1 agents"]


def test_declining_removes_it_from_pending_without_listing_the_test(cast, test):
    share = share_inside(cast.owner, test, "Dev")
    dev = signed_in(cast.other_group)
    response = dev.post(f"/live-shares/{share.id}/decline/")
    assert response.status_code == 302 and response["Location"] == "/tests/#pending-shares"
    share.refresh_from_db()
    assert share.status == "declined"
    listing = page(dev, "/tests/")
    assert pending_section(listing) == "" and f'href="/tests/{test.id}/"' not in listing
    # A decision is final: accepting afterwards says so and changes nothing.
    again = dev.post(f"/live-shares/{share.id}/accept/", follow=True)
    assert "This live share was already declined." in again.content.decode()
    share.refresh_from_db()
    assert share.status == "declined"


def test_an_outside_share_is_pending_for_the_invited_organization(cast, test):
    signed_in(cast.teammate).post(f"/tests/{test.id}/sharing/customers/", {"email": "admin@globex.test"})
    section = pending_section(page(signed_in(cast.other_org), "/tests/"))
    assert (
        "ops &lt;edge&gt;" in section
        and re.search(r"Shared by <span[^>]*>Acme<", section)
        and "every account group" in section
    )


def test_pending_shares_need_the_accept_permission(cast, test):
    share = share_inside(cast.owner, test, "Dev")
    viewer = person_with("viewer@acme.test", "Acme", "Dev", [roles.VIEW_TESTS, roles.EDIT_TESTS])
    client = signed_in(viewer)
    assert pending_section(page(client, "/tests/")) == ""
    assert client.post(f"/live-shares/{share.id}/accept/").status_code == 403
    assert client.post(f"/live-shares/{share.id}/decline/").status_code == 403
    share.refresh_from_db()
    assert share.status == "pending"


@pytest.mark.parametrize("outsider", ["owner", "other_org"])
def test_a_share_for_another_group_cannot_be_accepted_or_declined(cast, test, outsider):
    share = share_inside(cast.owner, test, "Dev")
    client = signed_in(getattr(cast, outsider))
    assert client.post(f"/live-shares/{share.id}/accept/").status_code == 404
    assert client.post(f"/live-shares/{share.id}/decline/").status_code == 404
    assert client.post("/live-shares/999999/accept/").status_code == 404
    assert pending_section(page(client, "/tests/")) == ""
    share.refresh_from_db()
    assert share.status == "pending"


def test_sharing_pages_carry_no_inline_script_or_style(cast, test):
    share_inside(cast.owner, test, "Dev")
    for person, url in [(cast.teammate, f"/tests/{test.id}/edit/"), (cast.other_group, "/tests/")]:
        html = page(signed_in(person), url)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert all(" src=" in tag for tag in scripts)
        assert not re.search(r"\son[a-z]+=", html) and " style=" not in html and "<style" not in html
