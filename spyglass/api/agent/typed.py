"""The agent upload's body decoded and type-checked in one pass in C (msgspec), for the lean path (upload.py).

Each kind of row is a struct built from fields.FIELDS: its fields, their types and bounds, and no other field. What
the structs cannot say (control characters in text, the rows' tests and rounds, keys unique in the batch) is checked
after, column by column, by the same code as the dictionary fast path (columns.checked_rounds). Like that path, this
one never words an error: anything it refuses (a malformed body, a wrong type, a value out of range) returns None,
and ResultsView answers row by row through DRF, naming the rows at fault. tests/test_agent_batch_columns.py holds
this path to accepting nothing the row-by-row path refuses and to giving the same values.
"""

from functools import reduce
from operator import or_
from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from msgspec.structs import astuple

from spyglass.lib.text import find_control_character
from spyglass.monitoring.result_fields import DEFAULTS, ERROR_TYPES, FIELDS, MAX_ROWS, TEXT_LIMIT

from .columns import checked_rounds

# A JSON number too big for a float is refused by the decoder ("out of range"), so every float here is finite.
_TYPES = {
    "ms": Annotated[float, Meta(ge=0)] | None,
    "pct": Annotated[float, Meta(ge=0, le=100)] | None,
    "int": Annotated[int, Meta(ge=0, lt=2**62)] | None,
    "int32": Annotated[int, Meta(ge=0, lt=2**31)] | None,
    "error": Literal[tuple(sorted(ERROR_TYPES))],
    "certs": Annotated[list[dict], Meta(max_length=20)],
    "text": Annotated[str, Meta(max_length=TEXT_LIMIT)],
    "multiline": Annotated[str, Meta(max_length=TEXT_LIMIT)],
}
_NULLABLE = {"ms", "pct", "int", "int32"}


def _row_struct(kind: str) -> type[msgspec.Struct]:
    # A field left out takes the column's default, as validate_row does; null stands for it where null is allowed.
    fields = [("testId", int), ("roundId", int), ("date", float)]
    for name, (column, value_kind) in FIELDS[kind].items():
        default = None if value_kind in _NULLABLE else DEFAULTS[kind][column]
        fields.append((name, _TYPES[value_kind], default))
    return msgspec.defstruct(f"{kind.title()}Row", fields, tag_field="kind", tag=kind, forbid_unknown_fields=True)


_STRUCTS = [_row_struct(kind) for kind in FIELDS]


class _Upload(msgspec.Struct):
    results: Annotated[list[reduce(or_, _STRUCTS)], Meta(min_length=1, max_length=MAX_ROWS)]


_DECODER = msgspec.json.Decoder(_Upload)


def decode_columns(body: bytes, tests: dict, now: float) -> dict[str, dict[str, list]] | None:
    """Per kind, {column: values} as rows.validate_batch returns them; or None when the row-by-row path must answer."""
    try:
        rows = _DECODER.decode(body).results
    except msgspec.MsgspecError:
        return None
    kinds = set(map(type, rows))
    groups = {kinds.pop(): rows} if len(kinds) == 1 else {}
    if not groups:
        for row in rows:
            groups.setdefault(type(row), []).append(row)
    out = {}
    for struct, group in groups.items():
        kind = struct.__struct_config__.tag
        columns = _columns(kind, struct, group)
        if columns is None:
            return None
        columns = checked_rounds(kind, columns, tests, now)
        if columns is None:
            return None
        out[kind] = columns
    return out


def _columns(kind: str, struct: type, rows: list) -> dict[str, list] | None:
    values = dict(zip(struct.__struct_fields__, map(list, zip(*map(astuple, rows), strict=True)), strict=True))
    out = {"test_id": values["testId"], "round_id": values["roundId"], "date": values["date"]}
    text, multiline = [], []
    defaults = DEFAULTS[kind]
    for name, (column, value_kind) in FIELDS[kind].items():
        column_values = values[name]
        if value_kind == "text":
            text.append("".join(column_values))
        elif value_kind == "multiline":
            multiline.append("".join(column_values))
        elif value_kind in _NULLABLE and defaults[column] is not None and None in column_values:
            column_values = [defaults[column] if v is None else v for v in column_values]
        out[column] = column_values
    if find_control_character("".join(text)) is not None:
        return None
    if find_control_character("".join(multiline), allow_newlines=True) is not None:
        return None
    return out
