"""`spyglass import`: ThousandEyes v6 data bodies (net metrics, HTTP server, DNS server, path-vis) into a test.

Each file is checked whole before anything is written; a file that does not fit the test or has a malformed row is
rejected with its name and the row, and nothing of it is imported. Re-importing replaces rows, never duplicates."""

import json
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction

from spyglass.lib.text import find_control_character
from spyglass.lib.timefmt import DateParseError, parse_v6_date

from . import catalogue, path_import, results
from .field_values import imported_value
from .models import Agent, Test


class ImportFileError(ValueError):
    pass


def parse_body(path: Path, test: Test) -> tuple[str, list[dict]]:
    """Validate a whole file; returns (kind, rows with agent names) or raises ImportFileError naming file and row."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(f"{path}: not readable JSON ({exc})") from None
    found = None
    if isinstance(body, dict):
        for described in catalogue.upload_kinds().values():
            top, key = described.body
            if isinstance(body.get(top), dict) and key in body[top]:
                found = described
    if found is None:
        *others, last = (".".join(k.body) for k in catalogue.upload_kinds().values())
        raise ImportFileError(f"{path}: not a v6 data body (expected {', '.join(others)} or {last})")
    kind, (top, key) = found.key, found.body
    if test.type not in found.fits:
        raise ImportFileError(f"{path}: {found.title} does not fit test {test.id}, a {test.type} test")
    raw_rows = body[top][key]
    if not isinstance(raw_rows, list):
        raise ImportFileError(f"{path}: {top}.{key} must be a list of rows")
    rows: list[dict] = []
    for i, raw in enumerate(raw_rows, start=1):
        try:
            if kind == "path":  # one entry per agent and round holds its traces (path_import.py)
                head = _head(raw, test)
                traces, summary = path_import.traces(raw, test)
                rows.extend({**head, **trace, "_summary": summary} for trace in traces)
            else:
                rows.append(_row(raw, found.fields, test))
        except ValueError as exc:
            raise ImportFileError(f"{path}: row {i}: {exc}") from None
    return kind, rows


def _row(raw, fields: tuple[catalogue.Field, ...], test: Test) -> dict:
    row = _head(raw, test)
    for field in fields:
        if field.required and field.name not in raw:
            raise ValueError(f"{field.name} is missing (required)")
        row[field.column] = imported_value(field, raw.get(field.name), field.name)
    return row


def _head(raw, test: Test) -> dict:
    """What every kind of row names: its agent, round and date."""
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
    return {
        "round_id": round_id,
        "date": date,
        "_agent": name.strip()[:200],
        "_country": raw.get("countryId") if isinstance(raw.get("countryId"), str) else "",
    }


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
        if kind == "path":
            summaries = set()
            for r in out:
                r["date"] = r["date"].timestamp()
                if r.pop("_summary"):
                    summaries.add((r["test_id"], r["round_id"], r["agent_id"]))
            return path_import.store(out, summaries)
        step = 2000
        for i in range(0, len(out), step):
            results.upsert(kind, out[i : i + step])
            if progress:
                progress(min(i + step, len(out)), len(out))
    return len(rows)
