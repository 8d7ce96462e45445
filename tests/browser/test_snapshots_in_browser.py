"""Snapshots in a real browser: create one from the sharing panel, open its link signed out at the same round and
View, comment and see the creator's e-mail arrive at a real SMTP server, sort Sharing › Snapshots both ways, revoke
and see the link die. User-written text stays text; the CSP holds; no console errors."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from spyglass.mail.outbox import deliver_due
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot, SnapshotVisit
from tests.conftest import make_snapshot, make_test

from .conftest import new_page, sign_in
from .test_results_page_in_browser import click_timeline_at

pytestmark = pytest.mark.django_db(transaction=True)
EVIL = '<script>alert("x")</script>'


def test_create_open_signed_out_comment_and_get_the_email(live_server, page, browser, cast, artifacts, smtp, settings):
    settings.BASE_URL = live_server.url
    test = make_test(cast.owner, "agent-to-server", name="Edge <b>TCP</b>", interval=60)
    seed(test, agents=5, hours=24, random_seed=9)
    base = live_server.url
    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/tests/{test.id}/")
    page.wait_for_selector("#timeline canvas")

    # Pick a round in the middle of the day and the Latency View.
    latest = page.locator("#round-panel").get_attribute("data-round-id")
    click_timeline_at(page, 0.5)
    page.wait_for_selector(f"#round-panel:not([data-round-id='{latest}'])")
    page.click("#view-tabs a[data-view=latency]")
    page.wait_for_url(re.compile(r"view=latency"))
    page.wait_for_selector("#timeline canvas")
    chosen = int(page.locator("#round-panel").get_attribute("data-round-id"))

    # The panel: 6 hours around the selected round, a name and a note with markup, then "Link to this snapshot".
    page.click("#share-button")
    assert page.locator("#share-panel").is_visible()
    assert page.locator("#share-agents input[type=checkbox]:checked").count() == 5
    page.select_option("#share-hours", "6")
    page.select_option("#share-position", "around")
    page.fill("#share-name", f"Outage {EVIL}")
    page.fill("#share-note", f"Look at Frankfurt {EVIL}")
    page.check("#share-show-note")  # the note on the page too, not only in e-mails
    page.check("#share-guest-comments")  # guests may comment (new snapshots take signed-in users only)
    page.screenshot(path=str(artifacts / "share-panel.png"))
    page.click("#share-link-button")
    page.wait_for_selector("#share-link")
    link = page.locator("#share-link").inner_text().strip()
    assert "Nothing was sent" in page.locator("#share-result").inner_text()
    page.locator("#share-done").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "share-panel-link.png"))
    snapshot = Snapshot.objects.get()
    assert link == f"{base}/s/{snapshot.link_id}/"
    assert (snapshot.round_id, snapshot.view, snapshot.position) == (chosen, "latency", "around")
    assert snapshot.end_round - snapshot.start_round == 6 * 3600 and snapshot.start_round == chosen - 3 * 3600

    # A wrong choice comes back as a message on the form, and nothing is created.
    page.click("#share-new")
    page.fill("#share-recipients", "not an address")
    page.click("#share-send-button")
    page.wait_for_selector("#share-error")
    assert "is not an e-mail address" in page.locator("#share-error").inner_text()
    assert Snapshot.objects.count() == 1

    # Export Data: the v6 query for the hour ending at the round opens in a new window with the session.
    page.click("#share-tab-export-button")
    page.select_option("#export-format", "json")
    export = page.locator("[data-export-path]").first
    assert export.get_attribute("target") == "_blank"
    with page.expect_popup() as popup_info:
        export.click()
    popup = popup_info.value
    popup.wait_for_load_state()
    body = popup.evaluate("() => JSON.parse(document.body.innerText)")
    rounds = {row["roundId"] for row in body["net"]["metrics"]}
    assert rounds and max(rounds) <= chosen and min(rounds) >= chosen - 3600
    popup.close()
    page.click("#share-panel [data-close-dialog] >> nth=0")
    assert page.console_errors == []

    # Signed out, in a fresh browser: the same round and View, the window, the name and note as text.
    context, visitor = new_page(browser)
    requests = []
    visitor.on("request", lambda request: requests.append(urlsplit(request.url).path))
    response = visitor.goto(link)
    assert response.status == 200
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "private, no-store"
    visitor.wait_for_selector("#timeline canvas")
    assert int(visitor.locator("#round-panel").get_attribute("data-round-id")) == chosen
    assert visitor.locator("#view-tabs a.active").get_attribute("data-view") == "latency"
    assert visitor.locator("#snapshot-name").inner_text() == f"Outage {EVIL}"
    assert EVIL in visitor.locator(".note").inner_text()
    assert visitor.locator("#round-table tbody tr").count() == 5
    visitor.click("#next-round")
    visitor.wait_for_selector(f"#round-panel:not([data-round-id='{chosen}'])")
    assert urlsplit(visitor.url).path == f"/s/{snapshot.link_id}/"
    visitor.click("#view-tabs a[data-view=jitter]")
    visitor.wait_for_url(re.compile(r"view=jitter"))
    visitor.wait_for_selector("#timeline canvas")
    assert all(p.startswith((f"/s/{snapshot.link_id}/", "/static/")) for p in requests), requests
    assert any(p == f"/s/{snapshot.link_id}/results" for p in requests)
    assert SnapshotVisit.objects.filter(snapshot=snapshot).count() == 1  # data requests are not visits
    visitor.screenshot(path=str(artifacts / "share-page.png"), full_page=True)

    # A comment from the visitor: shown as text, and the creator's e-mail arrives once the outbox is delivered.
    visitor.fill(".comment-form input[name=name]", f"Visitor {EVIL}")
    visitor.fill(".comment-form textarea[name=body]", f"Seeing it too {EVIL}")
    visitor.click(".comment-form button[type=submit]")
    visitor.wait_for_selector(".comment")
    assert visitor.locator(".comment .author").inner_text() == f"Visitor {EVIL}"
    assert EVIL in visitor.locator(".comment-body").inner_text()
    assert smtp.messages == []  # nothing sent on the request
    assert deliver_due()["sent"] == 1
    [(to, message)] = smtp.recorder.received
    assert to == [cast.owner.user.email]
    assert "Seeing it too" in message.get_body(("plain",)).get_content()
    assert visitor.console_errors == []
    context.close()


def visits_order(page) -> list[str]:
    return page.locator("#snapshots-table tr.snapshot-row").evaluate_all("rows => rows.map(r => r.dataset.linkId)")


def test_sort_the_snapshots_table_both_ways_and_revoke_a_link(live_server, page, browser, cast, artifacts, settings):
    settings.BASE_URL = live_server.url
    base = live_server.url
    anchor = 1795338000
    edge = make_test(cast.owner, name="edge", interval=60)
    shop = make_test(cast.owner, "http-server", name="shop", interval=60)
    seed(edge, agents=2, hours=3, random_seed=1, now=anchor + 3600)
    seed(shop, agents=2, hours=3, random_seed=2, now=anchor + 3600)
    quiet = make_snapshot(cast.owner, edge, anchor=anchor, display_name="quiet")
    busy = make_snapshot(cast.owner, shop, anchor=anchor - 3600, display_name="busy", position="ending")
    other = make_snapshot(cast.teammate, edge, anchor=anchor - 1800, display_name=f"by Tom {EVIL}")
    for snapshot, count in ((quiet, 1), (busy, 7), (other, 3)):
        three_hours_ago = timezone.now() - timedelta(hours=3, minutes=5)
        SnapshotVisit.objects.bulk_create(
            [SnapshotVisit(snapshot=snapshot, ip="198.51.100.3", date=three_hours_ago) for _ in range(count)]
        )

    sign_in(page, base, cast.owner.user.email)
    page.click("nav.mainnav >> text=Sharing")
    page.wait_for_selector("#snapshots-table")
    page.click("#snapshots-table th[data-column=visits] a")
    page.wait_for_selector("#snapshots-table th[data-column=visits][aria-sort=descending]")
    assert visits_order(page) == [busy.link_id, other.link_id, quiet.link_id]
    page.click("#snapshots-table th[data-column=visits] a")
    page.wait_for_selector("#snapshots-table th[data-column=visits][aria-sort=ascending]")
    # Tests by their total visits (edge 4, shop 7), and inside a test its links by their own visits.
    assert visits_order(page) == [quiet.link_id, other.link_id, busy.link_id]

    # The test with two snapshots expands to tell its links apart; a row expands to its link, visits and settings.
    group = page.locator("tr.group-row [data-toggle]")
    assert page.locator(f"tr[data-link-id='{quiet.link_id}']").is_hidden()
    group.click()
    assert page.locator(f"tr[data-link-id='{quiet.link_id}']").is_visible()
    assert EVIL in page.locator(f"tr[data-link-id='{other.link_id}'] .display-name").inner_text()
    page.click(f"tr[data-link-id='{quiet.link_id}'] [data-toggle]")
    detail = page.locator(f"tr[data-detail-for='{quiet.link_id}']")
    assert detail.is_visible() and f"/s/{quiet.link_id}/" in detail.inner_text()
    assert "198.51.100.3" in detail.inner_text() and "3\xa0hours ago" in detail.inner_text()
    page.screenshot(path=str(artifacts / "sharing-snapshots.png"), full_page=True)

    # Revoking asks first (in the page, confirm.js), saying it cannot be undone; then the link is 404.
    detail.locator("button.trash").click()
    expect(page.locator("dialog.confirm-dialog .confirm-message")).to_contain_text("cannot be undone")
    expect(page.locator("dialog.confirm-dialog .confirm-ok")).to_have_text("Revoke")
    page.locator("dialog.confirm-dialog .confirm-ok").click()
    page.wait_for_selector(".flash")
    assert not Snapshot.objects.filter(id=quiet.id).exists()
    assert quiet.link_id not in page.content()
    context, visitor = new_page(browser)
    assert visitor.goto(f"{base}/s/{quiet.link_id}/").status == 404
    assert visitor.goto(f"{base}/s/{busy.link_id}/").status == 200
    context.close()
    assert page.console_errors == []
