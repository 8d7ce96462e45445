"""Path rows on the lean upload path (api/agent/typed.py): a batch that carries traces, as every agent's does, is
taken there — decoded from the field catalogue, hops and all — and gives what the row-by-row path gives; anything
the row-by-row path refuses, or words differently, goes to it."""

import copy
import json
import random

import pytest

from spyglass.api.agent import views
from spyglass.api.agent.rows import BatchError, validate_batch, validate_rows
from spyglass.monitoring import path_format
from spyglass.monitoring.models import NetResult, PathRound
from tests import test_agent_batch_columns
from tests.test_agent_api import acme_token, net_row, registered  # noqa: F401 (fixtures)
from tests.test_agent_batch_columns import NOW, R, typed
from tests.test_path_traces import path_row

lab = test_agent_batch_columns.lab  # the fixture
CORE = ["198.18.1.1", None, "198.18.3.1", "198.18.9.2"]


def traced_rows(tests) -> list[dict]:
    tcp, web = tests["tcp"], tests["web"]
    rows = []
    for i in range(1, 4):
        rows.append(net_row(tcp, R - 60 * i, server="example.com:443", errorType="None", errorDetails=""))
        rows += [path_row(tcp, R - 60 * i, index) for index in range(3)]
    # An HTTP test's network side traces too; a trace with an IPv6 path, no server (the test's target stands in),
    # and the fields an agent may leave out left out.
    v6 = path_row(web, R - 60, 0, ["2001:db8::1", "2001:db8:9::2"], (1.0, 2.5), [0, 1], server="", protocol="ICMP")
    del v6["sourceIp"], v6["errorDetails"], v6["hops"][0]["rdns"], v6["hops"][1]["sent"]
    v6["hops"][1]["lost"] = 0
    failed = path_row(web, R - 60, 1, reached=False, hops=[], errorDetails="no route to host\nafter 3 hops")
    return [*rows, v6, failed]


def by_id(tests):
    return {t.id: t for t in (tests["tcp"], tests["web"], tests["dns"])}


def test_a_batch_with_traces_takes_the_typed_path_and_gives_what_the_row_by_row_path_gives(lab):
    _, _, tests = lab
    rows = traced_rows(tests)
    decoded = typed(rows, by_id(tests))
    assert decoded is not None
    assert decoded == validate_rows(rows, by_id(tests), NOW)
    assert decoded["path"]["server"][-2] == tests["web"].target
    assert decoded["path"]["hops"][-2][0] == {
        "hop": 1,
        "ip_address": "2001:db8::1",
        "rdns": "",
        "response_time": 1.0,
        "sent": 3,
        "lost": 0,
    }
    assert decoded["path"]["hops"][0][1]["ip_address"] == ""  # an unknown hop


def _hop(row, i, **fields):
    row["hops"][i].update(fields)


# Changes to the first trace (row 1): each must send the batch to the row-by-row path, which refuses it.
HOSTILE = {
    "hops numbered out of order": lambda r: _hop(r, 1, hop=3),
    "a hop number of null": lambda r: _hop(r, 0, hop=None),
    "a hop without its number": lambda r: r["hops"][0].pop("hop"),
    "more lost than sent": lambda r: _hop(r, 0, lost=4),
    "too many probes": lambda r: _hop(r, 0, sent=11, lost=0),
    "a negative time": lambda r: _hop(r, 0, responseTime=-1),
    "a time as text": lambda r: _hop(r, 0, responseTime="1"),
    "no address": lambda r: _hop(r, 0, ipAddress="198.18.1.300"),
    "an address that is a number": lambda r: _hop(r, 0, ipAddress=5),
    "a control character in a name": lambda r: _hop(r, 0, rdns="r1\x1b.example"),
    "a name too long": lambda r: _hop(r, 0, rdns="r" * 256),
    "an unknown hop field": lambda r: _hop(r, 0, asn=64500),
    "a hop that is no object": lambda r: r["hops"].__setitem__(0, "198.18.1.1"),
    "31 hops": lambda r: r.update(hops=[{"hop": i + 1, "ipAddress": None} for i in range(31)]),
    "hops as an object": lambda r: r.update(hops={"1": "198.18.1.1"}),
    "a trace index past 9": lambda r: r.update(traceIndex=10),
    "a trace index of null": lambda r: r.update(traceIndex=None),
    "no trace index": lambda r: r.pop("traceIndex"),
    "the round's trace twice": lambda r: r.update(traceIndex=1),
    "a protocol that is not traced": lambda r: r.update(protocol="UDP"),
    "reached as text": lambda r: r.update(reached="yes"),
    "no server address": lambda r: r.update(serverIp="example.com"),
    "an error with a control character": lambda r: r.update(errorDetails="a\x00b"),
    "an unknown field": lambda r: r.update(asPath=[]),
}


@pytest.mark.parametrize("change", list(HOSTILE), ids=list(HOSTILE))
def test_the_typed_path_passes_no_trace_the_row_by_row_path_refuses(lab, change):
    _, _, tests = lab
    rows = traced_rows(tests)
    rows[1] = copy.deepcopy(rows[1])
    HOSTILE[change](rows[1])
    assert typed(rows, by_id(tests)) is None
    with pytest.raises(BatchError) as refused:
        validate_batch({"results": rows}, by_id(tests), NOW)
    assert "results[1]" in str(refused.value)  # the row at fault (or the one a repeated key repeats)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: _hop(r, 0, ipAddress="2001:DB8::0001"),  # stored as 2001:db8::1
        lambda r: _hop(r, 0, rdns=None),
        lambda r: _hop(r, 0, sent=None, lost=None),
        lambda r: r.update(protocol=None),
    ],
    ids=["an address not written as stored", "a null name", "null probe counts", "a null protocol"],
)
def test_traces_the_row_by_row_path_reads_differently_are_left_to_it(lab, change):
    _, _, tests = lab
    rows = traced_rows(tests)
    rows[1] = copy.deepcopy(rows[1])
    change(rows[1])
    assert typed(rows, by_id(tests)) is None
    assert validate_batch({"results": rows}, by_id(tests), NOW) == validate_rows(rows, by_id(tests), NOW)


def test_random_traces_agree_between_the_two_paths(lab):
    _, _, tests = lab
    rng = random.Random(19)
    values = [0, 1, 3, 10, 11, 30, -1, 1.5, None, "", "a", "a\tb", True, "198.18.1.1", "::1", "::FFFF:1.2.3.4", []]
    hop_fields = ["hop", "ipAddress", "rdns", "responseTime", "sent", "lost"]
    trace_fields = ["traceIndex", "server", "serverIp", "sourceIp", "protocol", "reached", "errorDetails"]
    accepted = 0
    for _ in range(300):
        rows = copy.deepcopy(traced_rows(tests))
        for _ in range(rng.randint(0, 2)):
            row = rows[rng.choice([i for i, r in enumerate(rows) if r["kind"] == "path" and r["hops"]])]
            if rng.random() < 0.7:
                row["hops"][rng.randrange(len(row["hops"]))][rng.choice(hop_fields)] = rng.choice(values)
            else:
                row[rng.choice(trace_fields)] = rng.choice(values)
        decoded = typed(rows, by_id(tests))
        try:
            slow = validate_rows(rows, by_id(tests), NOW)
        except BatchError:
            assert decoded is None, rows
        else:
            assert decoded is None or decoded == slow
            accepted += decoded is not None
    assert accepted > 100  # most random batches are well-formed: the comparison above is not vacuous


def test_the_api_stores_a_batch_with_traces_without_drf(lab, monkeypatch):
    client, agent_id, tests = lab
    rows = traced_rows(tests)

    def drf_never_runs(*args, **kwargs):
        raise AssertionError("the lean path should have answered")

    monkeypatch.setattr(views.ResultsView, "initial", drf_never_runs)
    response = client.post(
        f"/agent/v1/agents/{agent_id}/results", json.dumps({"results": rows}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": len(rows)}
    assert NetResult.objects.filter(agent_id=agent_id).count() == 3
    stored = {(p.test_id, p.round_id): path_format.decode(p.round_id, p.traces)[1] for p in PathRound.objects.all()}
    assert sorted(len(traces) for traces in stored.values()) == [2, 3, 3, 3]
    (v6, failed) = stored[(tests["web"].id, R - 60)]
    assert v6.icmp and v6.times == [1.0, 2.5] and v6.lost == [0, 0]
    assert failed.error == "no route to host\nafter 3 hops" and not failed.reached
