"""The results page in a real browser: sign in, open a test, pick rounds on the timeline, switch views, reload."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from spyglass.monitoring.seed import seed
from tests.conftest import make_test

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def table_rows(page) -> list[str]:
    return page.locator("#round-table tbody tr").all_inner_texts()


def click_timeline_at(page, fraction: float):
    box = page.locator("#timeline .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


def test_it_selects_rounds_switches_views_and_survives_a_reload(live_server, page, cast, artifacts):
    test = make_test(cast.owner, "agent-to-server", name="Edge <b>TCP</b>", interval=60)
    seed(test, agents=6, hours=24, random_seed=7)
    base = live_server.url

    sign_in(page, base, cast.owner.user.email)
    page.click(f"a[href='/tests/{test.id}/']")
    page.wait_for_selector("#timeline canvas")
    # The test name is shown as text, not markup.
    assert page.locator("h1").inner_text() == "Edge <b>TCP</b>"

    latest_round = page.locator("#round-panel").get_attribute("data-round-id")
    assert latest_round
    before = table_rows(page)
    assert len(before) == 6

    # Clicking the timeline early in the period selects an older round: the table and the URL follow.
    click_timeline_at(page, 0.25)
    page.wait_for_selector(f"#round-panel:not([data-round-id='{latest_round}'])")
    chosen = page.locator("#round-panel").get_attribute("data-round-id")
    # The round under the pointer, a quarter into the 24 h period.
    data = page.locator("#timeline").get_attribute("data-chart")
    window = json.loads(data)
    expected = window["start"] + 0.25 * (window["end"] - window["start"])
    assert abs(int(chosen) - expected) < 0.03 * (window["end"] - window["start"])
    assert query(page)["roundId"] == chosen
    assert table_rows(page) != before

    # Switching the View keeps the round.
    page.click("#view-tabs a[data-view=latency]")
    page.wait_for_url(re.compile(r"view=latency"))
    page.wait_for_selector("#timeline canvas")
    assert page.locator("#round-panel").get_attribute("data-round-id") == chosen
    assert query(page)["roundId"] == chosen
    assert page.locator("#round-table th.lead").inner_text().startswith("AVG LATENCY") or "latency" in (
        page.locator("#round-table th.lead").inner_text().lower()
    )

    # Next round moves one interval on.
    page.click("#next-round")
    page.wait_for_selector(f"#round-panel:not([data-round-id='{chosen}'])")
    after_next = page.locator("#round-panel").get_attribute("data-round-id")
    assert int(after_next) == int(chosen) + test.interval
    assert query(page)["roundId"] == after_next

    # A reload lands on the same round and View.
    page.reload()
    page.wait_for_selector("#timeline canvas")
    assert page.locator("#round-panel").get_attribute("data-round-id") == after_next
    assert page.locator("#view-tabs a.active").get_attribute("data-view") == "latency"

    # The left arrow key steps back one round.
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector(f"#round-panel:not([data-round-id='{after_next}'])")
    assert page.locator("#round-panel").get_attribute("data-round-id") == chosen

    # The Share button opens the sharing panel.
    page.click("#share-button")
    assert page.locator("#share-panel").is_visible()
    assert page.locator("#share-tab-snapshot").is_visible() and not page.locator("#share-tab-export").is_visible()
    page.click("#share-tab-export-button")
    assert page.locator("#share-tab-export").is_visible() and not page.locator("#share-tab-snapshot").is_visible()
    page.click("#share-tab-snapshot-button")
    page.screenshot(path=str(artifacts / "results-page-share-panel.png"))
    page.click("#share-panel [data-close-dialog] >> nth=0")

    page.screenshot(path=str(artifacts / "results-page.png"), full_page=True)
    assert page.console_errors == []


def test_it_sends_a_csp_without_unsafe_inline_and_the_page_runs_under_it(live_server, page, cast):
    test = make_test(cast.owner, "http-server", name="Web front", interval=60)
    seed(test, agents=3, hours=1, random_seed=3)
    sign_in(page, live_server.url, cast.owner.user.email)
    response = page.goto(f"{live_server.url}/tests/{test.id}/?view=phases")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    page.wait_for_selector("#timeline canvas")

    # Sorting by the lead column (total time): ascending on the first click, descending on the second.
    def lead_values():
        return [
            float(v)
            for v in page.locator("#round-table td.lead").evaluate_all("cells => cells.map(c => c.dataset.value)")
        ]

    page.click("#round-table th.lead")
    assert lead_values() == sorted(lead_values())
    page.click("#round-table th.lead")
    assert lead_values() == sorted(lead_values(), reverse=True)
    assert page.locator("#round-table th.lead").get_attribute("aria-sort") == "descending"
    assert page.console_errors == []


def test_it_answers_404_to_a_user_of_another_account_group(live_server, page, cast):
    test = make_test(cast.owner, "agent-to-server", name="Private edge", interval=60)
    seed(test, agents=2, hours=1, random_seed=1)
    sign_in(page, live_server.url, cast.other_group.user.email)
    response = page.goto(f"{live_server.url}/tests/{test.id}/")
    assert response.status == 404
    assert "Private edge" not in page.content()
