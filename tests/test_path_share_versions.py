"""Stored share pages know when what they show of path traces changes: a hop name filled in later, or a new AS table,
bumps the snapshot's content version (triggers of sharing migration 0007); new rounds of the source test do not."""

from spyglass.monitoring import asn
from spyglass.monitoring.models import Path
from spyglass.sharing.models import Snapshot
from tests.conftest import make_agent, make_snapshot, make_test
from tests.path_helpers import trace_row, write_traces

START = 1_795_000_000 // 3600 * 3600


def version(snapshot) -> int:
    return Snapshot.objects.get(id=snapshot.id).content_version


def test_a_hop_name_filled_in_later_bumps_the_snapshots_of_its_test(cast):
    from spyglass.monitoring import path_store

    test = make_test(cast.owner, server="example.com:443")
    other = make_test(cast.owner, name="other", server="example.org:443")
    agent = make_agent(cast.owner)
    row = trace_row(test, agent, START)
    row["hops"][0]["rdns"] = ""  # the first report had no name for hop 1
    path_store.store([row])
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START)
    unrelated = make_snapshot(cast.owner, other, hours=1, anchor=START)
    first, unrelated_first = version(snapshot), version(unrelated)

    write_traces(test, [agent], [START + 60])  # the same path, now with every name: hop 1's is filled in
    (path,) = Path.objects.filter(test=test)
    assert path.hops[0] == ["198.18.1.1", "r1.example"]
    assert version(snapshot) > first
    assert version(unrelated) == unrelated_first

    settled = version(snapshot)
    write_traces(test, [agent], [START + 120])  # nothing new about the path: nothing shown changes
    assert version(snapshot) == settled


def test_loading_an_as_table_bumps_every_snapshot(cast):
    test = make_test(cast.owner)
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=START)
    first = version(snapshot)
    asn.load(asn.parse_prefixes(["198.18.0.0\t15\t64500"]), None, "test")
    assert version(snapshot) == first + 1
    asn.load(asn.parse_prefixes(["198.18.0.0\t16\t64501"]), None, "test")
    assert version(snapshot) == first + 2
