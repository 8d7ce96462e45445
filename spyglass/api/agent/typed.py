"""The agent upload's body decoded and type-checked in one pass in C (msgspec), for the lean path (upload.py).

Each kind of row is a struct built from the field catalogue (spyglass/monitoring/catalogue.py): its fields, their
types and bounds, and no other field. What the structs cannot say (control characters in text, the rows' tests and rounds, keys unique in the batch) is checked
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
from spyglass.monitoring import catalogue
from spyglass.monitoring.catalogue import ERROR_TYPES, MAX_CERTS, NUMERIC, Field

from .columns import checked_rounds
from .fields import MAX_ROWS


def _type(field: Field):
    """The field's type and bounds as msgspec checks them. A JSON number too big for a float is refused by the
    decoder ("out of range"), so every float here is finite."""
    if field.value == "number":
        return Annotated[float, Meta(ge=0)] | None
    if field.value == "percent":
        return Annotated[float, Meta(ge=0, le=100)] | None
    if field.value == "whole":
        return Annotated[int, Meta(ge=0, lt=field.limit)] | None
    if field.value == "error":
        return Literal[tuple(sorted(ERROR_TYPES))]
    if field.value == "certs":
        return Annotated[list[dict], Meta(max_length=MAX_CERTS)]
    return Annotated[str, Meta(max_length=field.upload_max_length)]


def _row_struct(kind: str) -> type[msgspec.Struct]:
    # A field left out takes the column's default, as validate_row does; null stands for it where null is allowed.
    fields = [("testId", int), ("roundId", int), ("date", float)]
    for field in catalogue.kind(kind).fields:
        fields.append((field.name, _type(field), None if field.value in NUMERIC else field.default))
    return msgspec.defstruct(f"{kind.title()}Row", fields, tag_field="kind", tag=kind, forbid_unknown_fields=True)


@catalogue.derived
def _decoder() -> msgspec.json.Decoder:
    structs = [_row_struct(kind) for kind in catalogue.kinds()]

    class Upload(msgspec.Struct):
        results: Annotated[list[reduce(or_, structs)], Meta(min_length=1, max_length=MAX_ROWS)]

    return msgspec.json.Decoder(Upload)


def decode_columns(body: bytes, tests: dict, now: float) -> dict[str, dict[str, list]] | None:
    """Per kind, {column: values} as rows.validate_batch returns them; or None when the row-by-row path must answer."""
    try:
        rows = _decoder().decode(body).results
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
    for field in catalogue.kind(kind).fields:
        column_values = values[field.name]
        if field.value == "text":
            text.append("".join(column_values))
        elif field.value == "multiline":
            multiline.append("".join(column_values))
        elif field.value in NUMERIC and not field.nullable and None in column_values:
            column_values = [field.default if v is None else v for v in column_values]
        out[field.column] = column_values
    if find_control_character("".join(text)) is not None:
        return None
    if find_control_character("".join(multiline), allow_newlines=True) is not None:
        return None
    return out
