"""An anonymized snapshot in a real browser: the owner ticks "Anonymize agents and internal hops" in the share panel,
and the link, opened signed out, shows "Agent 1" and "Hop 1" where the agents' names and the branch's routers were —
in the round table, the per-agent chart lines and the drawn path — and none of the originals."""

import re

import pytest

from spyglass.monitoring.models import Agent, NetResult
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot
from tests.conftest import make_test
from tests.path_helpers import write_traces

from .conftest import new_page, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PATH = ["10.1.2.1", "10.20.0.1", "198.18.3.1", "198.18.9.2"]
HIDDEN = ("corp-nyc-branch-7", "corp-sfo-hq-2", "10.1.2.1", "10.20.0.1", "10.1.2.3", "10.9.8.7")


def test_tick_the_box_share_and_open_the_link_signed_out(live_server, page, browser, cast, artifacts, settings):
    settings.BASE_URL = base = live_server.url
    test = make_test(cast.owner, "agent-to-server", name="Corp edge", interval=60, numPathTraces=0)
    seed(test, agents=2, hours=2, random_seed=7)
    agents = list(Agent.objects.filter(tests=test).order_by("id"))
    rounds = sorted(set(NetResult.objects.filter(test=test).values_list("round_id", flat=True)))
    for agent, name, address in zip(agents, HIDDEN[:2], ("10.1.2.3", "10.9.8.7"), strict=True):
        agent.name, agent.ip_addresses = name, [address]
        agent.save()
        write_traces(test, [agent], rounds[-5:], addresses=PATH, source=address)

    sign_in(page, base, cast.owner.user.email)
    page.goto(f"{base}/tests/{test.id}/")
    page.wait_for_selector("#timeline canvas")
    page.click("#share-button")
    page.wait_for_selector("#share-window-preview span")
    page.select_option("#share-position", "ending")
    page.check("#share-anonymize")
    page.click("#share-link-button")
    page.wait_for_selector("#share-done")
    snapshot = Snapshot.objects.get()
    assert snapshot.anonymized
    link = page.locator("#share-link").inner_text().strip()
    assert link == f"{base}/s/{snapshot.link_id}/"

    context, visitor = new_page(browser)  # signed out
    try:
        visitor.goto(link)
        visitor.wait_for_selector("#timeline canvas")
        cells = visitor.locator("#round-panel th[scope=row].agent-cell")
        assert sorted(cells.all_inner_texts()) == ["Agent 1", "Agent 2"]
        visitor.click("#agent-lines")  # the chart's per-agent lines, fetched from the link
        visitor.wait_for_selector("#agent-lines[aria-pressed=true]")
        visitor.click("#view-tabs a[data-view=path-vis]")
        visitor.wait_for_url(re.compile(r"view=path-vis"))
        visitor.wait_for_selector("#path-graph svg")
        graph = visitor.locator("#path-vis").inner_text()
        assert "Hop 1" in graph and "Agent 1" in graph and "198.18.3.1" in graph
        visitor.locator("#path-vis").screenshot(path=str(artifacts / "anonymized-path-view.png"))
        html = visitor.content()
        for secret in HIDDEN:
            assert secret not in html, secret
        assert visitor.console_errors == []
    finally:
        context.close()
