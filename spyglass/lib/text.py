"""Checks on user-written text."""

import unicodedata

_ALLOWED = {"\n", "\r", "\t"}


def find_control_character(value: str, allow_newlines: bool = False) -> str | None:
    """The first control character in the text (newlines and tabs allowed only when asked), else None."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs") and not (allow_newlines and ch in _ALLOWED):
            return ch
    return None
