"""The agent upload's body decoded and type-checked in one pass in C (msgspec), for the lean path (upload.py).

Each kind of row is a struct built from the field catalogue (spyglass/monitoring/catalogue.py): its fields, their
types and bounds, and no other field. What the structs cannot say (control characters in text, the rows' tests and rounds, keys unique in the batch) is checked
after, column by column, by the same code as the dictionary fast path (columns.checked_rounds). Like that path, this
one never words an error: anything it refuses (a malformed body, a wrong type, a value out of range) returns None,
and ResultsView answers row by row through DRF, naming the rows at fault. tests/test_agent_batch_columns.py holds
this path to accepting nothing the row-by-row path refuses and to giving the same values.
"""

from functools import reduce
from itertools import chain
from operator import attrgetter, le, or_
from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from msgspec.structs import asdict, astuple

from spyglass.lib.text import find_control_character
from spyglass.monitoring import catalogue
from spyglass.monitoring.catalogue import ERROR_TYPES, HOP_FIELDS, MAX_CERTS, MAX_HOPS, NUMERIC, Field, PackedField
from spyglass.monitoring.field_values import address

from .columns import checked_rounds
from .fields import MAX_ROWS


def _type(field: Field):
    """The field's type and bounds as msgspec checks them. A JSON number too big for a float is refused by the
    decoder ("out of range"), so every float here is finite. A path trace's whole numbers that must be there
    (traceIndex, a hop's number) and its probe counts take no null: the row-by-row path reads one as the field's
    default, or refuses it."""
    if field.value == "number":
        return Annotated[float, Meta(ge=0)] | None
    if field.value == "percent":
        return Annotated[float, Meta(ge=0, le=100)] | None
    if field.value == "whole":
        whole = Annotated[int, Meta(ge=0, lt=field.limit)]
        return whole if isinstance(field, PackedField) and not field.nullable else whole | None
    if field.value == "error":
        return Literal[tuple(sorted(ERROR_TYPES))]
    if field.value == "certs":
        return Annotated[list[dict], Meta(max_length=MAX_CERTS)]
    if field.value == "flag":
        return bool
    if field.value == "choice":
        assert isinstance(field, PackedField), f"{field.name}: a choice declares its choices"
        return Literal[field.choices]
    if field.value == "address":  # checked and written as field_values.address does, after (_addresses)
        return Annotated[str, Meta(max_length=64)] | None
    if field.value == "hops":
        return Annotated[list[_hop_struct()], Meta(max_length=MAX_HOPS)]
    return Annotated[str, Meta(max_length=field.upload_max_length)]


def _struct_fields(fields) -> list[tuple]:
    # A field left out takes the column's default, as validate_row does; null stands for it where null is allowed.
    # A path trace's field without a default (PackedField.required) is required here too.
    out: list[tuple] = []
    for field in fields:
        if isinstance(field, PackedField) and field.required:
            out.append((field.column, _type(field)))
        else:
            out.append(
                (field.column, _type(field), None if field.value in NUMERIC and field.nullable else field.default)
            )
    return out


@catalogue.derived
def _hop_struct() -> type[msgspec.Struct]:
    """A path trace's hop (catalogue.HOP_FIELDS), its attributes named by column, so that asdict gives the hop as
    field_values.hops returns it."""
    rename = {f.column: f.name for f in HOP_FIELDS}
    return msgspec.defstruct("Hop", _struct_fields(HOP_FIELDS), rename=rename, forbid_unknown_fields=True)


def _row_struct(kind: str) -> type[msgspec.Struct]:
    fields = [("testId", int), ("roundId", int), ("date", float), *_struct_fields(catalogue.kind(kind).fields)]
    rename = {"testId": "testId", "roundId": "roundId", "date": "date"}
    rename.update({f.column: f.name for f in catalogue.kind(kind).fields})
    return msgspec.defstruct(
        f"{kind.title()}Row", fields, tag_field="kind", tag=kind, forbid_unknown_fields=True, rename=rename
    )


@catalogue.derived
def _decoder() -> msgspec.json.Decoder:
    structs = [_row_struct(kind) for kind in catalogue.upload_kinds()]

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
        column_values = values[field.column]
        if field.value == "text":
            text.append("".join(column_values))
        elif field.value == "multiline":
            multiline.append("".join(column_values))
        elif field.value in NUMERIC and not field.nullable and None in column_values:
            column_values = [field.default if v is None else v for v in column_values]
        elif field.value == "address":
            column_values = _addresses(column_values)
        elif field.value == "hops":
            column_values = _hops(column_values)
        if column_values is None:
            return None
        out[field.column] = column_values
    if find_control_character("".join(text)) is not None:
        return None
    if find_control_character("".join(multiline), allow_newlines=True) is not None:
        return None
    return out


def _addresses(values: list) -> list | None:
    """IP addresses as field_values.address writes them ("" for null), or None when one is not an address or not
    written so. Each distinct address is read once: a trace's hops are mostly the ones of the trace before."""
    if None in values:
        values = ["" if v is None else v for v in values]
    try:
        if any(address(a, "") != a for a in set(values)):
            return None
    except ValueError:
        return None
    return values


_NUMBERS = [range(1, n + 1) for n in range(MAX_HOPS + 1)]  # the hop numbers of a trace of n hops


def _hops(traces: list[list]) -> list[list[dict]] | None:
    """Each trace's hops as field_values.hops returns them, checked as it checks them (numbered from 1 in order, no
    more probes lost than sent, addresses, names without control characters) over all hops of the batch at once;
    or None when one fails."""
    hops = list(chain.from_iterable(traces))
    if list(map(attrgetter("hop"), hops)) != list(chain.from_iterable(map(_NUMBERS.__getitem__, map(len, traces)))):
        return None
    if not all(map(le, map(attrgetter("lost"), hops), map(attrgetter("sent"), hops))):
        return None
    if _addresses(list(map(attrgetter("ip_address"), hops))) is None:
        return None
    if find_control_character("".join(map(attrgetter("rdns"), hops))) is not None:
        return None
    out = [list(map(asdict, trace)) for trace in traces]
    for hop in chain.from_iterable(out):
        if hop["ip_address"] is None:
            hop["ip_address"] = ""
    return out
