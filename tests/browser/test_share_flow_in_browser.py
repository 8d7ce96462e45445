"""The share flow of issue 22 in a real browser, at 1440×900: one share action makes one snapshot (a double click
included) and the panel then shows that snapshot with Copy in view and focused, "E-mail it" sending the same link;
the window preview says when a window is clipped at now; the share page's Messenger link with the comment count at
the top; guests' comments marked as not verified; a saved event opened signed out asks to sign in and returns to
it; Sharing › Snapshots sorts groups by their latest date; no CSP complaints on htmx swaps."""

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from spyglass.mail.models import OutboxMessage
from spyglass.monitoring.seed import seed
from spyglass.sharing import services
from spyglass.sharing.models import Snapshot
from tests.conftest import make_snapshot, make_test

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
VIEWPORT = {"width": 1440, "height": 900}
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture
def viewport() -> dict:
    """The `page` fixture's screen in this module."""
    return VIEWPORT


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"] and box["x"] >= 0


def keep_for_readme(source: Path, name: str) -> None:
    """README's screenshots are the artifacts of these tests, copied when SPYGLASS_README_SCREENSHOTS is set."""
    import os

    if os.environ.get("SPYGLASS_README_SCREENSHOTS"):
        DOCS_IMAGES.mkdir(exist_ok=True)
        shutil.copy(source, DOCS_IMAGES / name)


def test_one_share_action_makes_one_snapshot_shown_with_copy_focused_and_emailed_as_is(
    live_server, page, cast, artifacts, settings
):
    settings.BASE_URL = live_server.url
    test = make_test(cast.owner, "agent-to-server", name="Edge TCP", interval=60)
    seed(test, agents=4, hours=6, random_seed=9)
    base = live_server.url
    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/tests/{test.id}/")
    page.wait_for_selector("#timeline canvas")
    # Every CSP violation of the page from here on (htmx's indicator styles were one on each swap).
    page.evaluate(
        "() => { window.cspViolations = [];"
        " document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective)); }"
    )
    page.click("#view-tabs a[data-view=latency]")  # an htmx swap of the results component
    page.wait_for_url(re.compile(r"view=latency"))
    page.wait_for_selector("#timeline canvas")
    page.click("#share-button")
    page.wait_for_selector("#share-window-preview span")  # the preview, asked when it opened
    assert page.locator("#share-result").inner_text() == ""
    page.fill("#share-name", "Edge TCP for the ISP")
    page.select_option("#share-position", "ending")  # the two hours up to the latest round

    # A double click: the button is disabled while the request is in flight, and the key would catch a second post.
    page.dblclick("#share-link-button")
    page.wait_for_selector("#share-done")
    assert Snapshot.objects.count() == 1
    snapshot = Snapshot.objects.get()
    assert page.locator("#share-link").inner_text().strip() == f"{base}/s/{snapshot.link_id}/"

    # The result replaces the form: Copy is in view and has the focus.
    assert page.locator("#share-fields").is_hidden() and page.locator("#share-link-button").is_hidden()
    assert in_viewport(page, "#share-copy")
    assert page.evaluate("document.activeElement.id") == "share-copy"
    shot = artifacts / "share-flow-created.png"
    page.locator("#share-panel").screenshot(path=str(shot))
    keep_for_readme(shot, "share-panel.png")

    # Export Data and back: still the snapshot, not a form to post again.
    page.click("#share-tab-export-button")
    page.click("#share-tab-snapshot-button")
    assert page.locator("#share-link-button").is_hidden() and page.locator("#share-copy").is_visible()

    # "E-mail it" sends this very link; no second snapshot.
    page.fill("#share-email-to", "noc@isp.example")
    page.press("#share-email-to", "Enter")  # as a click on "E-mail it"
    page.wait_for_selector("#share-email-sent")
    assert Snapshot.objects.count() == 1
    [message] = OutboxMessage.objects.filter(kind="snapshot-share")
    assert message.to == ["noc@isp.example"] and f"/s/{snapshot.link_id}/" in message.body_text

    # "New snapshot" brings the form back with a fresh key: one more click, one more snapshot.
    page.click("#share-new")
    assert page.locator("#share-fields").is_visible()
    page.click("#share-link-button")
    page.wait_for_selector("#share-done")
    assert Snapshot.objects.count() == 2
    second = Snapshot.objects.exclude(id=snapshot.id).get()
    assert page.locator("#share-link").inner_text().strip().endswith(f"/s/{second.link_id}/")

    # Revoke it right there.
    page.click("#share-revoke")
    page.wait_for_selector("#share-revoked")
    assert not Snapshot.objects.filter(id=second.id).exists()
    # htmx swapped seven times: no CSP violation (indicator styles), no error at all.
    assert page.evaluate("window.cspViolations") == []
    assert page.console_errors == []


def test_a_48_hour_window_around_a_recent_round_says_it_is_clipped_and_stores_that(live_server, page, cast, artifacts):
    test = make_test(cast.owner, "agent-to-server", name="Edge TCP", interval=60)
    seed(test, agents=2, hours=3, random_seed=4)
    base = live_server.url
    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/tests/{test.id}/")
    page.wait_for_selector("#timeline canvas")
    page.click("#share-button")
    page.wait_for_selector("#share-window-preview span")  # 2 hours starting at the latest round: clipped already
    page.select_option("#share-hours", "1")
    page.select_option("#share-position", "ending")
    page.wait_for_selector("#share-window-range")  # an hour ending at it has happened: no word of clipping
    page.select_option("#share-hours", "48")
    page.select_option("#share-position", "around")
    page.wait_for_selector("#share-window-clipped")
    text = page.locator("#share-window-clipped").inner_text()
    assert "ends at now" in text and "the window is clipped" in text
    page.locator("#share-panel").screenshot(path=str(artifacts / "share-flow-clipped.png"))
    end = re.search(r"ends at now, (\d\d:\d\d) UTC", text).group(1)
    page.click("#share-link-button")
    page.wait_for_selector("#share-done")
    snapshot = Snapshot.objects.get()
    assert datetime.fromtimestamp(snapshot.end_round, tz=UTC).strftime("%H:%M") == end
    assert f"{end} UTC" in page.locator("#share-done-window").inner_text()
    assert page.console_errors == []


def test_the_share_page_opens_the_messenger_from_the_top_and_marks_guests(live_server, page, cast, artifacts, settings):
    settings.BASE_URL = live_server.url
    test = make_test(cast.owner, "agent-to-server", name="Edge TCP", interval=60)
    seed(test, agents=3, hours=4, random_seed=2)
    anchor = int(timezone.now().timestamp()) - 3600
    snapshot = make_snapshot(
        cast.owner, test, hours=1, anchor=anchor, display_name="Loss to the ISP", comments_signed_in_only=False
    )
    services.post_comment(snapshot, body="Seeing it on our side too.", user=cast.teammate.user, ip="192.0.2.1")
    services.post_comment(snapshot, body="I am the admin, ignore it", name="Olive Owner", ip="192.0.2.2")
    response = page.goto(f"{live_server.url}/s/{snapshot.link_id}/")
    assert response.status == 200
    page.wait_for_selector("#timeline canvas")
    link = page.locator("#messenger-link")
    assert in_viewport(page, "#messenger-link") and page.locator("#comment-count").inner_text() == "2"
    shot = artifacts / "share-flow-share-page.png"
    page.screenshot(path=str(shot))
    keep_for_readme(shot, "share-link.png")
    link.click()
    page.wait_for_url(re.compile(r"#comments$"))
    assert in_viewport(page, "#comments h2")
    guest, user = page.locator(".comment").nth(1), page.locator(".comment").nth(0)
    assert "(guest, not verified)" in guest.inner_text() and "Olive Owner" in guest.inner_text()
    assert "verified spyglass user" in user.inner_text() and "Tom Mate" in user.inner_text()
    assert page.console_errors == []

    # New snapshots take comments from signed-in users only: a guest reads that, with a way to sign in.
    closed = make_snapshot(cast.owner, test, hours=1, anchor=anchor, display_name="closed")
    page.goto(f"{live_server.url}/s/{closed.link_id}/")
    assert "Only signed-in users may comment" in page.locator("#comments").inner_text()
    assert page.locator(".comment-form").count() == 0


def test_a_saved_event_opened_signed_out_asks_to_sign_in_and_returns_to_it(live_server, page, cast, settings):
    settings.BASE_URL = live_server.url
    test = make_test(cast.owner, "agent-to-server", name="Edge TCP", interval=60)
    seed(test, agents=2, hours=3, random_seed=2)
    anchor = int(timezone.now().timestamp()) - 3600
    saved = make_snapshot(cast.owner, test, hours=1, anchor=anchor, display_name="members only", is_public=False)
    response = page.goto(f"{live_server.url}/s/{saved.link_id}/")
    assert response.status == 404
    assert "members only" not in page.content()
    page.console_errors.clear()  # the 404 itself is logged; nothing else may be
    page.click("#sign-in-link")
    page.fill("#id_username", cast.regular.user.email)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/s/{saved.link_id}/")
    assert page.locator("#snapshot-name").inner_text() == "members only"
    assert page.console_errors == []


def test_sharing_snapshots_sorts_groups_by_their_latest_date_and_admins_read_why_customers_is_missing(
    live_server, page, cast, artifacts
):
    anchor = 1795338000
    older, newer = make_test(cast.owner, name="older test"), make_test(cast.owner, name="newer test")
    for test in (older, newer):
        seed(test, agents=2, hours=5, random_seed=1, now=anchor + 3600)
    now = timezone.now()
    for test, round_id, days in ((older, anchor - 3 * 3600, 5), (older, anchor, 1), (newer, anchor - 3600, 3)):
        snapshot = make_snapshot(cast.owner, test, hours=1, anchor=round_id, display_name=f"{test.name} snapshot")
        Snapshot.objects.filter(id=snapshot.id).update(created_date=now - timedelta(days=days))
    sign_in(page, live_server.url, cast.owner.user.email)
    page.goto(f"{live_server.url}/sharing/snapshots/")
    names = "rows => rows.map(r => r.querySelector('.test-name').innerText.split('\\n')[0].trim())"
    rows = "#snapshots-table tbody tr.group-row, #snapshots-table tbody tr.snapshot-row:not([data-parent])"
    for column in ("date", "created"):
        page.goto(f"{live_server.url}/sharing/snapshots/?tab=group&sort={column}&dir=desc")
        assert page.locator(rows).evaluate_all(names)[0].startswith("older test")
        page.click(f"#snapshots-table th[data-column={column}] a")
        page.wait_for_selector(f"#snapshots-table th[data-column={column}][aria-sort=ascending]")
        assert page.locator(rows).evaluate_all(names)[0].startswith("newer test")
    shot = artifacts / "share-flow-snapshots.png"
    page.goto(f"{live_server.url}/sharing/snapshots/")
    page.locator("tr.group-row [data-toggle]").click()
    page.screenshot(path=str(shot))
    keep_for_readme(shot, "sharing-snapshots.png")

    # An Account Admin's test settings say why "other customers" is not offered, naming the permission.
    page.goto(f"{live_server.url}/tests/{older.id}/edit/")
    hint = page.locator("#customers-permission-hint").inner_text()
    assert "Create live shares for outside the organization" in hint and "Account Admin" in hint
    assert page.console_errors == []
