"""v7 test results (network, HTTP server, DNS server, path visualization) through the official SDK against a
live server: windows, ISO dates, paging by cursor, refusals."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from thousandeyes_sdk.core.exceptions import ApiException
from thousandeyes_sdk.test_results import (
    DNSServerTestResultsApi,
    NetworkTestResultsApi,
    WebHTTPServerTestResultsApi,
)
from thousandeyes_sdk.test_results.models import Expand

from spyglass.monitoring.seed import seed
from tests.conftest import make_agent, make_test
from tests.path_helpers import write_traces

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def web(cast):
    test = make_test(cast.owner, "http-server", name="web", interval=60)
    seed(test, agents=3, hours=1, random_seed=7, now=time.time())
    return test


def test_http_results_over_a_window_follow_the_cursor_to_every_round(cast, web, v7, settings):
    settings.DATA_PAGE_ROWS = 10  # 3 agents a round: a page holds 3 rounds
    api = WebHTTPServerTestResultsApi(v7(cast.owner))
    first = api.get_test_http_server_results(str(web.id), window="30m")
    assert first.test.test_id == str(web.id) and first.test.type.value == "http-server"
    assert first.end_date - first.start_date == timedelta(minutes=30)
    assert len(first.results) == 9 and first.links.next is not None
    row = first.results[0]
    assert row.agent.agent_name and row.agent.agent_id.isdigit()
    assert isinstance(row.total_time, int) and isinstance(row.dns_time, int)  # whole milliseconds
    assert row.var_date.tzinfo is not None and row.links.app_link.href.startswith(settings.BASE_URL)
    assert row.headers is None  # only with expand=header
    every = list(api.get_test_http_server_results_paginated(test_id=str(web.id), window="30m"))
    rounds = sorted({r.round_id for r in every})
    assert 29 <= len(rounds) <= 31 and len(every) == 3 * len(rounds)
    assert len({(r.round_id, r.agent.agent_id) for r in every}) == len(every)  # no row twice across pages
    with_headers = api.get_test_http_server_results(str(web.id), window="5m", expand=[Expand.HEADER])
    assert with_headers.results[0].headers is not None


def test_network_and_dns_results_with_dates_and_one_server(cast, v7):
    dns = make_test(
        cast.owner,
        "dns-server",
        name="names",
        dnsServers=[{"serverName": "ns1.example.net"}, {"serverName": "ns2.example.net"}],
    )
    now = time.time()
    seed(dns, agents=2, hours=1, random_seed=3, now=now)
    end = datetime.fromtimestamp(now, UTC).replace(microsecond=0)
    start = end - timedelta(minutes=10)
    client = v7(cast.owner)
    network = NetworkTestResultsApi(client).get_test_network_results(str(dns.id), start_date=start, end_date=end)
    assert network.start_date == start and network.end_date == end
    assert network.results and all(start.timestamp() <= r.round_id <= end.timestamp() for r in network.results)
    assert all(isinstance(r.avg_latency, int | float) for r in network.results)
    servers = DNSServerTestResultsApi(client).get_test_dns_servers_results(str(dns.id), window="10m").results
    assert {r.server_id for r in servers} == {"1", "2"}
    assert all(isinstance(r.resolution_time, int) for r in servers if r.resolution_time is not None)
    one = DNSServerTestResultsApi(client).get_test_dns_server_result(str(dns.id), "2", window="10m").results
    assert one and {r.server_id for r in one} == {"2"}


def test_path_visualization_pages_the_traces_and_details_one_round(cast, v7, settings):
    settings.DATA_PAGE_ROWS = 3  # 2 agents a round: a page holds one round
    test = make_test(cast.owner, "agent-to-server", name="edge", server="example.com:443")
    agents = [make_agent(cast.owner, "Frankfurt"), make_agent(cast.owner, "Tokyo")]
    start = int(time.time()) // 60 * 60 - 600
    write_traces(test, agents, [start + 60 * i for i in range(4)])
    api = NetworkTestResultsApi(v7(cast.owner))
    every = list(api.get_test_path_vis_results_paginated(test_id=str(test.id), window="1h"))
    assert [(r.round_id, r.agent.agent_name) for r in every] == [
        (start + 60 * i, name) for i in range(4) for name in ("Frankfurt", "Tokyo")
    ]
    first = every[0]
    assert first.server_ip == "198.18.9.2" and first.source_ip == "198.18.0.2"
    assert len(first.path_traces) == 3 and first.path_traces[0].number_of_hops == 4
    assert isinstance(first.path_traces[0].response_time, int)
    detail = api.get_test_path_vis_agent_round_results(str(test.id), str(agents[1].id), str(start)).results
    (entry,) = detail
    assert entry.agent.agent_name == "Tokyo" and len(entry.path_traces) == 3
    hops = entry.path_traces[0].hops
    assert [h.hop for h in hops] == [1, 2, 3, 4] and hops[0].ip_address == "198.18.1.1" and hops[1].ip_address is None
    nothing = api.get_test_path_vis_agent_round_results(str(test.id), str(agents[1].id), str(start - 3600))
    assert nothing.results == []


def test_bad_ranges_and_other_tenants(cast, web, v7):
    api = WebHTTPServerTestResultsApi(v7(cast.owner))
    with pytest.raises(ApiException) as bad:
        api.get_test_http_server_results(str(web.id), window="forever")
    assert bad.value.status == 400 and bad.value.data.errors[0].var_field == "window"
    with pytest.raises(ApiException) as bad_cursor:
        api.get_test_http_server_results(str(web.id), cursor="not-a-cursor")
    assert bad_cursor.value.status == 400 and bad_cursor.value.data.errors[0].var_field == "cursor"
    for outsider in (cast.other_group, cast.other_org):
        with pytest.raises(ApiException) as hidden:
            WebHTTPServerTestResultsApi(v7(outsider)).get_test_http_server_results(str(web.id), window="1h")
        assert hidden.value.status == 404
    with pytest.raises(ApiException) as wrong_kind:  # an HTTP test has no DNS server results
        DNSServerTestResultsApi(v7(cast.owner)).get_test_dns_servers_results(str(web.id))
    assert wrong_kind.value.status == 404
