"""Which tests take network measurements (and so trace their path) is one rule, Test.takes_network_measurements:
the agent's assignment, `spyglass seed`, the Views offered, the snapshot download and the Export Data tab all agree."""

import json
import re

import pytest
from django.test import Client

from spyglass.monitoring import agent_service
from spyglass.monitoring.models import NetResult, PathRound
from spyglass.monitoring.seed import seed
from spyglass.monitoring.timeline import views_for
from tests.conftest import make_snapshot, make_test
from tests.web_support import signed_in

ROUND = 1795334400
CASES = [
    ("agent-to-server", {}, True),
    ("http-server", {"networkMeasurements": 1}, True),
    ("http-server", {"networkMeasurements": 0}, False),
    ("dns-server", {"networkMeasurements": 1}, True),
    ("dns-server", {"networkMeasurements": 0}, False),
]


@pytest.mark.parametrize(("test_type", "fields", "measured"), CASES)
def test_every_part_agrees_on_which_tests_measure_the_network(cast, test_type, fields, measured):
    test = make_test(cast.owner, test_type, name="t", **fields)
    assert test.takes_network_measurements is measured
    # The agent is told whether to measure (and trace), whatever the test type.
    assert agent_service.assignment(test)["networkMeasurements"] is measured
    # `spyglass seed` writes network rows and path traces exactly for those tests.
    seed(test, agents=2, hours=0.5, random_seed=1, now=ROUND)
    assert NetResult.objects.filter(test=test).exists() is measured
    assert PathRound.objects.filter(test=test).exists() is measured
    # The Path Visualization View is offered for them only.
    assert ("path-vis" in [v.key for v in views_for(test)]) is measured
    page = signed_in(cast.owner).get(f"/tests/{test.id}/").content.decode()
    assert ('data-view="path-vis"' in page) is measured
    # The Export Data tab opens the test's own data, and its network metrics and path traces when it has them.
    own = {"agent-to-server": "net/metrics", "http-server": "web/http-server", "dns-server": "dns/server"}[test_type]
    offered = set(re.findall(r'data-export-path="/v6/([a-z/-]+)/\d+"', page))
    assert offered == ({own, "net/metrics", "net/path-vis"} if measured else {own})
    # A snapshot's download carries the traces for them only.
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=ROUND - 1800)
    body = json.loads(b"".join(Client().get(f"/s/{snapshot.link_id}/download.json").streaming_content))
    assert ("pathVis" in body) is measured
