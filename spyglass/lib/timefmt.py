"""v6 date formats: lenient parsing of request dates, strict writing of response dates (UTC)."""

import re
from datetime import UTC, datetime
from typing import overload

# "2018-10-06T00:00:00", "2018-10-06 00:00:00", "2020-02-05T9:15:00 " (hour without leading zero, trailing space),
# seconds optional. Everything is UTC; an explicit "Z" or "+00:00" is tolerated.
_DATE_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?\s*(?:Z|\+00:?00)?\s*$"
)

RESPONSE_FORMAT = "%Y-%m-%d %H:%M:%S"


class DateParseError(ValueError):
    pass


def parse_v6_date(text: str) -> datetime:
    """Parse a request date leniently; raises DateParseError with a message naming the expected format."""
    if not isinstance(text, str):
        raise DateParseError("expected a date string like 2018-10-06T00:00:00")
    m = _DATE_RE.match(text)
    if not m:
        raise DateParseError(f"'{text.strip()[:40]}' is not a date like 2018-10-06T00:00:00 or 2018-10-06 00:00:00")
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise DateParseError(f"'{text.strip()[:40]}' is not a valid date: {exc}") from None


@overload
def format_v6_date(value: datetime | int | float) -> str: ...
@overload
def format_v6_date(value: None) -> None: ...
def format_v6_date(value: datetime | int | float | None) -> str | None:
    """Write a datetime (or epoch seconds) the way v6 responses do: 'YYYY-MM-DD HH:MM:SS' in UTC."""
    if value is None:
        return None
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, tz=UTC)
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    if value.year < 1000:  # strftime's %Y does not pad these
        return value.strftime(RESPONSE_FORMAT)
    # RESPONSE_FORMAT by formatting the fields: a list writes two dates per test, and strftime cost three times as much.
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"


def epoch(value: datetime) -> int:
    return int(value.timestamp())
