"""Formatting of result values for the results table."""

from html import escape

from django import template
from django.utils.safestring import SafeString

from spyglass.monitoring import catalogue

register = template.Library()

# Read from the field catalogue: whole numbers are shown without decimals, text is sorted as text.
_INTEGERS = {f.column for k in catalogue.kinds().values() for f in k.fields if f.value == "whole"}
_TEXT = {f.column for k in catalogue.kinds().values() for f in k.fields if f.value in ("text", "multiline")}


@register.filter
def cell(row: dict, column: str) -> str:
    """The row's value for the column, formatted for reading; an em dash when there is none."""
    value = row.get(column)
    if value is None or value == "":
        return "—"
    if column in _INTEGERS:
        return f"{int(value):,}" if column == "wire_size" else str(int(value))
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


@register.filter
def is_text(column: str) -> bool:
    """Whether the table's column holds text (sorted as text, set in a monospace font) rather than numbers."""
    return column in _TEXT


@register.filter
def sort_value(row: dict, column: str) -> str:
    """A machine-readable value for the table's client-side sort (numbers as numbers, missing last)."""
    value = row.get(column)
    if value is None:
        return ""
    return str(value)


@register.filter
def ago(moment) -> str:
    """'3 hours ago', 'just now' under a minute."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, depth=1)} ago"


@register.simple_tag
def round_table_rows(rows: list[dict], columns, highlight_agent) -> SafeString:
    """The round table's body: one <tr> per agent's row, every value escaped. Built here rather than by a template
    loop, which cost about 0.2 ms a row (a round of 200 agents: 40 ms, most of the results page) — the page's only
    part that grows with the agents (docs/benchmarks.md, row 11). Escaped as the template escaped them
    (django.utils.html.escape is html.escape, without its lazy-string wrapper)."""
    heads = []
    for i, (column, _) in enumerate(columns):
        kind = "mono" if is_text(column) else "num"
        heads.append((column, f'<td data-value="{{}}" class="{"lead " if i == 0 else ""}{kind}">'))
    out = []
    for row in rows:
        marks = ("row-error" if row["error"] else "") + (" row-highlight" if row["agent_id"] == highlight_agent else "")
        country = f' <span class="muted">{escape(row["country"])}</span>' if row["country"] else ""
        cells = "".join(
            # Only text needs escaping: what cell() and sort_value() make of a number is digits and punctuation.
            head.format(escape(row[column])) + escape(cell(row, column)) + "</td>"
            if type(row.get(column)) is str
            else head.format(sort_value(row, column)) + cell(row, column) + "</td>"
            for column, head in heads
        )
        out.append(
            f'<tr class="{marks}" data-agent-id="{row["agent_id"]}">'
            f'<td class="strong">{escape(row["agent_name"])}</td>'
            f"<td>{escape(row['location'])}{country}</td>{cells}"
            f'<td class="error-cell">{escape(row["error"] or "")}</td></tr>\n'
        )
    return SafeString("".join(out))
