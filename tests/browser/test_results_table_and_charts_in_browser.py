"""The results table and timeline in Chromium (issues 22 and 27): the agent column fixed while the table scrolls in
its focusable box, the error column in view, errors on their own axis, the share page on a phone, one round drawn as
a point, periods keeping the round, the legend and hover in 24-hour UTC, the chart's text alternative, per-agent
lines, keyboard sorting and round selection, focus after a change and the polite live region."""

import json
import re
import time

import pytest

from spyglass.lib.rounds import round_of
from spyglass.monitoring import results
from spyglass.monitoring.seed import seed
from tests.conftest import make_agent, make_snapshot, make_test
from tests.web_support import http_row, net_rows

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC
UTC_LABEL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")


def chart_data(page) -> dict:
    return json.loads(page.locator("#timeline").get_attribute("data-chart"))


def selected(page) -> str:
    return page.locator("#round-panel").get_attribute("data-round-id")


def status_text(page) -> str:
    return page.locator("#results-status").inner_text().strip()


def wait_status(page, pattern: str):
    page.wait_for_function(
        "p => new RegExp(p).test(document.getElementById('results-status').textContent)", arg=pattern
    )


def http_test(cast, agents=6, hours=3):
    test = make_test(cast.owner, "http-server", name="Shop front", interval=60)
    seed(test, agents=agents, hours=hours, random_seed=11)
    return test


def test_the_agent_column_stays_put_while_the_table_scrolls_in_its_focusable_box(live_server, page, cast, artifacts):
    test = http_test(cast)
    sign_in(page, live_server.url, cast.owner.user.email)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/tests/{test.id}/?view=response-time")
    page.wait_for_selector("#timeline canvas")
    box = page.locator(".round-panel .table-scroll")
    assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
    assert box.get_attribute("aria-label")
    # The error column comes right after the agent and the View's metric: in view without scrolling.
    heads = page.locator("#round-table thead th").all_inner_texts()
    assert [h.strip().lower().rstrip(" ▲▼") for h in heads[:3]] == ["agent", "response time (ms)", "error"]
    frame = box.bounding_box()
    error_head = page.locator("#round-table thead th >> nth=2").bounding_box()
    assert error_head["x"] + error_head["width"] <= frame["x"] + frame["width"]

    # Narrower: the table scrolls inside its box, the agent column does not move, the others do.
    page.set_viewport_size({"width": 900, "height": 900})
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 900
    agent = page.locator("#round-table tbody th[scope=row] >> nth=0")
    location = page.locator("#round-table tbody tr >> nth=0").locator("td >> nth=2")
    agent_before, location_before = agent.bounding_box(), location.bounding_box()
    box.evaluate("b => { b.scrollLeft = 300; }")
    page.wait_for_function("() => document.querySelector('.round-panel .table-scroll').scrollLeft > 0")
    assert agent.bounding_box()["x"] == agent_before["x"]
    assert location.bounding_box()["x"] < location_before["x"] - 100
    # The box takes focus from the keyboard (axe: scrollable-region-focusable) and arrow keys scroll it.
    box.focus()
    assert page.evaluate("document.activeElement.classList.contains('table-scroll')")
    page.screenshot(path=str(artifacts / "results-table-scrolled.png"), full_page=True)
    assert page.console_errors == []


def test_agents_with_errors_have_their_own_labelled_integer_axis(live_server, page, cast):
    test = make_test(cast.owner, "http-server", name="Errors", interval=60)
    agents = [make_agent(cast.owner, name) for name in ("Amsterdam", "Berlin", "Chicago")]
    rows = []
    now = round_of(time.time(), 60) - 60
    for i, round_id in enumerate(range(now - 600, now + 1, 60)):
        for j, agent in enumerate(agents):
            failed = j < i % 3  # 0, 1 or 2 agents with an error
            rows.append(
                http_row(
                    test, agent, round_id, response_time=280.0 + j, **({"error_type": "Connect"} if failed else {})
                )
            )
    results.upsert("http", rows)
    sign_in(page, live_server.url, cast.owner.user.email)
    page.goto(f"{live_server.url}/tests/{test.id}/?view=response-time&period=1h")
    page.wait_for_selector("#timeline canvas")
    axis = page.evaluate(
        """() => {
          const u = document.getElementById('timeline').uplot;
          const a = u.axes.find((x) => x.scale === 'errors');
          return {label: a.label, side: a.side, show: a.show !== false, min: u.scales.errors.min,
                  max: u.scales.errors.max, ymax: u.scales.y.max,
                  onePx: u.valToPos(1, 'errors'), twoPx: u.valToPos(2, 'errors'), bottom: u.valToPos(0, 'errors'),
                  splits: a._splits};
        }"""
    )
    assert axis["label"] == "Agents with errors" and axis["side"] == 1 and axis["show"]
    assert axis["min"] == 0 and axis["max"] == 2  # its own scale: counts, not 280 ms
    assert axis["ymax"] > 200
    assert axis["twoPx"] < axis["onePx"] < axis["bottom"]  # 1 agent is half way up, not at the bottom
    assert all(float(s).is_integer() for s in axis["splits"])
    assert page.console_errors == []


def test_one_round_is_drawn_as_a_point_and_the_legend_shows_the_selected_rounds_values(live_server, page, cast):
    test = make_test(cast.owner, name="Lonely", interval=60)
    agent = make_agent(cast.owner, "Amsterdam")
    only = round_of(time.time(), 60) - 60
    net_rows(test, {agent: (0.0, 42.0, 1.0)}, only)
    sign_in(page, live_server.url, cast.owner.user.email)
    page.goto(f"{live_server.url}/tests/{test.id}/?view=latency")
    page.wait_for_selector("#timeline canvas")
    colour = page.evaluate(
        """(round) => {
          const u = document.getElementById('timeline').uplot;
          const x = Math.round(u.valToPos(round, 'x', true)), y = Math.round(u.valToPos(42, 'y', true));
          return Array.from(u.ctx.getImageData(x, y, 1, 1).data);
        }""",
        only,
    )
    r, g, b, a = colour
    assert a > 200 and b > 150 and r < 120  # the series' blue, not the white of an empty plot
    # Nothing hovered: the legend reads the selected round, never "--".
    values = page.locator(".u-legend .u-value").all_inner_texts()
    assert "--" not in values and "42.00 ms" in values
    assert UTC_LABEL.match(values[0])
    assert page.console_errors == []


def test_hover_shows_24_hour_utc_and_per_agent_lines_name_the_agents(live_server, page, cast):
    test = make_test(cast.owner, name="Edge", interval=60)
    seed(test, agents=3, hours=2, random_seed=4)
    sign_in(page, live_server.url, cast.owner.user.email)
    page.goto(f"{live_server.url}/tests/{test.id}/?view=latency&period=1h")
    page.wait_for_selector("#timeline canvas")
    over = page.locator("#timeline .u-over").bounding_box()
    page.mouse.move(over["x"] + over["width"] * 0.9, over["y"] + over["height"] / 2)
    hovered = page.locator(".u-legend .u-value >> nth=0").inner_text()
    assert UTC_LABEL.match(hovered) and not re.search(r"am|pm", hovered, re.I)

    page.click("#agent-lines")
    page.wait_for_selector("#agent-lines[aria-pressed=true]")
    labels = page.locator(".u-legend .u-label").all_inner_texts()
    names = sorted({n for n in page.locator("#round-table tbody th[scope=row]").all_inner_texts()})
    assert sorted(label for label in labels if label in names) == names
    page.mouse.move(over["x"] + over["width"] * 0.5, over["y"] + over["height"] / 2)
    assert all(v != "--" for v in page.locator(".u-legend .u-value").all_inner_texts())
    # Hovering an agent's line names that agent.
    spot = page.evaluate(
        """() => {
          const u = document.getElementById('timeline').uplot;
          const series = u.data[1];
          const idx = series.findIndex((v, i) => v !== null && i > series.length / 2);
          return {x: u.valToPos(u.data[0][idx], 'x'), y: u.valToPos(series[idx], 'y'), name: u.series[1].label};
        }"""
    )
    page.mouse.move(over["x"] + spot["x"], over["y"] + spot["y"])
    page.wait_for_selector("#agent-hover:not([hidden])")
    assert page.locator("#agent-hover").inner_text() == spot["name"]
    page.click("#agent-lines")
    page.wait_for_selector("#agent-lines[aria-pressed=false]")
    assert "Latency" in page.locator(".u-legend .u-label").all_inner_texts()
    assert page.console_errors == []


def test_the_chart_has_a_text_summary_a_table_and_a_keyboard_way_to_select_rounds(live_server, page, cast):
    test = make_test(cast.owner, name="Edge", interval=60)
    seed(test, agents=3, hours=2, random_seed=4)
    sign_in(page, live_server.url, cast.owner.user.email)
    page.goto(f"{live_server.url}/tests/{test.id}/?view=latency&period=1h")
    page.wait_for_selector("#timeline canvas")
    chart = page.locator("#timeline")
    described = chart.get_attribute("aria-describedby").split()
    assert page.locator(f"#{described[0]}").inner_text().startswith("Latency, average across agents, over 60 rounds")
    assert "arrow keys" in page.locator(f"#{described[1]}").inner_text()

    page.click("#chart-table > summary")
    page.locator("#chart-table tbody tr").first.wait_for()  # the rows are filled on the "toggle" event
    assert page.locator("#chart-table tbody tr").count() == len(chart_data(page)["rounds"])

    first = selected(page)
    chart.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("(r) => document.getElementById('round-panel').dataset.roundId !== r", arg=first)
    assert int(selected(page)) == int(first) - 60
    wait_status(page, r"^Round \d{4}-\d\d-\d\d \d\d:\d\d UTC selected$")
    assert page.evaluate("document.activeElement.id") == "timeline"  # focus stays on the chart
    page.keyboard.press("Home")
    page.wait_for_function(
        "(r) => document.getElementById('round-panel').dataset.roundId === r", arg=str(chart_data(page)["rounds"][0])
    )
    assert page.console_errors == []


def test_sorting_by_keyboard_and_focus_and_announcements_after_view_and_round_changes(live_server, page, cast):
    test = http_test(cast, agents=4, hours=1)
    sign_in(page, live_server.url, cast.owner.user.email)
    page.goto(f"{live_server.url}/tests/{test.id}/?view=availability")
    page.wait_for_selector("#timeline canvas")

    # The sortable headers are buttons, reached with Tab from the table's box.
    page.locator(".round-panel .table-scroll").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('th').textContent.trim()") == "Agent"
    names = page.locator("#round-table tbody th[scope=row]").all_inner_texts()
    page.keyboard.press("Enter")  # Agent was ascending: now descending
    assert page.locator("#round-table th >> nth=0").get_attribute("aria-sort") == "descending"
    assert page.locator("#round-table tbody th[scope=row]").all_inner_texts() == sorted(names, reverse=True)
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.locator("#round-table th >> nth=1").get_attribute("aria-sort") == "ascending"
    assert page.locator("#round-table th[aria-sort]").count() == 1
    wait_status(page, "^Sorted by")

    # A View switch by keyboard: focus stays on the (new) tab of that View, and the change is announced.
    round_before = selected(page)
    page.focus("#view-tabs a[data-view=response-time]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-tabs a.active[data-view=response-time]")
    wait_status(page, "^View: Response Time")
    assert page.evaluate("document.activeElement.dataset.view") == "response-time"
    assert selected(page) == round_before

    # Previous round: focus stays on the Previous button, the round is announced.
    page.focus("#prev-round")
    page.keyboard.press("Enter")
    page.wait_for_function("(r) => document.getElementById('round-panel').dataset.roundId !== r", arg=round_before)
    wait_status(page, r"^Round \d{4}-\d\d-\d\d \d\d:\d\d UTC selected$")
    assert page.evaluate("document.activeElement.id") == "prev-round"
    # Next back to the newest round: no Next button there any more, so focus moves to the round's heading.
    page.focus("#next-round")
    page.keyboard.press("Enter")
    page.wait_for_function("(r) => document.getElementById('round-panel').dataset.roundId === r", arg=round_before)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'round-heading'")
    assert page.console_errors == []


def test_changing_the_period_keeps_the_selected_round_when_it_is_inside(live_server, page, cast):
    test = make_test(cast.owner, name="Edge", interval=60)
    seed(test, agents=2, hours=8, random_seed=4)
    sign_in(page, live_server.url, cast.owner.user.email)
    page.goto(f"{live_server.url}/tests/{test.id}/?view=latency&period=24h")
    page.wait_for_selector("#timeline canvas")
    rounds = chart_data(page)["rounds"]
    older = rounds[-180]  # three hours back: inside 6 h, outside 1 h
    page.goto(f"{live_server.url}/tests/{test.id}/?view=latency&period=24h&roundId={older}")
    page.wait_for_selector("#timeline canvas")
    page.focus(".periods a[data-period='6h']")
    page.keyboard.press("Enter")
    page.wait_for_selector(".periods a.active[data-period='6h']")
    assert selected(page) == str(older)
    assert f"roundId={older}" in page.url and "period=6h" in page.url
    assert page.evaluate("document.activeElement.dataset.period") == "6h"
    wait_status(page, "^Period: 6 hours")
    # The last hour does not hold it: that period opens at its latest round.
    page.click(".periods a[data-period='1h']")
    page.wait_for_selector(".periods a.active[data-period='1h']")
    assert int(selected(page)) == chart_data(page)["rounds"][-1]
    assert page.console_errors == []


def test_the_share_page_fits_a_phone_and_a_tap_selects_a_round(live_server, browser, cast, artifacts):
    test = make_test(cast.owner, "http-server", name="Shop front with a rather long name", interval=60)
    seed(test, agents=5, hours=4, random_seed=5, now=ROUND + 3600)
    snapshot = make_snapshot(cast.owner, test, hours=2, anchor=ROUND, position="ending")
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live_server.url}/s/{snapshot.link_id}/")
        page.wait_for_selector("#timeline canvas")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        assert "ending at 2026-11-22 09:00 UTC" in page.locator(".share-header .snapshot-date").inner_text()
        # Header and View bar wrap inside the screen.
        for selector in (".topbar", ".share-header", "#view-tabs", "#timeline", ".round-panel"):
            box = page.locator(selector).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
        # The table scrolls in its box with the agent column fixed.
        box = page.locator(".round-panel .table-scroll")
        assert box.evaluate("b => b.scrollWidth > b.clientWidth")
        agent = page.locator("#round-table tbody th[scope=row] >> nth=0")
        before = agent.bounding_box()["x"]
        box.evaluate("b => { b.scrollLeft = 250; }")
        page.wait_for_function("() => document.querySelector('.round-panel .table-scroll').scrollLeft > 0")
        assert agent.bounding_box()["x"] == before
        page.screenshot(path=str(artifacts / "share-page-phone.png"), full_page=True)
        # A tap on the chart selects the round under the finger.
        first = selected(page)
        page.locator("#timeline").scroll_into_view_if_needed()
        over = page.locator("#timeline .u-over").bounding_box()
        page.touchscreen.tap(over["x"] + over["width"] * 0.2, over["y"] + over["height"] / 2)
        page.wait_for_function("(r) => document.getElementById('round-panel').dataset.roundId !== r", arg=first)
        data = chart_data(page)
        expected = data["start"] + 0.2 * (data["end"] - data["start"])
        assert abs(int(selected(page)) - expected) <= 0.05 * (data["end"] - data["start"])
        assert errors == []
    finally:
        context.close()
