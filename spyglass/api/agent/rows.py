"""Validation of an agent's result batch. Every problem names the row and the field; one bad row rejects the batch."""

import time

from django.conf import settings

from spyglass.monitoring import catalogue
from spyglass.monitoring.agent_service import latest_round
from spyglass.monitoring.field_values import agent_value, is_number

from .columns import validate_columns
from .fields import MAX_ROWS

__all__ = ["MAX_ROWS", "BatchError", "validate_batch", "validate_rows"]


class BatchError(ValueError):
    def __init__(self, message: str, rows: list[int]):
        super().__init__(message)
        self.rows = rows


def _int(row: dict, name: str, where: str) -> int:
    value = row.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}.{name} must be a whole number")
    return value


def validate_row(i: int, row, tests: dict, now: float) -> tuple[str, dict]:
    where = f"results[{i}]"
    if not isinstance(row, dict):
        raise ValueError(f"{where} must be an object")
    kind = row.get("kind")
    if not isinstance(kind, str) or kind not in catalogue.upload_kinds():  # a list or an object is no kind
        raise ValueError(f"{where}.kind must be net, http, dns or path")
    test_id = _int(row, "testId", where)
    test = tests.get(test_id)
    if test is None:
        raise ValueError(f"{where}: test {test_id} is not assigned to this agent")
    if test.type not in catalogue.kind(kind).fits:
        raise ValueError(f"{where}: {kind} results do not fit {test.type} test {test_id}")
    round_id = _int(row, "roundId", where)
    if round_id % test.interval:
        raise ValueError(f"{where}.roundId {round_id} is not a round of test {test_id} (interval {test.interval} s)")
    if round_id > latest_round(test.interval, now):
        raise ValueError(f"{where}.roundId {round_id} is a round in the future")
    if round_id < now - settings.RETENTION_DAYS * 86400:
        raise ValueError(f"{where}.roundId {round_id} is older than the retention period")
    date = row.get("date")
    if not is_number(date):
        raise ValueError(f"{where}.date must be epoch seconds")
    if not round_id <= date < round_id + test.interval + 120:
        raise ValueError(f"{where}.date is not within round {round_id}")
    fields = catalogue.by_name(kind)
    unknown = sorted(set(row) - set(fields) - {"kind", "testId", "roundId", "date"})
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r}")
    out = {"test_id": test_id, "round_id": round_id, "date": float(date), **catalogue.defaults(kind)}
    for name, field in fields.items():
        if name in row:
            out[field.column] = agent_value(field, row[name], f"{where}.{name}")
    if kind == "dns" and not out.get("server"):
        raise ValueError(f"{where}.server is required for dns results")
    if kind in ("net", "path") and not out["server"]:
        out["server"] = test.target
    if kind == "path" and out["trace_index"] is None:
        raise ValueError(f"{where}.traceIndex is required for path results")
    return kind, out


def validate_batch(body, tests: dict, now: float | None = None) -> dict[str, dict[str, list]]:
    """{'results': [...]} → per kind, {column: values} ready for agent_service.store_batch (dates still epoch
    seconds); raises BatchError naming the first problems."""
    now = time.time() if now is None else now
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise BatchError('the body must be {"results": [...]}', [])
    rows = body["results"]
    if not rows:
        raise BatchError("results is empty", [])
    if len(rows) > MAX_ROWS:
        raise BatchError(f"a batch holds at most {MAX_ROWS} results, got {len(rows)}", [])
    # Column by column first: a well-formed batch (the agent runtime's) passes there for a fraction of the cost.
    columns = validate_columns(rows, tests, now)
    return columns if columns is not None else validate_rows(rows, tests, now)


def validate_rows(rows: list, tests: dict, now: float) -> dict[str, dict[str, list]]:
    """validate_batch's row-by-row path: slower, and names every row at fault."""
    out: dict[str, list[dict]] = {}
    problems, bad = [], []
    seen = {}
    for i, row in enumerate(rows):
        try:
            kind, clean = validate_row(i, row, tests, now)
        except ValueError as exc:
            problems.append(str(exc))
            bad.append(i)
            continue
        key = (kind, clean["test_id"], clean["round_id"], clean.get("server" if kind == "dns" else "trace_index"))
        if key in seen:
            what = "(test, round, agent, traceIndex)" if kind == "path" else "(test, round, agent)"
            problems.append(f"results[{i}] repeats the key {what} of results[{seen[key]}]")
            bad.append(i)
            continue
        seen[key] = i
        out.setdefault(kind, []).append(clean)
    if bad:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise BatchError("; ".join(problems[:3]) + more + "; nothing of this batch was written", bad)
    # validate_row gives every row of a kind the same columns.
    return {kind: {column: [row[column] for row in clean] for column in clean[0]} for kind, clean in out.items()}
