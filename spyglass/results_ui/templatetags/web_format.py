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


# Numbers from here up are shortened in the table (12,345,678 → 12.3 M), the exact value in the cell's title.
SHORTEN_FROM = 100_000
_SUFFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def short(value) -> str | None:
    """A number of SHORTEN_FROM or more in three significant digits and a suffix ('123 k', '4.57 M'); None for
    anything smaller or not a number (shown in full)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) < SHORTEN_FROM:
        return None
    for size, suffix in _SUFFIXES:
        if abs(value) >= size:
            scaled = value / size
            digits = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            return f"{scaled:.{digits}f} {suffix}"
    return None


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


def _value_cell(row: dict, column: str, classes: str) -> str:
    """One <td>: data-value for the sort, the value formatted to fit (a long number shortened, exact in title)."""
    value = row.get(column)
    if type(value) is str:
        return f'<td data-value="{escape(value)}" class="{classes}">{escape(cell(row, column))}</td>'
    # Only text needs escaping: what cell(), short() and sort_value() make of a number is digits and punctuation.
    shortened = short(value) if value is not None and abs(value) >= SHORTEN_FROM else None
    if shortened is not None:
        return (
            f'<td data-value="{sort_value(row, column)}" class="{classes}" title="{cell(row, column)}">{shortened}</td>'
        )
    return f'<td data-value="{sort_value(row, column)}" class="{classes}">{cell(row, column)}</td>'


@register.simple_tag
def round_table_rows(rows: list[dict], columns, highlight_agent) -> SafeString:
    """The round table's body: one <tr> per agent's row, every value escaped, in the table's order: the agent (a row
    header, fixed while the rest scrolls), the View's column, the error, the location, the other columns. Built
    here rather than by a template loop, which cost about 0.2 ms a row (a round of 200 agents: 40 ms, most of the
    results page) — the page's only part that grows with the agents (docs/benchmarks.md, row 11). Escaped as the
    template escaped them (django.utils.html.escape is html.escape, without its lazy-string wrapper)."""
    (lead, _), *rest = columns
    lead_class = f"lead {'mono' if is_text(lead) else 'num'}"
    rest_classes = [(column, "mono" if is_text(column) else "num") for column, _ in rest]
    out = []
    for row in rows:
        marks = ("row-error" if row["error"] else "") + (" row-highlight" if row["agent_id"] == highlight_agent else "")
        country = f' <span class="muted">{escape(row["country"])}</span>' if row["country"] else ""
        cells = "".join(_value_cell(row, column, classes) for column, classes in rest_classes)
        out.append(
            f'<tr class="{marks}" data-agent-id="{row["agent_id"]}">'
            f'<th scope="row" class="agent-cell">{escape(row["agent_name"])}</th>'
            f"{_value_cell(row, lead, lead_class)}"
            f'<td class="error-cell">{escape(row["error"] or "")}</td>'
            f"<td>{escape(row['location'])}{country}</td>{cells}</tr>\n"
        )
    return SafeString("".join(out))
