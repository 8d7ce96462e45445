"""`spyglass import`: ThousandEyes v6 data bodies (net metrics, HTTP server, DNS server) into a test.

Each file is checked whole before anything is written; a file that does not fit the test or has a malformed row is
rejected with its name and the row, and nothing of it is imported. Re-importing replaces rows, never duplicates."""

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations

from spyglass.api.agent.fields import FIELDS
from spyglass.lib.text import find_control_character
from spyglass.lib.timefmt import DateParseError, parse_v6_date

from . import results
from .models import Agent, Test


class ImportFileError(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    column: str
    kind: str  # float | int | str | json
    required: bool = False
    limit: int | None = None  # int: values lie in [-limit, limit); str: at most this many characters


# The agent API's kinds of value (spyglass/api/agent/fields.py) as the importer reads them: more leniently, since a
# ThousandEyes export is what it is, but never past what the column holds.
_READ_AS = {
    "ms": "float",
    "pct": "float",
    "int": "int",
    "int32": "int",
    "text": "str",
    "multiline": "str",
    "error": "str",
    "certs": "json",
}


def _column(model, column: str, value_kind: str) -> Column:
    """What a v6 field must be to fit its column, read from the model. A field is required when its column is NOT
    NULL and absence has no honest stand-in: a number (0 redirects would be made up) or a column without default."""
    field = model._meta.get_field(column)
    kind = _READ_AS[value_kind]
    required = not field.null and (kind in ("float", "int") or not field.has_default())
    if kind == "int":
        limit: int | None = BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()][1] + 1
    else:
        limit = getattr(field, "max_length", None) if kind == "str" else None
    return Column(column, kind, required, limit)


def _columns(kind: str) -> dict[str, Column]:
    model = results.KINDS[kind]
    return {name: _column(model, column, value_kind) for name, (column, value_kind) in FIELDS[kind].items()}


NET_COLUMNS, HTTP_COLUMNS, DNS_COLUMNS = _columns("net"), _columns("http"), _columns("dns")
DEFAULTS: dict[str, object] = {"str": "", "float": None, "int": None, "json": []}
# (top-level key, rows key) → kind, columns, test types it fits
BODIES = {
    ("net", "metrics"): ("net", NET_COLUMNS, ("agent-to-server", "http-server", "dns-server")),
    ("web", "httpServer"): ("http", HTTP_COLUMNS, ("http-server",)),
    ("dns", "server"): ("dns", DNS_COLUMNS, ("dns-server",)),
}
KIND_NAMES = {"net": "network metrics", "http": "HTTP server data", "dns": "DNS server data"}


def _value(raw, col: Column, name: str):
    if raw is None:
        if col.required:
            raise ValueError(f"{name} is required (got null)")
        return DEFAULTS[col.kind] if col.kind in ("str", "json") else None
    if col.kind == "float":
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not _fits_a_float(raw):
            raise ValueError(f"{name} must be a number, got {json.dumps(raw)[:40]}")
        return float(raw)
    if col.kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not _whole(raw):
            raise ValueError(f"{name} must be a whole number, got {json.dumps(raw)[:40]}")
        assert col.limit is not None  # every int column has its range (_column)
        if not -col.limit <= int(raw) < col.limit:
            raise ValueError(f"{name} must be a whole number from {-col.limit} to {col.limit - 1}, got {int(raw)}")
        return int(raw)
    if col.kind == "json":
        if not isinstance(raw, list):
            raise ValueError(f"{name} must be a list")
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"{name} must be a string, got {json.dumps(raw)[:40]}")
    if col.limit is not None and len(raw) > col.limit:
        raise ValueError(f"{name} must be at most {col.limit} characters, got {len(raw)}")
    if find_control_character(raw, allow_newlines=True) is not None:
        raise ValueError(f"{name} contains a control character")
    return raw


def _fits_a_float(raw) -> bool:
    try:
        return math.isfinite(raw)
    except OverflowError:  # an integer beyond any float
        return False


def _whole(raw) -> bool:
    return isinstance(raw, int) or (math.isfinite(raw) and raw == int(raw))


def parse_body(path: Path, test: Test) -> tuple[str, list[dict]]:
    """Validate a whole file; returns (kind, rows with agent names) or raises ImportFileError naming file and row."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(f"{path}: not readable JSON ({exc})") from None
    found = None
    if isinstance(body, dict):
        for (top, key), spec in BODIES.items():
            if isinstance(body.get(top), dict) and key in body[top]:
                found = (top, key, spec)
    if found is None:
        raise ImportFileError(f"{path}: not a v6 data body (expected net.metrics, web.httpServer or dns.server)")
    top, key, (kind, columns, fits) = found
    if test.type not in fits:
        raise ImportFileError(f"{path}: {KIND_NAMES[kind]} does not fit test {test.id}, a {test.type} test")
    raw_rows = body[top][key]
    if not isinstance(raw_rows, list):
        raise ImportFileError(f"{path}: {top}.{key} must be a list of rows")
    rows = []
    for i, raw in enumerate(raw_rows, start=1):
        try:
            rows.append(_row(raw, columns, test))
        except ValueError as exc:
            raise ImportFileError(f"{path}: row {i}: {exc}") from None
    return kind, rows


def _row(raw, columns: dict[str, Column], test: Test) -> dict:
    if not isinstance(raw, dict):
        raise ValueError("is not an object")
    name = raw.get("agentName")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("agentName is missing")
    if find_control_character(name) is not None:
        raise ValueError("agentName contains a control character")
    round_id = raw.get("roundId")
    if isinstance(round_id, bool) or not isinstance(round_id, int) or round_id <= 0:
        raise ValueError("roundId must be a positive whole number")
    if round_id % test.interval:
        raise ValueError(f"roundId {round_id} is not aligned to the test interval of {test.interval} s")
    if "date" in raw:
        try:
            date = parse_v6_date(raw["date"])
        except DateParseError as exc:
            raise ValueError(f"date: {exc}") from None
    else:
        date = datetime.fromtimestamp(round_id, tz=UTC)
    row = {
        "round_id": round_id,
        "date": date,
        "_agent": name.strip()[:200],
        "_country": raw.get("countryId") if isinstance(raw.get("countryId"), str) else "",
    }
    for field, col in columns.items():
        if col.required and field not in raw:
            raise ValueError(f"{field} is missing (required)")
        row[col.column] = _value(raw.get(field), col, field)
    if "error_type" in row and not row["error_type"]:
        row["error_type"] = "None"
    return row


def _agents_by_name(test: Test, rows: list[dict]) -> dict[str, Agent]:
    """Match agents by name within the test's organization, creating those that are missing."""
    org_id = test.account_group.organization_id
    names = {r["_agent"]: r["_country"] for r in rows}
    agents = {a.name: a for a in Agent.objects.filter(organization_id=org_id, name__in=list(names))}
    for name, country in names.items():
        if name not in agents:
            agents[name] = Agent.objects.create(
                organization_id=org_id, name=name, location=name, country_id=(country or "")[:2], agent_type=Agent.CLOUD
            )
    test.agents.add(*agents.values())
    return agents


def import_file(path: Path, test: Test, progress=None) -> int:
    """Import one file in one transaction; returns the number of rows written."""
    kind, rows = parse_body(path, test)
    with transaction.atomic():
        agents = _agents_by_name(test, rows)
        out = []
        for r in rows:
            agent = agents[r.pop("_agent")]
            r.pop("_country")
            out.append({"test_id": test.id, "agent_id": agent.id, **r})
        step = 2000
        for i in range(0, len(out), step):
            results.upsert(kind, out[i : i + step])
            if progress:
                progress(min(i + step, len(out)), len(out))
    return len(rows)
