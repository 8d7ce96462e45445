"""The results page: rounds in the URL, views per type, the per-agent table, htmx fragments, and the component's
scope (a window and a subset of agents, read-only) that share links will reuse."""

import json
import re
import time
from datetime import UTC, datetime

from django.template.loader import render_to_string
from django.test import RequestFactory

from spyglass.lib.rounds import round_of
from spyglass.monitoring import results
from spyglass.monitoring.scope import ReadScope
from spyglass.results_ui.component import ResultsScope, page_context
from tests.conftest import make_agent, make_test
from tests.web_support import http_row, net_rows, signed_in

NOW = round_of(time.time(), 60)
R1, R2, R3 = NOW - 180, NOW - 120, NOW - 60


def chart(page: str) -> dict:
    raw = re.search(r'data-chart="([^"]+)"', page).group(1)
    import html

    return json.loads(html.unescape(raw))


def selected_round(page: str) -> int | None:
    found = re.search(r'id="round-panel" class="[^"]*" data-round-id="(\d*)"', page)
    return int(found.group(1)) if found and found.group(1) else None


def agent_cells(page: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-agent-id="\d+">\s*<th scope="row" class="agent-cell">([^<]+)</th>', page)


def network_test(cast):
    test = make_test(cast.owner, name="edge")
    a, b = make_agent(cast.owner, "Amsterdam"), make_agent(cast.owner, "Berlin")
    net_rows(test, {a: (0.0, 11.0, 1.0), b: (0.0, 22.0, 2.0)}, R1)
    net_rows(test, {a: (0.0, 13.0, 1.0), b: (100.0, None, None)}, R2, error_agents=[b])
    net_rows(test, {a: (5.0, 15.0, 1.5)}, R3)
    return test, a, b


def test_it_opens_on_the_latest_round_with_every_agents_row(cast):
    test, a, b = network_test(cast)
    page = signed_in(cast.owner).get(f"/tests/{test.id}/").content.decode()
    assert selected_round(page) == R3
    assert agent_cells(page) == ["Amsterdam"]
    data = chart(page)
    assert data["rounds"] == [R1, R2, R3] and data["values"] == [[0.0, 50.0, 5.0]] and data["errors"] == [0, 1, 0]
    assert 'id="share-button"' in page


def test_it_opens_the_round_and_view_named_in_the_url(cast):
    test, a, b = network_test(cast)
    page = signed_in(cast.owner).get(f"/tests/{test.id}/?roundId={R2}&view=latency").content.decode()
    assert selected_round(page) == R2
    assert agent_cells(page) == ["Amsterdam", "Berlin"]
    assert "Connect: Connection refused" in page  # the error spelled out
    assert re.search(
        r'<th scope="col" class="lead num"><button type="button" class="sort" data-sort="num">Avg latency \(ms\)</button></th>',
        page,
    )
    assert chart(page)["values"] == [[16.5, 13.0, 15.0]]
    # Views keep the round; previous and next rounds are links that keep the view.
    assert f'href="/tests/{test.id}/?roundId={R2}&amp;view=jitter&amp;period=24h"' in page
    assert f'id="prev-round" class="button" href="/tests/{test.id}/?roundId={R1}&amp;view=latency' in page
    assert f'id="next-round" class="button" href="/tests/{test.id}/?roundId={R3}&amp;view=latency' in page


def test_it_falls_back_to_defaults_for_unknown_views_and_rounds(cast):
    test, *_ = network_test(cast)
    client = signed_in(cast.owner)
    for query in (
        "?view=nope",
        "?roundId=12",
        "?roundId=abc",
        f"?roundId={R2 + 7}",
        "?period=99y",
        "?roundId=" + "9" * 40,
    ):
        response = client.get(f"/tests/{test.id}/{query}")
        assert response.status_code == 200, query
        assert selected_round(response.content.decode()) == R3, query


def test_it_answers_htmx_with_only_the_round_panel_and_fresh_view_tabs(cast):
    test, *_ = network_test(cast)
    response = signed_in(cast.owner).get(
        f"/tests/{test.id}/?roundId={R1}&view=jitter", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="round-panel"
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="round-panel"')
    assert selected_round(page) == R1 and "data-chart" not in page and "<html" not in page
    assert 'hx-swap-oob="true"' in page and f"roundId={R1}&amp;view=loss" in page
    assert "HX-Request" in response["Vary"]


def test_it_shows_the_views_of_http_and_dns_tests(cast):
    test = make_test(cast.owner, "http-server", name="shop")
    a = make_agent(cast.owner, "Amsterdam")
    results.upsert("http", [http_row(test, a, R3, error_type="Receive", error_details="content did not match")])
    client = signed_in(cast.owner)
    page = client.get(f"/tests/{test.id}/?view=phases").content.decode()
    assert [label for label in chart(page)["labels"]] == ["DNS", "Connect", "SSL", "Wait", "Receive"]
    for tab in ("Availability", "Response Time", "Throughput", "Phase Breakdown"):
        assert f">{tab}</a>" in page
    assert "Receive: content did not match" in page
    dns = make_test(cast.owner, "dns-server", name="apex")
    page = client.get(f"/tests/{dns.id}/").content.decode()
    assert ">Availability</a>" in page and ">Resolution Time</a>" in page and "No results" in page


def test_the_component_renders_a_read_only_window_of_chosen_agents(cast):
    """How a share link will use it: a fixed window, some agents, no Share button, nothing leading outside."""
    test, a, b = network_test(cast)
    allowed = ReadScope(source_test_id=test.id, agent_ids=frozenset({b.id}))
    scope = ResultsScope(test, allowed, R1, R2, "/s/abc/", read_only=True)
    request = RequestFactory().get("/s/abc/")
    context = page_context(scope, "latency", R3)  # a round outside the window is never shown
    page = render_to_string("results_ui/component.html", context, request=request)
    assert chart(page)["rounds"] == [R1, R2]
    assert selected_round(page) == R2
    assert agent_cells(page) == ["Berlin"]
    assert "Amsterdam" not in page and "share-button" not in page and "/tests/" not in page
    assert f'href="/s/abc/?roundId={R1}&amp;view=latency"' in page


def test_it_marks_the_agent_of_an_api_permalink(cast):
    test, a, b = network_test(cast)
    page = signed_in(cast.owner).get(f"/tests/{test.id}/?roundId={R1}&agentId={b.id}").content.decode()
    assert f'class=" row-highlight" data-agent-id="{b.id}"' in page
    assert f'class="" data-agent-id="{a.id}"' in page


def test_the_round_table_escapes_every_text_it_shows_and_marks_errors_and_the_permalinked_agent(cast):
    test = make_test(cast.owner, name="edge")
    hostile = make_agent(cast.owner, "<img src=x onerror=\"alert(1)\"> & 'co'", location="<b>Köln</b>")
    plain = make_agent(cast.owner, "Berlin")
    net_rows(test, {hostile: (100.0, None, None), plain: (0.0, 12.5, 1.0)}, R3, error_agents=[hostile])
    results.upsert(
        "net",
        [
            {
                "test_id": test.id,
                "agent_id": hostile.id,
                "round_id": R3,
                "date": datetime.fromtimestamp(R3, tz=UTC),
                "server_ip": '"><script>x</script>',
                "loss": 100.0,
                "error_type": "Connect",
                "error_details": "<i>refused</i> & gone",
            }
        ],
    )
    page = signed_in(cast.owner).get(f"/tests/{test.id}/?agentId={plain.id}").content.decode()
    table = re.search(r"<tbody>(.*)</tbody>", page, re.S).group(1)
    assert "<img" not in table and "<script" not in table and "<b>" not in table and "<i>" not in table
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#x27;co&#x27;" in table
    assert "&lt;b&gt;Köln&lt;/b&gt;" in table and "&quot;&gt;&lt;script&gt;x&lt;/script&gt;" in table
    assert "Connect: &lt;i&gt;refused&lt;/i&gt; &amp; gone" in table
    rows = re.findall(r'<tr class="([^"]*)" data-agent-id="(\d+)">', table)
    assert sorted(rows) == sorted([("row-error", str(hostile.id)), (" row-highlight", str(plain.id))])
    assert (
        f'data-agent-id="{plain.id}"><th scope="row" class="agent-cell">Berlin</th>'
        '<td data-value="0.0" class="lead num">0.00</td><td class="error-cell"></td>'
        '<td>Berlin <span class="muted">DE</span></td>' in table
    )  # the agent (a row header), then the loss View's loss, a number, then the error, then the location
