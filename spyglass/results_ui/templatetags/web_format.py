"""Formatting of result values for the results table."""

from django import template

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
