"""Live shares and dashboards in a real browser: the account-group checkboxes, Pending Shares (accept and decline),
the badge, and a dashboard widget on a shared test that says "no longer shared" once the share is revoked."""

import re
import time

import pytest
from playwright.sync_api import expect

from spyglass.liveshares.models import LiveShare
from spyglass.monitoring.seed import seed
from tests.conftest import make_test

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in_as(page, base: str, email: str):
    """Another user in the same browser tab: drop the session, sign in again."""
    page.context.clear_cookies()
    sign_in(page, base, email)


def open_groups_panel(page, base: str, test):
    page.goto(f"{base}/tests/{test.id}/edit/")
    page.click("#share-groups-link")
    page.wait_for_selector("#share-groups input[name=aid]")


def group_box(page, name: str):
    return page.locator("#share-groups label.check", has_text=re.compile(rf"^\s*{re.escape(name)}\b")).locator("input")


def set_group(page, name: str, checked: bool):
    group_box(page, name).set_checked(checked)
    page.click("#share-groups-save")
    page.wait_for_selector("#share-groups .share-notice")


def row_of(page, name: str):
    return page.locator("#tests-table tbody tr", has_text=name)


def test_checkbox_flow_owner_shares_recipient_accepts_owner_unchecks(live_server, page, cast, artifacts):
    base = live_server.url
    test = make_test(cast.owner, name="Checkout <API>", interval=60)
    seed(test, agents=3, hours=1, random_seed=5)

    # The owner checks Dev in the account-group list; the link counts it.
    sign_in(page, base, cast.owner.user.email)
    open_groups_panel(page, base, test)
    assert page.inner_text("#share-groups-link") == "0 of 3 account groups"
    set_group(page, "Dev", True)
    assert page.inner_text("#share-groups-link") == "1 of 3 account groups"
    assert page.locator("#share-groups .badge-pending").inner_text() == "Pending"
    assert group_box(page, "Dev").is_checked() and not group_box(page, "Lab").is_checked()

    # The recipient follows the e-mail's link and lands on Pending Shares.
    sign_in_as(page, base, cast.other_group.user.email)
    assert row_of(page, "Checkout <API>").count() == 0
    page.goto(f"{base}/settings/tests/#pending-shares")
    assert page.url == f"{base}/tests/#pending-shares"
    pending = page.locator("#pending-shares")
    assert pending.is_visible()
    item = pending.locator(".pending-item", has_text="Checkout <API>")
    assert item.locator(".pending-sender").inner_text() == "Ops"
    page.screenshot(path=str(artifacts / "pending-shares.png"))
    pending.screenshot(path=str(artifacts / "pending-shares-panel.png"))

    item.get_by_role("button", name="Accept Checkout <API>").click()
    page.wait_for_selector(".flash-success")
    assert page.locator("#pending-shares").count() == 0
    row = row_of(page, "Checkout <API>")
    assert row.locator(".badge-live").inner_text() == "Live share"
    assert "shared by Ops" in row.inner_text()
    assert row.get_by_role("link", name="Edit").count() == 0 and row.get_by_role("link", name="Delete").count() == 0
    page.screenshot(path=str(artifacts / "tests-list-live-share.png"))

    # Its results page works, read-only: the timeline draws, no Share button.
    row.get_by_role("link", name="Checkout <API>").click()
    page.wait_for_selector("#results")
    assert page.locator(".results-meta .badge-live").is_visible()
    assert page.locator("#share-button").count() == 0
    page.locator(".results-head").screenshot(path=str(artifacts / "live-share-results-head.png"))

    # The owner unchecks Dev: the test is gone from Dev at once.
    sign_in_as(page, base, cast.owner.user.email)
    open_groups_panel(page, base, test)
    assert page.locator("#share-groups .badge-ok").inner_text() == "Accepted"
    set_group(page, "Dev", False)
    assert page.inner_text("#share-groups-link") == "0 of 3 account groups"
    sign_in_as(page, base, cast.other_group.user.email)
    assert row_of(page, "Checkout <API>").count() == 0
    assert page.console_errors == []
    assert page.goto(f"{base}/tests/{test.id}/").status == 404


def test_pending_share_from_another_customer_is_declined(live_server, page, cast, artifacts):
    base = live_server.url
    test = make_test(cast.owner, name="Acme storefront", interval=60)

    # An Organization Admin invites a Globex user by login e-mail; the recipient list shows it pending.
    sign_in(page, base, cast.teammate.user.email)
    page.goto(f"{base}/tests/{test.id}/edit/")
    assert page.inner_text("#share-customers-link") == "Share with other customers"
    page.click("#share-customers-link")
    page.fill("#share-email", "admin@globex.test")
    page.click("#share-invite")
    page.wait_for_selector("#share-customers .share-notice")
    assert "Invitation sent to admin@globex.test" in page.inner_text("#share-customers .share-notice")
    assert page.locator("#share-customers .recipient", has_text="admin@globex.test").is_visible()
    page.click("#share-groups-link")
    page.locator("#live-sharing").screenshot(path=str(artifacts / "test-settings-live-sharing.png"))

    sign_in_as(page, base, cast.other_org.user.email)
    item = page.locator("#pending-shares .pending-item", has_text="Acme storefront")
    assert item.locator(".pending-sender").inner_text() == "Acme"
    item.get_by_role("button", name="Decline Acme storefront").click()
    dialog = page.locator("dialog.confirm-dialog")  # asked in the page first
    assert "Decline “Acme storefront” from Acme?" in dialog.inner_text()
    dialog.get_by_role("button", name="Decline").click()
    page.wait_for_selector(".flash-success")
    assert "Declined “Acme storefront”." in page.inner_text(".flash")
    assert page.locator("#pending-shares").count() == 0
    assert row_of(page, "Acme storefront").count() == 0
    assert LiveShare.objects.get().status == "declined"

    # The sharer sees the decision, and can delete the recipient (after confirming).
    sign_in_as(page, base, cast.teammate.user.email)
    page.goto(f"{base}/tests/{test.id}/edit/")
    page.click("#share-customers-link")
    recipient = page.locator("#share-customers .recipient", has_text="admin@globex.test")
    assert recipient.locator(".badge").inner_text() == "Declined"
    recipient.get_by_role("button", name="Delete recipient admin@globex.test").click()
    page.locator("dialog.confirm-dialog .confirm-ok").click()  # asked in the page (confirm.js)
    page.wait_for_selector("#share-customers .share-notice")
    assert page.locator("#share-customers .recipient").count() == 0
    assert not LiveShare.objects.exists()
    assert page.console_errors == []


def test_dashboard_widget_on_a_shared_test_then_no_longer_shared(live_server, page, cast, artifacts):
    base = live_server.url
    shared = make_test(cast.owner, "http-server", name="Payments <gateway>", interval=300)
    own = make_test(cast.other_group, name="Dev edge", interval=300)
    seed(shared, agents=4, hours=26, random_seed=11)
    seed(own, agents=3, hours=26, random_seed=12)

    sign_in(page, base, cast.owner.user.email)
    open_groups_panel(page, base, shared)
    set_group(page, "Dev", True)
    sign_in_as(page, base, cast.other_group.user.email)
    page.locator("#pending-shares .pending-item", has_text="Payments <gateway>").get_by_role(
        "button", name="Accept"
    ).click()
    page.wait_for_selector(".flash-success")
    # The share began a day ago (as if accepted then): the widget has a day of rounds to draw.
    LiveShare.objects.filter(test=shared).update(start_round=int(time.time()) - 24 * 3600)

    page.click("nav.mainnav >> text=Dashboard")
    page.wait_for_url(f"{base}/dashboard/")
    assert page.locator(".dashboard-empty").is_visible()

    def add_widget(test_name: str, metric: str, period: str):
        page.select_option("#w-test", label=test_name)
        page.select_option("#w-metric", label=metric)
        page.select_option("#w-period", label=period)
        count = page.locator(".widget").count()
        page.click("#add-widget-button")
        page.locator(".widget").nth(count).wait_for()

    # Only the metrics of the chosen test's type are offered.
    page.select_option("#w-test", label="Payments <gateway>")
    offered = page.locator("#w-metric option:not([disabled])").all_inner_texts()
    assert "Response time" in offered and "Resolution time" not in offered

    add_widget("Payments <gateway>", "Response time", "Last 24 hours")
    add_widget("Dev edge", "Latency", "Last 24 hours")
    add_widget("Payments <gateway>", "Availability", "Last 6 hours")
    widgets = page.locator(".widget")
    page.wait_for_selector(".widget .widget-chart canvas")
    assert widgets.nth(0).locator("h3").inner_text() == "Payments <gateway>"
    assert widgets.nth(0).locator(".badge-live").is_visible()
    assert widgets.nth(0).locator(".widget-chart canvas").count() >= 1
    assert re.fullmatch(r"[\d,.]+", widgets.nth(0).locator(".widget-value").inner_text())

    # Reorder with the keyboard-reachable buttons: the moved widget keeps the focus.
    second = widgets.nth(1).get_attribute("data-widget-id")
    page.click(f"#move-up-{second}")
    page.wait_for_selector(f".widget:first-child[data-widget-id='{second}']")
    expect(page.locator(f"#move-down-{second}")).to_be_focused()
    assert widgets.nth(0).locator("h3").inner_text() == "Dev edge"
    page.wait_for_selector(".widget:nth-child(3) .widget-chart canvas")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    # The owner stops sharing: the recipient's widgets say so instead of failing.
    sign_in_as(page, base, cast.owner.user.email)
    open_groups_panel(page, base, shared)
    set_group(page, "Dev", False)
    sign_in_as(page, base, cast.other_group.user.email)
    page.goto(f"{base}/dashboard/")
    states = page.locator(".widget").evaluate_all("items => items.map(i => i.dataset.state)")
    assert states == ["ok", "no longer shared", "no longer shared"]
    assert (
        page.locator(".widget", has_text="Payments <gateway>")
        .first.locator(".widget-state")
        .inner_text()
        .startswith("No longer shared")
    )
    assert page.locator(".widget").first.locator(".widget-chart canvas").count() >= 1
    page.screenshot(path=str(artifacts / "dashboard-no-longer-shared.png"), full_page=True)
    assert page.console_errors == []


def test_the_sharer_sees_a_recipients_snapshot_and_revokes_it_in_the_browser(live_server, page, cast, artifacts):
    from tests.conftest import make_derived_snapshot

    base = live_server.url
    test = make_test(cast.owner, name="Checkout <API>", interval=60)
    _, snapshot = make_derived_snapshot(cast, test)  # made by the owner's Lab group through an inside share
    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/tests/{test.id}/edit/")
    derived = page.locator("#share-derived")
    item = derived.locator("li.recipient", has_text="made in Lab")
    assert "Lab" in item.inner_text() and "share link" in item.inner_text() and "0 visits" in item.inner_text()
    derived.screenshot(path=str(artifacts / "live-share-recipients-snapshots.png"))

    item.get_by_role("button", name="Revoke snapshot made in Lab").click()
    page.locator("dialog.confirm-dialog .confirm-ok").click()  # hx-confirm, asked in the page (confirm.js)
    expect(page.locator("#share-derived .share-notice")).to_contain_text("its link no longer opens")
    expect(page.locator("#share-derived")).to_contain_text("Recipients have made no snapshots of this test.")
    assert page.request.get(f"{base}/s/{snapshot.link_id}/").status == 404
    assert not page.console_errors, page.console_errors
