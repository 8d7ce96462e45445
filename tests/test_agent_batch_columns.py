"""The agent batch's fast path (column by column) against its row-by-row path, hostile values through the API on
either database, and the writing helpers the fast path uses."""

import json
import math
import random
import time
from datetime import UTC, datetime

import orjson
import pytest
from django.db import connection

from spyglass.api.agent.columns import validate_columns
from spyglass.api.agent.fields import MAX_ROWS
from spyglass.api.agent.rows import BatchError, validate_batch, validate_rows
from spyglass.api.agent.typed import decode_columns
from spyglass.lib.rounds import round_of
from spyglass.monitoring import results
from spyglass.monitoring.models import DnsResult, HttpResult, NetResult
from spyglass.monitoring.seed import seed
from tests.conftest import make_test
from tests.test_agent_api import acme_token, net_row, registered  # noqa: F401 (fixtures)

NOW = time.time()
R = round_of(NOW, 60)


@pytest.fixture
def lab(cast, registered):  # noqa: F811 (the fixture imported above)
    client, agent_id = registered
    tcp = make_test(cast.owner, "agent-to-server", name="tcp", agents=[{"agentId": agent_id}])
    web = make_test(cast.owner, "http-server", name="web", agents=[{"agentId": agent_id}])
    dns = make_test(cast.owner, "dns-server", name="dns", agents=[{"agentId": agent_id}])
    other = make_test(cast.owner, "agent-to-server", name="other")
    return client, agent_id, {"tcp": tcp, "web": web, "dns": dns, "other": other}


def good_rows(tests) -> list[dict]:
    tcp, web, dns = tests["tcp"], tests["web"], tests["dns"]
    rows = [net_row(tcp, R - 60 * i, server="example.com:443", errorType="None", errorDetails="") for i in range(1, 6)]
    # The test's target stands in for an empty server.
    rows.append(net_row(web, R - 60, server="", errorType="None", errorDetails=""))
    rows.append(
        {
            "kind": "http",
            "testId": web.id,
            "roundId": R - 60,
            "date": R - 55,
            "responseCode": 200,
            "numRedirects": None,  # null takes the column's default (0)
            "connectTime": 12,
            "totalTime": 60.1,
            "wireSize": 1234,
            "errorType": "None",
            "responseHeaders": "a: b\r\nc: d",
            "sslCerts": [{"subjectName": "CN=example.com"}],
        }
    )
    rows += [
        {"kind": "dns", "testId": dns.id, "roundId": R, "date": R + 1, "server": s, "resolutionTime": 3.5}
        for s in ("ns1", "ns2")
    ]
    return rows


# Replacements for one field of one row: each must send the batch to the row-by-row path, which refuses it.
HOSTILE = [
    ("loss", math.nan),
    ("loss", math.inf),
    ("avgLatency", -math.inf),
    ("avgLatency", 1e308 * 10),
    ("avgLatency", 10**400),
    ("avgLatency", -0.5),
    ("loss", 100.5),
    ("avgLatency", "12"),
    ("avgLatency", True),
    ("avgLatency", [1.0]),
    ("avgLatency", {"v": 1}),
    ("date", math.nan),
    ("date", math.inf),
    ("date", 10**400),
    ("date", "soon"),
    ("date", None),
    ("roundId", 1.5),
    ("roundId", True),
    ("roundId", 10**30),
    ("roundId", -60),
    ("testId", "1"),
    ("testId", None),
    ("testId", 10**30),
    ("kind", ["net"]),
    ("kind", {"net": 1}),
    ("kind", None),
    ("serverIp", "192.0.2.1\x00"),
    ("serverIp", "\u2028ok\x85"),
    ("serverIp", "x" * 20001),
    ("serverIp", None),
    ("serverIp", 5),
    ("errorDetails", "line\x1bred"),
    ("errorType", "Nope"),
    ("errorType", ["None"]),
    ("errorType", None),
    ("surprise", 1),
]


def test_the_fast_path_gives_what_the_row_by_row_path_gives(lab):
    _, _, tests = lab
    by_id = {t.id: t for t in (tests["tcp"], tests["web"], tests["dns"])}
    rows = good_rows(tests)
    fast = validate_columns(rows, by_id, NOW)
    assert fast is not None
    assert fast == validate_rows(rows, by_id, NOW)
    assert typed(rows, by_id) == fast
    assert fast["net"]["server"][-1] == tests["web"].target
    assert fast["http"]["num_redirects"] == [0] and fast["http"]["connect_time"] == [12.0]


@pytest.mark.parametrize("field, value", HOSTILE, ids=[f"{f}={v!r}"[:40] for f, v in HOSTILE])
def test_the_fast_path_passes_no_row_the_row_by_row_path_refuses(lab, field, value):
    _, _, tests = lab
    by_id = {t.id: t for t in (tests["tcp"], tests["web"], tests["dns"])}
    rows = good_rows(tests)
    rows[2] = {**rows[2], field: value}
    assert validate_columns(rows, by_id, NOW) is None
    assert typed(rows, by_id) is None
    with pytest.raises(BatchError) as refused:
        validate_batch({"results": rows}, by_id, NOW)
    assert refused.value.rows == [2]
    assert "results[2]" in str(refused.value)


def test_the_fast_path_sends_odd_shapes_to_the_row_by_row_path(lab):
    _, _, tests = lab
    by_id = {t.id: t for t in (tests["tcp"], tests["web"], tests["dns"])}
    rows = good_rows(tests)
    missing = [dict(rows[0]), *rows[1:]]
    del missing[0]["jitter"]  # rows of a kind with different fields: fine, but row by row
    assert validate_columns(missing, by_id, NOW) is None
    assert validate_batch({"results": missing}, by_id, NOW) == validate_rows(missing, by_id, NOW)
    assert typed(missing, by_id) == validate_rows(missing, by_id, NOW)  # the typed path fills in defaults
    for bad in (
        [*rows, rows[0]],  # a key twice
        [*rows, net_row(tests["other"], R)],  # a test not assigned to the agent
        [*rows, "row"],
        [*rows, {**rows[-1], "server": ""}],  # dns without a server
        [*rows, {k: v for k, v in rows[0].items() if k != "date"}],
    ):
        assert validate_columns(bad, by_id, NOW) is None
        assert typed(bad, by_id) is None
        with pytest.raises(BatchError):
            validate_batch({"results": bad}, by_id, NOW)


def test_random_batches_agree_between_the_two_paths(lab):
    _, _, tests = lab
    by_id = {t.id: t for t in (tests["tcp"], tests["web"], tests["dns"])}
    rng = random.Random(7)
    values = [0, 0.0, 1, 2.5, 100, 100.0, 101, -1, None, "", "a", "a\nb", "a\tb", True, math.nan, 2**31, 2**62]
    accepted = 0
    for _ in range(300):
        rows = good_rows(tests)
        for _ in range(rng.randint(0, 2)):
            i = rng.randrange(len(rows))
            name = rng.choice(sorted(set(rows[i]) - {"kind", "testId", "roundId"}))
            rows[i] = {**rows[i], name: rng.choice(values)}
        fast = validate_columns(rows, by_id, NOW)
        decoded = typed(rows, by_id)
        try:
            slow = validate_rows(rows, by_id, NOW)
        except BatchError:
            assert fast is None and decoded is None, rows
        else:
            assert fast is None or fast == slow
            assert decoded is None or decoded == slow
            accepted += decoded is not None
    assert accepted > 100  # most random batches are well-formed: the comparison above is not vacuous


def typed(rows, by_id):
    """The lean upload's typed decode of a body holding these rows. The standard library writes what the agent
    runtime never would (NaN, Infinity, integers beyond 64 bits), to see the decoder refuse it."""
    return decode_columns(json.dumps({"results": rows}).encode(), by_id, NOW)


def test_the_typed_path_refuses_bodies_of_the_wrong_shape(lab):
    _, _, tests = lab
    by_id = {t.id: t for t in (tests["tcp"], tests["web"], tests["dns"])}
    rows = good_rows(tests)
    assert decode_columns(orjson.dumps({"results": rows, "agent": "ignored"}), by_id, NOW) is not None
    for body in (
        b"",
        b"[]",
        b'{"results": []}',
        b'{"results": {}}',
        b'{"rows": []}',
        orjson.dumps({"results": rows})[:-1],  # cut short
        orjson.dumps({"results": [{k: v for k, v in rows[0].items() if k != "kind"}]}),
        orjson.dumps({"results": [{**rows[0], "kind": "icmp"}]}),
        orjson.dumps({"results": [rows[0]] * (MAX_ROWS + 1)}),
        orjson.dumps({"results": rows}).replace(b'"example.com:443"', rb'"\ud800"'),  # a lone surrogate
    ):
        assert decode_columns(body, by_id, NOW) is None, body[:80]


@pytest.mark.parametrize("field, value", HOSTILE, ids=[f"{f}={v!r}"[:40] for f, v in HOSTILE])
def test_the_api_refuses_hostile_values_and_writes_nothing(lab, field, value):
    client, agent_id, tests = lab
    rows = good_rows(tests)
    rows[2] = {**rows[2], field: value}
    # The standard library writes what orjson would refuse to: NaN, Infinity, integers beyond 64 bits.
    body = json.dumps({"results": rows})
    response = client.post(f"/agent/v1/agents/{agent_id}/results", body, content_type="application/json")
    assert response.status_code == 400, response.content
    message = response.json()["errorMessage"]
    assert "results[2]" in message or "JSON" in message, message
    assert NetResult.objects.count() == HttpResult.objects.count() == DnsResult.objects.count() == 0


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_the_api_refuses_non_finite_json_numbers(lab, literal):
    client, agent_id, tests = lab
    body = orjson.dumps({"results": [net_row(tests["tcp"], R, loss=0.5)]}).replace(b"0.5", literal)
    response = client.post(f"/agent/v1/agents/{agent_id}/results", body, content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["errorMessage"]
    assert NetResult.objects.count() == 0


def test_the_api_stores_a_well_formed_batch_of_every_kind_and_replaces_it(lab):
    client, agent_id, tests = lab
    rows = good_rows(tests)
    url = f"/agent/v1/agents/{agent_id}/results"
    assert client.post(url, {"results": rows}, format="json").json() == {"accepted": len(rows)}
    rows[0]["avgLatency"] = 99.0
    assert client.post(url, {"results": rows}, format="json").json() == {"accepted": len(rows)}
    assert NetResult.objects.count() == 6 and HttpResult.objects.count() == 1 and DnsResult.objects.count() == 2
    first = NetResult.objects.get(test=tests["tcp"], round_id=R - 60)
    assert first.avg_latency == 99.0
    assert first.date == datetime.fromtimestamp(R - 55, UTC)
    http = HttpResult.objects.get()
    assert http.num_redirects == 0 and http.ssl_certs == [{"subjectName": "CN=example.com"}]
    assert NetResult.objects.get(test=tests["web"]).server == tests["web"].target


def test_epoch_dates_match_djangos_conversion(db):
    from spyglass.monitoring.models import NetResult as model

    field = model._meta.get_field("date")
    rng = random.Random(3)
    seconds = [R + k / 128 for k in range(300)]  # exact halves of a microsecond: ties round to even
    seconds += [R + rng.uniform(0, 86400) for _ in range(3000)]
    seconds += [R + 0.9999995, R + 1.9999999999, R + 0.0000005, R, R + 7]
    want = [field.get_db_prep_save(datetime.fromtimestamp(s, UTC), connection) for s in seconds]
    assert results.epoch_dates(seconds) == want


@pytest.mark.django_db
def test_upsert_keeps_the_last_version_of_a_key_sent_twice_in_one_call(cast):
    test = make_test(cast.owner, name="twice")
    seed(test, agents=1, hours=1, random_seed=1)
    row = NetResult.objects.filter(test=test).values().first()
    row.pop("id")
    results.upsert("net", [{**row, "avg_latency": 1.0}, {**row, "avg_latency": 2}])
    assert NetResult.objects.get(test=test, round_id=row["round_id"]).avg_latency == 2.0


def test_a_column_of_nulls_only_and_a_batch_of_every_null_are_stored(lab):
    client, agent_id, tests = lab
    rows = [
        net_row(tests["tcp"], R - 60 * i, loss=None, minLatency=None, avgLatency=None, maxLatency=None, jitter=None)
        for i in range(1, 4)
    ]
    response = client.post(f"/agent/v1/agents/{agent_id}/results", {"results": rows}, format="json")
    assert response.json() == {"accepted": 3}
    assert set(NetResult.objects.values_list("avg_latency", "loss")) == {(None, None)}
