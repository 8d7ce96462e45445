"""v7 tests (list, get, create, update, delete of the three types) through the official SDK against a live server."""

import pytest
import thousandeyes_sdk.tests as te  # module imports: pytest would try to collect its Test* classes
from thousandeyes_sdk.core.exceptions import ApiException
from thousandeyes_sdk.tests import models as m

from tests.conftest import make_agent, make_test

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_http_server_test_created_reads_back_updates_and_deletes(cast, v7):
    agent = make_agent(cast.owner, "Office", agent_type="Enterprise")
    api = te.HTTPServerTestsApi(v7(cast.owner))
    created = api.create_http_server_test(
        m.HttpServerTestRequest(
            testName="shop",
            interval=m.TestInterval.NUMBER_300,
            url="https://shop.example.com/",
            agents=[m.TestAgentWithSourceIpRequest(agentId=str(agent.id))],
            followRedirects=False,
        )
    )
    assert created.test_name == "shop" and created.interval == m.TestInterval.NUMBER_300
    assert created.follow_redirects is False and created.enabled is True
    assert [a.agent_id for a in created.agents] == [str(agent.id)]
    assert created.created_date.tzinfo is not None
    assert created.links.var_self.href.endswith(f"/v7/tests/http-server/{created.test_id}")
    got = api.get_http_server_test(created.test_id)
    assert (got.url, got.auth_type.value, got.http_version) == ("https://shop.example.com/", "none", 2)
    listed = api.get_http_server_tests().tests
    assert [t.test_id for t in listed] == [created.test_id]
    updated = api.update_http_server_test(
        created.test_id,
        m.HttpServerTestRequest(
            testName="shop front", interval=m.TestInterval.NUMBER_60, url="https://shop.example.com/", agents=[]
        ),
    )
    assert (updated.test_name, updated.interval, updated.agents) == ("shop front", m.TestInterval.NUMBER_60, [])
    everything = te.TestsApi(v7(cast.owner)).get_tests().tests
    assert [(t.test_id, t.type.value) for t in everything] == [(created.test_id, "http-server")]
    api.delete_http_server_test(created.test_id)
    with pytest.raises(ApiException) as gone:
        api.get_http_server_test(created.test_id)
    assert gone.value.status == 404


def test_agent_to_server_and_dns_server_tests(cast, v7):
    client = v7(cast.owner)
    net = te.AgentToServerTestsApi(client).create_agent_to_server_test(
        m.AgentToServerTestRequest(
            testName="edge", interval=m.TestInterval.NUMBER_60, server="edge.example.com:443", agents=[]
        )
    )
    assert (net.server, net.protocol) == ("edge.example.com:443", m.TestProtocol.TCP)
    net = te.AgentToServerTestsApi(client).update_agent_to_server_test(
        net.test_id, m.UpdateAgentToServerTestRequest(interval=m.TestInterval.NUMBER_120, description="the edge")
    )
    assert (net.interval, net.description, net.server) == (
        m.TestInterval.NUMBER_120,
        "the edge",
        "edge.example.com:443",
    )
    dns = te.DNSServerTestsApi(client).create_dns_server_test(
        m.DnsServerTestRequest(
            testName="names",
            interval=m.TestInterval.NUMBER_300,
            domain="example.com A",
            dnsServers=["ns1.example.net"],
            agents=[m.TestAgentRequest(agentId=str(make_agent(cast.owner).id))],
        )
    )
    assert [(s.server_id, s.server_name) for s in dns.dns_servers] == [("1", "ns1.example.net")]
    assert dns.dns_query_class.value == "in" and dns.recursive_queries is True
    assert [t.test_id for t in te.DNSServerTestsApi(client).get_dns_server_tests().tests] == [dns.test_id]
    with pytest.raises(ApiException) as wrong_type:  # a test is found under its own type only
        te.DNSServerTestsApi(client).get_dns_server_test(net.test_id)
    assert wrong_type.value.status == 404


def test_bad_bodies_name_each_field(cast, v7):
    api = te.HTTPServerTestsApi(v7(cast.owner))
    with pytest.raises(ApiException) as bad:
        api.create_http_server_test(
            m.HttpServerTestRequest(testName="x", interval=m.TestInterval.NUMBER_60, url="ftp://nowhere", agents=[])
        )
    assert bad.value.status == 400
    assert [e.var_field for e in bad.value.data.errors] == ["url"]
    assert "http:// or https://" in bad.value.data.errors[0].message
    make_test(cast.owner, "http-server", name="taken")
    with pytest.raises(ApiException) as taken:
        api.create_http_server_test(
            m.HttpServerTestRequest(
                testName="taken", interval=m.TestInterval.NUMBER_60, url="https://a.test/", agents=[]
            )
        )
    assert [e.var_field for e in taken.value.data.errors] == ["testName"]


def test_regular_users_are_refused_and_other_tenants_tests_are_not_found(cast, v7):
    test = make_test(cast.owner, "http-server", name="ours")
    with pytest.raises(ApiException) as refused:
        te.HTTPServerTestsApi(v7(cast.regular)).delete_http_server_test(str(test.id))
    assert refused.value.status == 403
    assert te.HTTPServerTestsApi(v7(cast.regular)).get_http_server_test(str(test.id)).test_name == "ours"
    for outsider in (cast.other_group, cast.other_org):
        with pytest.raises(ApiException) as hidden:
            te.HTTPServerTestsApi(v7(outsider)).delete_http_server_test(str(test.id))
        assert hidden.value.status == 404
