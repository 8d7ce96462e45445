"""A dashboard snapshot in a real browser: made from the dashboard page, opened signed out (every widget drawn, from
the frozen window, under the share page's CSP), listed in Sharing › Snapshots › Dashboard snapshots, its expiry
changed and revoked there through the page's confirmation dialog, and then the link is dead; a widget on a
live-shared test loses its data when the share ends."""

import pytest

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboards
from spyglass.monitoring.seed import seed
from spyglass.sharing import dashboard_snapshots
from spyglass.sharing.models import DashboardSnapshot
from tests.conftest import make_test

from .conftest import new_page, sign_in

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
        # The expiry changes (never, here).
        row.locator(".expiry-select").select_option("never")
        row.locator(".save-settings").click()
        page.wait_for_selector(".flash-success")
        assert row.locator(".expires").inner_text() == "Never"
        snapshot.refresh_from_db()
        assert snapshot.expires_date is None
        row.locator(".revoke-form button").click()
        page.wait_for_selector("#confirm-dialog[open]")
        page.click("#confirm-dialog .confirm-cancel")
        assert DashboardSnapshot.objects.exists()
        row.locator(".revoke-form button").click()
        page.wait_for_selector("#confirm-dialog[open]")
        page.click("#confirm-dialog .confirm-ok")
        page.wait_for_selector(".flash-success:has-text('its link no longer works')")
        assert not DashboardSnapshot.objects.exists()

        gone = stranger.goto(link)
        assert gone.status == 404
        assert stranger.locator(".widget").count() == 0
    finally:
        context.close()
    assert not page.console_errors, page.console_errors


def test_a_widget_on_a_live_shared_test_loses_its_data_when_the_share_ends(live_server, page, browser, cast, settings):
    from spyglass.liveshares import services as live_shares
    from spyglass.liveshares.models import LiveShare

    settings.BASE_URL = base = live_server.url
    own = make_test(cast.other_group, "http-server", name="dev api", interval=300)
    theirs = make_test(cast.owner, "http-server", name="ops edge", interval=300)
    for test in (own, theirs):
        seed(test, agents=2, hours=2, random_seed=7)
    share = live_shares.create(access_for(cast.owner.user, None), theirs.id, aid=cast.other_group.aid)
    LiveShare.objects.filter(id=share.id).update(start_round=0)  # shared long before the rounds
    dev = access_for(cast.other_group.user, None)
    live_shares.accept(dev, share.id)
    board = dashboards.default_dashboard(dev)
    dashboards.add_widget(dev, board, own.id, "totalTime", 3600)
    dashboards.add_widget(dev, board, theirs.id, "totalTime", 3600)

    sign_in(page, base, cast.other_group.user.email)
    page.goto(f"{base}/dashboard/")
    page.click("#dashboard-snapshot-button")
    page.wait_for_selector("#dashboard-snapshot-made")
    link = page.locator("#dashboard-snapshot-link").input_value()

    context, stranger = new_page(browser)
    try:
        stranger.goto(link)
        stranger.wait_for_function("() => document.querySelectorAll('.widget-chart canvas').length === 2")
        assert stranger.locator(".widget[data-state=ok]").count() == 2

        live_shares.revoke(access_for(cast.owner.user, None), share.id)  # the sharer ends the share
        stranger.reload()
        stranger.wait_for_function("() => document.querySelectorAll('.widget-chart canvas').length === 1")
        gone = stranger.locator(".widget").nth(1)
        assert gone.get_attribute("data-state") == "no longer shared"
        assert "No longer shared" in gone.inner_text() and gone.locator(".widget-chart").count() == 0
        assert stranger.locator(".widget").nth(0).get_attribute("data-state") == "ok"
        assert not stranger.console_errors, stranger.console_errors
    finally:
        context.close()


def test_three_widgets_one_live_shared_anonymized_commented_share_revoked_expiry_changed_revoked(
    live_server, page, browser, cast, settings
):
    """The whole path of issue 23 in one go: a dashboard of three widgets (one on Ops' test live-shared with Dev),
    snapshotted anonymized with a recipient and e-mailed to one more; a stranger sees three widgets and no agent's name; the creator
    comments from the share page (the form posts with the page's Origin); the live share ends and its widget's
    data with it; the expiry changes; the snapshot is revoked and the link answers 404."""
    from spyglass.liveshares import services as live_shares
    from spyglass.liveshares.models import LiveShare
    from spyglass.mail.models import OutboxMessage
    from spyglass.monitoring.models import Agent

    settings.BASE_URL = base = live_server.url
    own = make_test(cast.other_group, "http-server", name="dev api", interval=300)
    theirs = make_test(cast.owner, "http-server", name="ops edge", interval=300)
    for test in (own, theirs):
        seed(test, agents=2, hours=2, random_seed=11)
    share = live_shares.create(access_for(cast.owner.user, None), theirs.id, aid=cast.other_group.aid)
    LiveShare.objects.filter(id=share.id).update(start_round=0)  # shared long before the rounds
    dev = access_for(cast.other_group.user, None)
    live_shares.accept(dev, share.id)
    board = dashboards.default_dashboard(dev)
    dashboards.add_widget(dev, board, own.id, "totalTime", 3600)
    dashboards.add_widget(dev, board, own.id, "availability", 24 * 3600)
    dashboards.add_widget(dev, board, theirs.id, "totalTime", 3600)
    names = list(Agent.objects.values_list("name", flat=True))
    assert names

    sign_in(page, base, cast.other_group.user.email)
    page.goto(f"{base}/dashboard/")
    page.wait_for_function("() => document.querySelectorAll('.widget-chart canvas').length === 3")
    page.fill("#ds-recipients", "noc@isp.test")
    page.fill("#ds-note", "Slow since 09:00")
    page.check("#ds-anonymize")
    page.click("#dashboard-snapshot-button")
    page.wait_for_selector("#dashboard-snapshot-made")
    assert "e-mailed to noc@isp.test" in page.locator("#dashboard-snapshot-made").inner_text()
    link = page.locator("#dashboard-snapshot-link").input_value()
    snapshot = DashboardSnapshot.objects.get()
    assert snapshot.anonymized and link == f"{base}/s/d/{snapshot.link_id}/"
    assert OutboxMessage.objects.filter(kind="snapshot-share", to=["noc@isp.test"]).count() == 1
    # "E-mail it": the same link to one more address, no second snapshot.
    page.fill("#ds-email-to", "ana@example.test")
    page.click("#dashboard-snapshot-email-button")
    page.wait_for_selector("#dashboard-snapshot-made:has-text('ana@example.test, noc@isp.test')")
    assert DashboardSnapshot.objects.count() == 1 and page.locator("#dashboard-snapshot-link").input_value() == link

    context, stranger = new_page(browser)
    try:
        response = stranger.goto(link)
        assert response.status == 200 and response.headers["x-robots-tag"] == "noindex, nofollow"
        stranger.wait_for_function("() => document.querySelectorAll('.widget-chart canvas').length === 3")
        assert stranger.locator(".widget h3").all_inner_texts() == ["dev api", "dev api", "ops edge"]
        text = stranger.locator("main").inner_text()
        assert "Agent 1" in text and not [n for n in names if n in text]
        assert stranger.locator(".comments-closed").count() == 1  # signed-in users only, by default

        # The creator comments from the share page, signed in: verified, and the creator is e-mailed.
        page.goto(link)
        page.fill(".comment-form textarea[name=body]", "Seen from Frankfurt too")
        page.click(".comment-form button[type=submit]")
        page.wait_for_selector(".comment .comment-badge.verified")
        assert "Seen from Frankfurt too" in page.locator("#comments").inner_text()
        assert OutboxMessage.objects.filter(kind="snapshot-comment").count() == 1

        # Ops ends the live share: that widget's data is gone, the other two stay.
        live_shares.revoke(access_for(cast.owner.user, None), share.id)
        stranger.reload()
        stranger.wait_for_function("() => document.querySelectorAll('.widget-chart canvas').length === 2")
        assert stranger.locator(".widget").nth(2).get_attribute("data-state") == "no longer shared"
        assert not stranger.console_errors, stranger.console_errors

        # The expiry changes in Sharing › Snapshots › Dashboard snapshots; then the snapshot is revoked.
        page.goto(f"{base}/sharing/snapshots/?tab=dashboards")
        row = page.locator(f"#dashboard-snapshots-table tr[data-link-id='{snapshot.link_id}']")
        row.locator(".expiry-select").select_option("1")
        row.locator(".save-settings").click()
        page.wait_for_selector(".flash-success")
        snapshot.refresh_from_db()
        assert snapshot.expires_date is not None and row.locator(".expires").inner_text() != "Never"
        row.locator(".revoke-form button").click()
        page.wait_for_selector("#confirm-dialog[open]")
        page.click("#confirm-dialog .confirm-ok")
        page.wait_for_selector(".flash-success:has-text('its link no longer works')")
        assert stranger.goto(link).status == 404
        assert stranger.locator(".widget").count() == 0
    finally:
        context.close()
    assert not page.console_errors, page.console_errors


def _dashboard_rows(page) -> list[str]:
    return page.locator("#dashboard-snapshots-table tr.dashboard-snapshot-row").evaluate_all(
        "rows => rows.map(r => r.dataset.linkId)"
    )


def test_sort_the_dashboard_snapshots_tab_both_ways(live_server, page, cast, settings):
    """As the test snapshots' table: a click on a heading sorts by it, a second click reverses it."""
    settings.BASE_URL = base = live_server.url
    edge = make_test(cast.owner, "agent-to-server", name="edge tcp", interval=300)
    seed(edge, agents=1, hours=1, random_seed=6)
    access = access_for(cast.owner.user, None)
    board = dashboards.default_dashboard(access)
    dashboards.add_widget(access, board, edge.id, "latency", 3600)
    made = {}
    for name, visits, days in (("quiet", 1, None), ("busy", 7, 1), ("middling", 3, 30)):
        made[name] = dashboard_snapshots.create_dashboard_snapshot(
            access, board, display_name=name, expires_in_days=days
        ).link_id
        DashboardSnapshot.objects.filter(link_id=made[name]).update(visits=visits)

    sign_in(page, base, cast.owner.user.email)
    page.click("nav.mainnav >> text=Sharing")
    page.click("nav.page-tabs a[data-tab=dashboards]")
    page.wait_for_selector("#dashboard-snapshots-table")
    page.click("#dashboard-snapshots-table th[data-column=visits] a")
    page.wait_for_selector("#dashboard-snapshots-table th[data-column=visits][aria-sort=descending]")
    assert _dashboard_rows(page) == [made["busy"], made["middling"], made["quiet"]]
    page.click("#dashboard-snapshots-table th[data-column=visits] a")
    page.wait_for_selector("#dashboard-snapshots-table th[data-column=visits][aria-sort=ascending]")
    assert _dashboard_rows(page) == [made["quiet"], made["middling"], made["busy"]]
    page.click("#dashboard-snapshots-table th[data-column=name] a")
    page.wait_for_selector("#dashboard-snapshots-table th[data-column=name][aria-sort=ascending]")
    assert page.locator("#dashboard-snapshots-table .dashboard-snapshot-link").all_inner_texts() == [
        "busy",
        "middling",
        "quiet",
    ]
    page.click("#dashboard-snapshots-table th[data-column=expires] a")  # the newest expiry first: never
    page.wait_for_selector("#dashboard-snapshots-table th[data-column=expires][aria-sort=descending]")
    assert _dashboard_rows(page) == [made["quiet"], made["middling"], made["busy"]]
    assert page.locator("#dashboard-snapshots-table th[data-column=window] a").count() == 0
    assert not page.console_errors, page.console_errors
