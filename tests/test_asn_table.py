"""`spyglass asn import`: a RouteViews prefix-to-AS file (plain or gzip) and an optional AS names file become the table
that names hop prefixes and networks by longest-prefix match; a bad file is refused naming the line, loading nothing."""

import gzip

import pytest

from spyglass.cli.main import main
from spyglass.monitoring import asn
from spyglass.monitoring.models import AsnPrefix

PREFIXES = """\
198.18.0.0\t15\t64500
198.18.3.0\t24\t64501
198.18.3.128\t25\t64502_64503
2001:db8::\t32\t64510
2001:db8:42::\t48\t64511,64512
"""
NAMES = """\
64500 BENCH-TRANSIT, ZZ
64501 EXAMPLE-ACCESS
AS64511 SIX-NET
"""


def run(*args) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["asn", *map(str, args)])
    return exit_info.value.code


@pytest.fixture
def files(tmp_path):
    prefixes, names = tmp_path / "routeviews-rv2-20261201-1200.pfx2as", tmp_path / "asn.txt"
    prefixes.write_text(PREFIXES)
    names.write_text(NAMES)
    return prefixes, names


def test_without_a_table_hops_have_no_prefix_or_network(db):
    assert asn.lookup(["198.18.3.7"]) == {}


def test_import_then_longest_prefix_match(db, files, capsys):
    prefixes, names = files
    assert run("import", prefixes, "--names", names) == 0
    assert "loaded 5 prefixes and 3 AS names" in capsys.readouterr().err
    found = asn.lookup(["198.18.3.7", "198.18.3.200", "198.19.255.1", "198.20.0.1", "2001:db8:42::1", "2001:db8:1::1"])
    assert found["198.18.3.7"] == asn.Network("198.18.3.0/24", 64501, "EXAMPLE-ACCESS")
    assert found["198.18.3.200"].prefix == "198.18.3.128/25" and found["198.18.3.200"].asn == 64502  # multi-origin
    assert found["198.19.255.1"].label == "AS64500 BENCH-TRANSIT, ZZ"
    assert found["198.19.255.1"].v6 == "BENCH-TRANSIT, ZZ (AS 64500)"
    assert "198.20.0.1" not in found
    assert found["2001:db8:42::1"].prefix == "2001:db8:42::/48" and found["2001:db8:42::1"].label == "AS64511 SIX-NET"
    assert found["2001:db8:1::1"].label == "AS64510"  # a number without a name
    assert run("lookup", "198.18.3.7", "192.0.2.1") == 0
    assert capsys.readouterr().out.splitlines() == [
        "198.18.3.7\t198.18.3.0/24\tAS64501 EXAMPLE-ACCESS",
        "192.0.2.1\t\t",
    ]


def test_a_gzip_file_imports_and_a_new_import_replaces_the_table(db, files, tmp_path):
    prefixes, _ = files
    assert run("import", prefixes) == 0
    packed = tmp_path / "small.pfx2as.gz"
    packed.write_bytes(gzip.compress(b"198.18.0.0\t16\t64999\n"))
    assert run("import", packed) == 0
    assert list(AsnPrefix.objects.values_list("cidr", "origin")) == [("198.18.0.0/16", "64999")]
    assert asn.lookup(["198.18.3.7"])["198.18.3.7"].asn == 64999
    assert "198.19.0.1" not in asn.lookup(["198.19.0.1"])


@pytest.mark.parametrize(
    "line, message",
    [
        ("198.18.0.0\t15", "line 3: expected prefix<TAB>length<TAB>AS"),
        ("198.18.0.1\t24\t64500", "line 3: 198.18.0.1/24 has host bits set"),
        ("198.18.0.0\t33\t64500", "line 3:"),
        ("not-an-ip\t24\t64500", "line 3:"),
        ("198.18.0.0\tx\t64500", "line 3: prefix length 'x' is not a number"),
        ("198.18.0.0\t24\tAS64500", "line 3: origin 'AS64500' is not an AS number"),
    ],
)
def test_a_bad_line_is_named_and_the_table_stays_as_it_was(db, files, tmp_path, capsys, line, message):
    prefixes, _ = files
    assert run("import", prefixes) == 0
    bad = tmp_path / "bad.pfx2as"
    bad.write_text("198.18.0.0\t15\t64500\n# a comment\n" + line + "\n198.19.0.0\t16\t64501\n")
    assert run("import", bad) == 2
    error = capsys.readouterr().err
    assert f"{bad}, " in error and message in error and "the table is unchanged" in error
    assert AsnPrefix.objects.count() == 5


def test_an_unreadable_or_empty_file_is_refused(db, tmp_path, capsys):
    assert run("import", tmp_path / "missing.pfx2as") == 2
    assert "cannot read" in capsys.readouterr().err
    empty = tmp_path / "empty.pfx2as"
    empty.write_text("# nothing\n")
    assert run("import", empty) == 2
    assert "no prefixes found" in capsys.readouterr().err
    binary = tmp_path / "binary.pfx2as"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert run("import", binary) == 2
    assert AsnPrefix.objects.count() == 0


def test_a_bad_names_file_is_named(db, files, tmp_path, capsys):
    prefixes, _ = files
    names = tmp_path / "names.txt"
    names.write_text("64500 OK\nnot-a-number NAME\n")
    assert run("import", prefixes, "--names", names) == 2
    assert "names.txt, line 2: 'not-a-number' is not an AS number" in capsys.readouterr().err
    assert AsnPrefix.objects.count() == 0
