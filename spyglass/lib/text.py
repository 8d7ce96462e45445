"""Checks on user-written text."""

import re

# Unicode's control (Cc: U+0000–U+001F, U+007F–U+009F) and surrogate (Cs: U+D800–U+DFFF) code points, as one
# compiled character class: the agent API checks every text field of every result row, so a per-character Python
# loop showed in the ingestion profile.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_NEWLINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def find_control_character(value: str, allow_newlines: bool = False) -> str | None:
    """The first control character in the text (newlines and tabs allowed only when asked), else None."""
    found = (_CONTROL_BUT_NEWLINES if allow_newlines else _CONTROL).search(value)
    return found.group() if found else None


def is_digits(value: str) -> bool:
    """Only the ASCII digits 0-9: str.isdigit() also takes "²", which int() refuses (a 500 where a 400 or 404 is
    due)."""
    return value.isascii() and value.isdigit()
