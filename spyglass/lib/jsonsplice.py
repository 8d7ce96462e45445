"""JSON with pieces already written spliced in, copied once.

A data page from stored chunks is about 1.6 MB of JSON already written (monitoring/chunks.py). Handing it to orjson
as one Fragment meant joining the pieces into one buffer, then orjson copying that buffer into its own growing one:
two copies of every byte of every page, which cost more than reading the stored chunks (docs/benchmarks.md, row 6).
Here the envelope is serialized with a placeholder and the pieces are joined once, around it."""

import orjson

# orjson writes a NUL byte only inside a Fragment (in strings it is escaped as \u0000), so the placeholder's bytes
# cannot appear anywhere else in the envelope's output.
_PLACEHOLDER = b"\x00"


class Spliced:
    """A JSON value given as pieces of already-valid JSON text (bytes or memoryviews), in order."""

    __slots__ = ("pieces",)

    def __init__(self, pieces: list):
        self.pieces = pieces


def dumps(data, default=None) -> bytes:
    """orjson.dumps(data), with every Spliced value written as its pieces."""
    spliced = []

    def placeholder(value):
        if isinstance(value, Spliced):
            spliced.append(value)
            return orjson.Fragment(_PLACEHOLDER)
        if default is None:
            raise TypeError(f"{type(value).__name__} is not JSON serializable")
        return default(value)

    envelope = orjson.dumps(data, default=placeholder)
    if not spliced:
        return envelope
    between = envelope.split(_PLACEHOLDER)
    out = [between[0]]
    for value, text in zip(spliced, between[1:], strict=True):
        out += value.pieces
        out.append(text)
    return b"".join(out)
