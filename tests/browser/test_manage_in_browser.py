"""Managing things in a real browser: the in-page confirmation (never the browser's confirm()), dashboard widgets
reordered by drag and drop and by the keyboard, and Sharing › Live Shares (accept, decline, drop, revoke)."""

import pytest
from playwright.sync_api import expect

from spyglass.accounts.models import AccountGroup
from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboards
from spyglass.liveshares import services as liveshares
from spyglass.liveshares.models import LiveShare
from tests.conftest import make_test

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def no_native_dialogs(page) -> list:
    """Every alert/confirm/prompt the page opens; the test asserts there are none (dismissed if any appear)."""
    opened = []

    def seen(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)
    return opened


def board_with(cast, names) -> list[int]:
    owner = access_for(cast.owner.user, None)
    board = dashboards.default_dashboard(owner)
    return [
        dashboards.add_widget(owner, board, make_test(cast.owner, name=name).id, "latency", 3600).id for name in names
    ]


def order_in_db(cast) -> list[int]:
    board = dashboards.default_dashboard(access_for(cast.owner.user, None))
    return list(board.widgets.order_by("position").values_list("id", flat=True))


def order_on_page(page) -> list[int]:
    return [int(i) for i in page.eval_on_selector_all("ol.widgets > li", "items => items.map(i => i.dataset.widgetId)")]


def test_the_confirmation_is_a_dialog_in_the_page_cancel_changes_nothing_confirm_does_it(
    live_server, page, cast, artifacts
):
    base = live_server.url
    a, b = board_with(cast, ["alpha <one>", "beta"])
    native = no_native_dialogs(page)
    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/dashboard/")

    remove = page.locator(f"#remove-{a}")
    remove.click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".confirm-message")).to_have_text(
        "Remove the widget “alpha <one> · Latency” from the dashboard?"
    )
    expect(dialog.locator(".confirm-ok")).to_have_text("Remove")
    expect(dialog.locator(".confirm-cancel")).to_be_focused()
    page.screenshot(path=str(artifacts / "confirm-dialog.png"))

    # Escape cancels: the dialog closes, focus returns to the button, nothing is removed.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(remove).to_be_focused()
    # The Cancel button too.
    remove.click()
    dialog.locator(".confirm-cancel").click()
    expect(dialog).to_be_hidden()
    expect(remove).to_be_focused()
    assert order_in_db(cast) == [a, b]
    page.reload()
    assert order_on_page(page) == [a, b]

    # Confirming removes it.
    page.locator(f"#remove-{a}").click()
    page.locator("dialog.confirm-dialog .confirm-ok").click()
    expect(page.locator(f"#widget-{a}")).to_have_count(0)
    assert order_in_db(cast) == [b]
    assert native == [] and page.console_errors == []


def test_a_plain_form_asks_in_the_page_before_revoking_a_live_share(live_server, page, cast, artifacts):
    base = live_server.url
    test = make_test(cast.owner, name="checkout")
    share = liveshares.create(access_for(cast.owner.user, None), test.id, aid=AccountGroup.objects.get(name="Dev").id)
    native = no_native_dialogs(page)
    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/sharing/live-shares/")

    revoke = page.locator(f'tr[data-share-id="{share.id}"] .revoke-share')
    revoke.click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".confirm-message")).to_contain_text("Stop sharing “checkout” with Dev?")
    expect(dialog.locator(".confirm-ok")).to_have_text("Revoke")
    expect(dialog.locator(".confirm-cancel")).to_be_focused()
    dialog.locator(".confirm-cancel").click()
    expect(dialog).to_be_hidden()
    expect(revoke).to_be_focused()
    assert page.url == f"{base}/sharing/live-shares/"
    assert LiveShare.objects.filter(id=share.id).exists()

    revoke.click()
    page.locator("dialog.confirm-dialog .confirm-ok").click()
    expect(page.locator(".flash")).to_contain_text("Stopped sharing “checkout” with Dev.")
    expect(page.locator(f'tr[data-share-id="{share.id}"]')).to_have_count(0)
    assert not LiveShare.objects.filter(id=share.id).exists()
    assert native == [] and page.console_errors == []


def drag(page, source, target):
    """Press on `source`, move in small steps to the upper part of `target`, release (SortableJS's pointer mode)."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 20, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 30, start["y"] + start["height"] / 2 + 5, steps=5)
    page.mouse.move(end["x"] + 20, end["y"] + 4, steps=20)
    page.mouse.up()


def test_a_widget_dragged_to_the_front_stays_there_after_a_reload(live_server, page, cast, artifacts):
    base = live_server.url
    a, b, c = board_with(cast, ["alpha", "beta", "gamma"])
    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/dashboard/")
    expect(page.locator("#widgets-hint")).to_be_visible()

    assert page.evaluate("() => Boolean(Sortable.get(document.querySelector('ol.widgets')))")
    drag(page, page.locator(f"#widget-{c} .widget-sub"), page.locator(f"#widget-{a} .widget-head"))
    # The board comes back from the server in the saved order (its move buttons follow it).
    expect(page.locator(f"#move-up-{c}")).to_be_disabled()
    assert order_on_page(page) == [c, a, b]
    assert order_in_db(cast) == [c, a, b]
    assert page.console_errors == []  # nothing the drag left behind is refused by the CSP when the board is swapped
    page.reload()
    assert order_on_page(page) == [c, a, b]
    page.screenshot(path=str(artifacts / "dashboard-dragged.png"))

    # The keyboard's way: Move down on the first widget, focus stays on the moved widget's button.
    page.locator(f"#move-down-{c}").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#move-up-{a}")).to_be_disabled()
    assert order_on_page(page) == [a, c, b]
    expect(page.locator(f"#move-down-{c}")).to_be_focused()
    assert order_in_db(cast) == [a, c, b]
    assert page.console_errors == []


def test_the_recipient_accepts_declines_and_drops_on_sharing_live_shares(live_server, page, cast, artifacts):
    base = live_server.url
    owner, dev = access_for(cast.owner.user, None), AccountGroup.objects.get(name="Dev")
    kept = make_test(cast.owner, name="payments <gw>")
    refused = make_test(cast.owner, name="billing")
    kept_share = liveshares.create(owner, kept.id, aid=dev.id)
    refused_share = liveshares.create(owner, refused.id, aid=dev.id)
    native = no_native_dialogs(page)

    sign_in(page, base, cast.other_group.user.email)
    page.click(".mainnav a:has-text('Sharing')")
    page.click("#live-shares-link")
    expect(page).to_have_url(f"{base}/sharing/live-shares/")
    incoming = page.locator("#incoming-shares")
    expect(incoming.locator("tr.live-share-row")).to_have_count(2)
    page.screenshot(path=str(artifacts / "live-shares-incoming.png"))

    # Decline one (asked in the page first), accept the other.
    incoming.get_by_role("button", name="Decline billing").click()
    page.locator("dialog.confirm-dialog .confirm-ok").click()
    expect(page.locator(f'tr[data-share-id="{refused_share.id}"] .live-share-state')).to_have_text("Declined")
    page.get_by_role("button", name="Accept payments <gw>").click()
    row = page.locator(f'tr[data-share-id="{kept_share.id}"]')
    expect(row.locator(".live-share-state")).to_have_text("Accepted")
    page.goto(f"{base}/tests/")
    expect(page.locator("#tests-table tbody tr", has_text="payments <gw>")).to_have_count(1)

    # Drop it: cancel first (nothing changes), then confirm.
    page.goto(f"{base}/sharing/live-shares/")
    drop = row.get_by_role("button", name="Drop payments <gw>")
    drop.click()
    page.locator("dialog.confirm-dialog .confirm-cancel").click()
    assert LiveShare.objects.get(id=kept_share.id).status == "accepted"
    drop.click()
    page.locator("dialog.confirm-dialog .confirm-ok").click()
    expect(row.locator(".live-share-state")).to_have_text("Dropped")
    expect(page.locator(".flash")).to_contain_text("Dropped “payments <gw>”")
    page.goto(f"{base}/tests/")
    expect(page.locator("#tests-table tbody tr", has_text="payments <gw>")).to_have_count(0)

    # The owner sees both outcomes.
    page.context.clear_cookies()
    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/sharing/live-shares/")
    outgoing = page.locator("#outgoing-shares")
    expect(outgoing.locator(f'tr[data-share-id="{kept_share.id}"] .live-share-state')).to_have_text("Dropped")
    expect(outgoing.locator(f'tr[data-share-id="{refused_share.id}"] .live-share-state')).to_have_text("Declined")
    page.screenshot(path=str(artifacts / "live-shares-outgoing.png"))
    assert native == [] and page.console_errors == []
