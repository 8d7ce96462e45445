"""GET /v6/tests reads only the columns it lists (tests_service.listed_tests, its SQL built once per process): every
test answers exactly as the representation of the model instance does, for each type, with a creator who is gone,
a live-shared test and a filter by type."""

from django.db import connection

from spyglass.accounts.models import AccountGroup, User
from spyglass.accounts.roles import access_for
from spyglass.api import representations as rep
from spyglass.liveshares import services as live_shares
from spyglass.monitoring import tests_service
from spyglass.monitoring.models import Test
from tests.conftest import make_test


def _by_instances(access, **only) -> list[dict]:
    """What the list answered before it read values: test_summary of each visible test's instance."""
    tests = tests_service.visible_tests(access).select_related("created_by", "modified_by").filter(**only)
    return [rep.test_summary(t) for t in tests.order_by("id")]


def test_the_list_answers_what_each_tests_instance_would(cast):
    edge = make_test(cast.owner, "agent-to-server", name="edge <b>&</b>", description="d'é\n")
    make_test(cast.owner, "http-server", name="shop")
    make_test(cast.owner, "dns-server", name="resolver")
    Test.objects.filter(id=edge.id).update(modified_by=cast.teammate.user)
    gone = make_test(cast.teammate, "agent-to-server", name="orphan")
    User.objects.filter(id=cast.teammate.user.id).update(name="Tom <Mate>")
    Test.objects.filter(id=gone.id).update(created_by=None)
    # A test of Lab shared with Ops and accepted there: listed in Ops as a live share.
    lab = AccountGroup.objects.get(organization=edge.account_group.organization, name="Lab")
    in_lab = access_for(cast.owner.user, lab.id)
    theirs = tests_service.create_test(
        in_lab, "agent-to-server", {"testName": "lab edge", "interval": 60, "server": "x.example:1"}
    )
    share = live_shares.create(in_lab, theirs.id, aid=edge.account_group_id)
    live_shares.accept(access_for(cast.owner.user, edge.account_group_id), share.id)

    access = access_for(cast.owner.user, edge.account_group_id)
    body = cast.owner.client.get(f"/v6/tests.json?aid={edge.account_group_id}").json()["test"]
    assert body == _by_instances(access)
    assert {t["testName"] for t in body if t["liveShare"]} == {"lab edge"}
    assert any(t["createdBy"] is None for t in body) and any("Tom <Mate>" in (t["modifiedBy"] or "") for t in body)
    typed = cast.owner.client.get(f"/v6/tests/http-server.json?aid={edge.account_group_id}").json()["test"]
    assert typed == _by_instances(access, type="http-server") and [t["testName"] for t in typed] == ["shop"]


def test_json_columns_read_as_the_model_reads_them_whatever_they_hold(cast):
    # listed_tests reads JSON with msgspec, and what msgspec refuses through the field: a lone surrogate (which
    # json.dumps writes) and an integer past 64 bits must come back exactly as the instance's.
    dns = make_test(cast.owner, "dns-server", name="odd servers")
    odd = [{"serverName": "ns1.example.net", "weight": 10**30}]
    if connection.vendor == "sqlite":  # PostgreSQL's jsonb refuses a lone surrogate
        odd.append({"serverName": "\ud800"})
    Test.objects.filter(id=dns.id).update(dns_servers=odd)
    access = access_for(cast.owner.user, dns.account_group_id)
    listed = [rep.test_summary(t) for t in tests_service.listed_tests(access)]
    assert listed == _by_instances(access)
    assert [t["dnsServers"] for t in listed if t["testId"] == dns.id] == [odd]
