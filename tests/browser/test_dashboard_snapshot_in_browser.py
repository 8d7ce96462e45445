"""A dashboard snapshot in a real browser: made from the dashboard page, opened signed out (every widget drawn, from
the frozen window, under the share page's CSP), listed in Sharing › Snapshots › Dashboard snapshots, revoked there
through the page's confirmation dialog, and then the link is dead."""

import pytest

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboards
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import DashboardSnapshot
from tests.conftest import make_test

from .conftest import sign_in
from .test_snapshots_in_browser import new_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_snapshot_a_dashboard_open_it_signed_out_and_revoke_it(live_server, page, browser, cast, settings):
    settings.BASE_URL = base = live_server.url
    web = make_test(cast.owner, "http-server", name="shop <i>front</i>", interval=300)
    edge = make_test(cast.owner, "agent-to-server", name="edge tcp", interval=300)
    for test in (web, edge):
        seed(test, agents=2, hours=2, random_seed=5)
    access = access_for(cast.owner.user, None)
    board = dashboards.default_dashboard(access)
    dashboards.add_widget(access, board, web.id, "totalTime", 3600)
    dashboards.add_widget(access, board, edge.id, "latency", 24 * 3600)

    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/dashboard/")
    page.wait_for_selector(".widget-chart canvas")
    page.select_option("#ds-window", str(6 * 3600))
    page.select_option("#ds-expiry", "30")
    page.click("#dashboard-snapshot-button")
    page.wait_for_selector("#dashboard-snapshot-made")
    snapshot = DashboardSnapshot.objects.get()
    link = page.locator("#dashboard-snapshot-link").input_value()
    assert link == f"{base}/s/d/{snapshot.link_id}/"
    assert snapshot.window == 6 * 3600 and snapshot.expires_date is not None

    # A stranger opens it: both widgets drawn, the test name as text, no console error (the CSP holds).
    context, stranger = new_page(browser)
    try:
        response = stranger.goto(link)
        assert response.status == 200 and response.headers["referrer-policy"] == "no-referrer"
        stranger.wait_for_function("() => document.querySelectorAll('.widget-chart canvas').length === 2")
        titles = stranger.locator(".widget h3").all_inner_texts()
        assert titles == ["shop <i>front</i>", "edge tcp"]
        assert stranger.locator(".widget-sub").first.inner_text().endswith("Last 6 hours")
        assert stranger.locator(".facts .visits").inner_text() == "1"
        assert not stranger.console_errors, stranger.console_errors

        # The creator revokes it from Sharing › Snapshots › Dashboard snapshots (the dialog's Cancel first).
        page.goto(f"{base}/sharing/snapshots/?tab=dashboards")
        row = page.locator(f"#dashboard-snapshots-table tr[data-link-id='{snapshot.link_id}']")
        assert row.locator(".visits").inner_text() == "1"
        row.locator("button[type=submit]").click()
        page.wait_for_selector("#confirm-dialog[open]")
        page.click("#confirm-dialog .confirm-cancel")
        assert DashboardSnapshot.objects.exists()
        row.locator("button[type=submit]").click()
        page.wait_for_selector("#confirm-dialog[open]")
        page.click("#confirm-dialog .confirm-ok")
        page.wait_for_selector(".flash-success")
        assert "its link no longer works" in page.locator(".flash-success").inner_text()
        assert not DashboardSnapshot.objects.exists()

        gone = stranger.goto(link)
        assert gone.status == 404
        assert stranger.locator(".widget").count() == 0
    finally:
        context.close()
    assert not page.console_errors, page.console_errors
