"""A 48 h period of a test with 50 agents at 60 s (144,000 results) renders from one aggregate query, small; later
views from the stored per-round rollups."""

import json
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spyglass.monitoring.seed import seed
from tests.conftest import make_test
from tests.web_support import signed_in

RESULT_TABLES = ("monitoring_netresult", "monitoring_httpresult", "monitoring_dnsresult")


@pytest.mark.slow  # a full-scale load: 144,000 rows seeded
def test_it_renders_48_hours_of_50_agents_from_one_aggregate_query_under_300_kb(cast, time_machine):
    # Seeding 144,000 rows takes seconds: hold the clock so the page's 48 h end where the seed's did.
    time_machine.move_to(1_795_000_030, tick=False)
    test = make_test(cast.owner, name="big", interval=60)
    assert seed(test, agents=50, hours=48, random_seed=1) == 144_000
    client = signed_in(cast.owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/tests/{test.id}/?period=48h&view=latency")
    assert response.status_code == 200
    page = response.content.decode()
    assert len(response.content) < 300 * 1024

    data = json.loads(unescape(re.search(r'data-chart="([^"]+)"', page).group(1)))
    assert len(data["rounds"]) == 2880 and len(data["values"][0]) == 2880
    assert page.count('data-agent-id="') == 50

    touching_results = [q["sql"] for q in queries if any(t in q["sql"] for t in RESULT_TABLES)]
    aggregates = [sql for sql in touching_results if "COUNT(DISTINCT" in sql.upper()]
    # The first view computes the period's hour rollups — one per-round aggregate and one of each hour's agents — and
    # reads the selected round's rows: nothing per round or per agent.
    assert len(aggregates) == 1 and len(touching_results) == 3, touching_results
    assert len(queries) <= 13, [q["sql"][:80] for q in queries]
    # A later view reads the stored rollups: of the results, only the selected round's rows.
    with CaptureQueriesContext(connection) as again:
        later = client.get(f"/tests/{test.id}/?period=48h&view=latency").content.decode()
    chart = re.compile(r'data-chart="[^"]+"|<tbody>.*</tbody>', re.S)
    assert chart.findall(later) == chart.findall(page)  # the same chart and the same round table
    touching_results = [q["sql"] for q in again if any(t in q["sql"] for t in RESULT_TABLES)]
    assert len(touching_results) == 1 and "GROUP BY" not in touching_results[0].upper(), touching_results
