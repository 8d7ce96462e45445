"""The one reading of a result field's value, for the agent API and for `spyglass import`.

`where` names the field for the message ("results[3].avgLatency" for a batch, "avgLatency" for an import's row,
which the importer prefixes with the file and row). Agents are held to the catalogue exactly. An import reads a
ThousandEyes export as it is (negative numbers, whole numbers written as 3.0, any error text, line breaks, null
text), but never past what the column holds."""

import ipaddress
import json
import math

from spyglass.lib.text import find_control_character

from .catalogue import ERROR_TYPES, HOP_FIELDS, MAX_CERTS, MAX_HOPS, NUMERIC, Field, PackedField


def is_number(value) -> bool:
    """A finite number that a float column can hold (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float
        return False


def _limit(f: Field) -> int:
    limit = f.limit
    assert limit is not None, f"{f.name}: a whole-number field has its column's range"
    return limit


def agent_value(f: Field, value, where: str):
    """The value an agent sent, as stored; raises ValueError naming `where`. Null stands for the column's
    default where the column stores no null."""
    if value is None and f.value in NUMERIC:
        return None if f.nullable else f.default
    if f.value in ("number", "percent"):
        if not is_number(value) or value < 0:
            raise ValueError(f"{where} must be a non-negative number or null")
        if f.value == "percent" and value > 100:
            raise ValueError(f"{where} must be a percentage from 0 to 100")
        return float(value)
    if f.value == "whole":
        limit = _limit(f)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < limit:
            raise ValueError(f"{where} must be a whole number from 0 to {limit - 1} or null")
        return value
    if f.value == "error":
        if not isinstance(value, str) or value not in ERROR_TYPES:
            raise ValueError(f"{where} must be one of {', '.join(sorted(ERROR_TYPES))}")
        return value
    if f.value == "certs":
        if not isinstance(value, list) or not all(isinstance(c, dict) for c in value) or len(value) > MAX_CERTS:
            raise ValueError(f"{where} must be a list of certificate objects")
        return value
    if f.value == "flag":
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false")
        return value
    if f.value == "address":
        return address(value, where)
    if f.value == "choice":
        assert isinstance(f, PackedField), f"{f.name}: a choice declares its choices"
        if value is None:
            return f.default
        if not isinstance(value, str) or value not in f.choices:
            raise ValueError(f"{where} must be one of {', '.join(f.choices)}")
        return value
    if f.value == "hops":
        return hops(value, where, agent_value)
    if not isinstance(value, str) or len(value) > f.upload_max_length:
        raise ValueError(f"{where} must be a string of at most {f.upload_max_length} characters")
    if find_control_character(value, allow_newlines=f.value == "multiline") is not None:
        raise ValueError(f"{where} contains a control character")
    return value


def address(value, where: str) -> str:
    """An IP address as text (normalized), or "" for null or "" (an unknown hop, a trace without a source)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(f"{where} must be an IP address or null")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{where} must be an IP address or null") from None


def hops(value, where: str, read, ignored: frozenset = frozenset()) -> list[dict]:
    """A path trace's hops, each an object of HOP_FIELDS read with `read` (agent_value or imported_value), numbered
    from 1 in order, no more probes lost than sent. Returns them as {column: value}. `ignored`: other fields a hop
    may carry that are not stored (an import's prefix and network: they come from the AS table)."""
    if not isinstance(value, list) or len(value) > MAX_HOPS:
        raise ValueError(f"{where} must be a list of at most {MAX_HOPS} hops")
    names = {f.name for f in HOP_FIELDS} | ignored
    out = []
    for i, hop in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(hop, dict):
            raise ValueError(f"{at} must be an object")
        unknown = sorted(set(hop) - names)
        if unknown:
            raise ValueError(f"{at}: unknown field {unknown[0]!r}")
        clean = {}
        for f in HOP_FIELDS:
            raw = hop.get(f.name)
            clean[f.column] = f.default if raw is None else read(f, raw, f"{at}.{f.name}")
        if clean["hop"] != i + 1:
            raise ValueError(f"{at}.hop must be {i + 1} (hops are numbered from 1, in order)")
        if clean["lost"] > clean["sent"]:
            raise ValueError(f"{at}.lost must not exceed sent")
        out.append(clean)
    return out


def imported_value(f: Field, raw, where: str):
    """The value of an imported row's field, as stored; raises ValueError naming `where`."""
    if raw is None:
        if f.required:
            raise ValueError(f"{where} is required (got null)")
        return None if f.nullable else f.default
    if f.value in ("number", "percent"):
        if not is_number(raw):
            raise ValueError(f"{where} must be a number, got {_shown(raw)}")
        return float(raw)
    if f.value == "whole":
        if not (isinstance(raw, int) and not isinstance(raw, bool)) and not (is_number(raw) and raw == int(raw)):
            raise ValueError(f"{where} must be a whole number, got {_shown(raw)}")
        limit = _limit(f)
        if not -limit <= int(raw) < limit:
            raise ValueError(f"{where} must be a whole number from {-limit} to {limit - 1}, got {int(raw)}")
        return int(raw)
    if f.value == "certs":
        if not isinstance(raw, list):
            raise ValueError(f"{where} must be a list")
        return raw
    if f.value == "address":
        return address(raw, where)
    if not isinstance(raw, str):
        raise ValueError(f"{where} must be a string, got {_shown(raw)}")
    if f.max_length is not None and len(raw) > f.max_length:
        raise ValueError(f"{where} must be at most {f.max_length} characters, got {len(raw)}")
    if find_control_character(raw, allow_newlines=True) is not None:
        raise ValueError(f"{where} contains a control character")
    if f.value == "error" and not raw:
        return f.default  # an export's empty error type means there was none
    return raw


def _shown(raw) -> str:
    return json.dumps(raw)[:40]
