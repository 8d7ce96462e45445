"""`spyglass import`: the three example v6 bodies import, read back identically, and bad files import nothing."""

import copy
import json
from pathlib import Path

import pytest

from spyglass.cli.main import main
from spyglass.monitoring.models import Agent, DnsResult, HttpResult, NetResult
from tests.conftest import make_test

# Copies of the reference's example bodies (shared/reference/examples/), kept with the tests.
EXAMPLES_DIR = Path(__file__).parent / "data"


def example(name: str) -> dict:
    return json.loads((EXAMPLES_DIR / name).read_text())


def write(tmp_path, name, body) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return path


def run_import(test, *paths) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "--test", str(test.id), *map(str, paths)])
    return exit_info.value.code


def _readback(person, path):
    response = person.client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


COMPARED = {
    "net-metrics.json": (
        "net",
        "metrics",
        "/v6/net/metrics/{}.json?from=2013-11-13 00:00:00&to=2013-11-14 00:00:00",
        "http-server",
    ),
    "http-server.json": (
        "web",
        "httpServer",
        "/v6/web/http-server/{}.json?from=2020-05-04T00:00:00&to=2020-05-05T00:00:00&headers=1&certificates=1",
        "http-server",
    ),
    "dns-server.json": (
        "dns",
        "server",
        "/v6/dns/server/{}.json?from=2013-11-13 0:00:00&to=2013-11-14 00:00:00",
        "dns-server",
    ),
}


@pytest.mark.parametrize("name", sorted(COMPARED))
def test_each_example_body_imports_and_reads_back_the_same(cast, tmp_path, name):
    top, key, path, test_type = COMPARED[name]
    test = make_test(cast.owner, test_type, interval=900)
    source = example(name)
    assert run_import(test, write(tmp_path, name, source)) == 0
    read = _readback(cast.owner, path.format(test.id))[top][key]
    original = source[top][key]
    assert len(read) == len(original) == 1
    for field, value in original[0].items():
        if field in ("agentId", "permalink"):
            continue  # agents get this installation's ids
        assert read[0][field] == value, field
    assert read[0]["agentId"] == Agent.objects.get(name=original[0]["agentName"]).id


def test_reimporting_replaces_rows_and_never_duplicates(cast, tmp_path):
    test = make_test(cast.owner, "http-server", interval=900)
    body = example("net-metrics.json")
    path = write(tmp_path, "a.json", body)
    assert run_import(test, path, path) == 0
    body["net"]["metrics"][0]["avgLatency"] = 99.5
    assert run_import(test, write(tmp_path, "b.json", body)) == 0
    assert NetResult.objects.filter(test=test).count() == 1
    assert NetResult.objects.get(test=test).avg_latency == 99.5
    assert Agent.objects.filter(name="Hong Kong").count() == 1


def test_several_pages_in_several_files_import_together(cast, tmp_path):
    test = make_test(cast.owner, "agent-to-server", interval=900)
    page1, page2 = example("net-metrics.json"), example("net-metrics.json")
    page2["net"]["metrics"][0]["roundId"] += 900
    page2["net"]["metrics"][0]["agentName"] = "Tokyo"
    assert run_import(test, write(tmp_path, "p1.json", page1), write(tmp_path, "p2.json", page2)) == 0
    assert NetResult.objects.filter(test=test).count() == 2


def test_a_malformed_row_rejects_the_whole_file_naming_file_and_row(cast, tmp_path, capsys):
    test = make_test(cast.owner, "http-server", interval=900)
    body = example("net-metrics.json")
    good = copy.deepcopy(body["net"]["metrics"][0])
    bad = copy.deepcopy(good)
    bad["roundId"] += 900
    bad["avgLatency"] = "fast"
    body["net"]["metrics"] = [good, bad]
    path = write(tmp_path, "broken.json", body)
    assert run_import(test, path) == 1
    message = capsys.readouterr().err
    assert "broken.json" in message and "row 2" in message and "avgLatency" in message
    assert not NetResult.objects.exists()
    assert not Agent.objects.exists()


@pytest.mark.parametrize(
    "name, test_type, fragment",
    [("http-server.json", "agent-to-server", "does not fit"), ("dns-server.json", "http-server", "does not fit")],
)
def test_a_body_that_does_not_fit_the_test_is_rejected(cast, tmp_path, capsys, name, test_type, fragment):
    test = make_test(cast.owner, test_type, interval=900)
    assert run_import(test, write(tmp_path, name, example(name))) == 1
    assert fragment in capsys.readouterr().err
    assert not HttpResult.objects.exists() and not DnsResult.objects.exists()


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{not json", "not readable JSON"),
        ('{"tests": []}', "not a v6 data body"),
        ('{"net": {"metrics": 3}}', "must be a list"),
    ],
)
def test_files_that_are_not_v6_bodies_are_rejected(cast, tmp_path, capsys, content, fragment):
    test = make_test(cast.owner, interval=900)
    path = tmp_path / "x.json"
    path.write_text(content)
    assert run_import(test, path) == 1
    assert fragment in capsys.readouterr().err


def test_rounds_not_aligned_to_the_test_interval_are_rejected(cast, tmp_path, capsys):
    test = make_test(cast.owner, interval=3600)  # the example round 1384309800 is on a 900 s grid only
    assert run_import(test, write(tmp_path, "n.json", example("net-metrics.json"))) == 1
    assert "not aligned" in capsys.readouterr().err


def test_unknown_test_is_an_error(db, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "--test", "424242", str(write(tmp_path, "n.json", example("net-metrics.json")))])
    assert exit_info.value.code == 2
    assert "no test with id 424242" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, test_type, field",
    [
        ("http-server.json", "http-server", "numRedirects"),
        ("dns-server.json", "dns-server", "serverId"),
        ("dns-server.json", "dns-server", "server"),
    ],
)
def test_a_row_without_a_required_field_names_file_row_and_field(cast, tmp_path, capsys, name, test_type, field):
    """A field the results table cannot store as absent is required: its absence (or null) is a clear rejection
    of the whole file, never a database error."""
    test = make_test(cast.owner, test_type, interval=900)
    body = example(name)
    top, key = COMPARED[name][:2]
    good = body[top][key][0]
    missing, null = copy.deepcopy(good), copy.deepcopy(good)
    missing.pop(field)
    missing["roundId"] += 900
    null[field] = None
    null["roundId"] += 1800
    for rows in ([good, missing], [good, null]):
        body[top][key] = rows
        assert run_import(test, write(tmp_path, "gaps.json", body)) == 1
        message = capsys.readouterr().err
        assert "gaps.json" in message and "row 2" in message and field in message, message
        assert "Traceback" not in message
    assert not HttpResult.objects.exists() and not DnsResult.objects.exists()
    assert not Agent.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("responseCode", 2**40),
        ("wireSize", 2**70),
        ("sslVersion", "x" * 21),
        ("errorType", "E" * 21),
        ("dnsTime", 10**400),
    ],
    ids=["int32-overflow", "bigint-overflow", "too-long-text", "too-long-error-type", "beyond-a-float"],
)
def test_a_value_the_column_cannot_hold_names_file_row_and_field(cast, tmp_path, capsys, field, value):
    """PostgreSQL would refuse these mid-import (SQLite would store them): the file is refused first, by name."""
    test = make_test(cast.owner, "http-server", interval=900)
    body = example("http-server.json")
    body["web"]["httpServer"][0][field] = value
    assert run_import(test, write(tmp_path, "big.json", body)) == 1
    message = capsys.readouterr().err
    assert "big.json" in message and "row 1" in message and field in message, message
    assert not HttpResult.objects.exists()
