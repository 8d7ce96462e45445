"""lib/jsonsplice: already-written JSON spliced into an envelope gives the bytes orjson would have written."""

import orjson
import pytest

from spyglass.lib.jsonsplice import Spliced, dumps


def test_spliced_pieces_land_where_the_value_was():
    rows = [{"a": 1, "name": "x\u0000y"}, {"a": 2, "name": '"\\'}]
    text = orjson.dumps(rows)
    pieces = [text[:7], memoryview(text)[7:20], text[20:]]
    envelope = {"net": {"test": {"testName": 'nul \u0000 and quote "'}, "metrics": Spliced(pieces)}, "pages": {}}
    expected = orjson.dumps({"net": {"test": envelope["net"]["test"], "metrics": rows}, "pages": {}})
    assert dumps(envelope) == expected
    assert orjson.loads(dumps(envelope))["net"]["metrics"] == rows


def test_several_spliced_values_keep_their_order():
    data = {"first": Spliced([b"[1,", b"2]"]), "between": "\u0000", "second": Spliced([b'{"b":', b"3}"])}
    assert orjson.loads(dumps(data)) == {"first": [1, 2], "between": "\u0000", "second": {"b": 3}}


def test_default_still_applies_to_other_values_and_unknown_types_fail():
    class Named:
        def __str__(self):
            return "named"

    assert dumps({"x": Named()}, default=str) == b'{"x":"named"}'
    with pytest.raises(TypeError):
        dumps({"x": Named()})
