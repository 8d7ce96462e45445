"""The v6 time-range parameters of data endpoints: window=, from=, to=."""

import re
import time
from dataclasses import dataclass

from .timefmt import DateParseError, epoch, parse_v6_date

_WINDOW_RE = re.compile(r"^([0-9]+)([smhdw]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_WINDOW_SECONDS = 10 * 366 * 86400


class RangeError(ValueError):
    pass


@dataclass(frozen=True)
class TimeRange:
    """An inclusive range in epoch seconds; `latest_only` when no range was given (only the latest round)."""

    start: int | None
    end: int
    latest_only: bool = False


def parse_window(text: str) -> int:
    m = _WINDOW_RE.match(text.strip())
    if not m:
        raise RangeError("window must be a number followed by an optional unit s, m, h, d or w, such as 12h")
    seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if seconds <= 0 or seconds > MAX_WINDOW_SECONDS:
        raise RangeError("window must be greater than 0 and at most 10 years")
    return seconds


def parse_range(params, now: float | None = None) -> TimeRange:
    """Read window/from/to from a query dict. Raises RangeError with a message naming the parameter."""
    now_s = int(now if now is not None else time.time())
    window, start, end = params.get("window"), params.get("from"), params.get("to")
    if window is not None and (start is not None or end is not None):
        raise RangeError("window cannot be combined with from or to")
    if end is not None and start is None:
        raise RangeError("to requires from")
    if window is not None:
        return TimeRange(now_s - parse_window(window), now_s)
    if start is not None:
        try:
            start_s = epoch(parse_v6_date(start))
        except DateParseError as exc:
            raise RangeError(f"from: {exc}") from None
        end_s = now_s
        if end is not None:
            try:
                end_s = epoch(parse_v6_date(end))
            except DateParseError as exc:
                raise RangeError(f"to: {exc}") from None
        if end_s < start_s:
            raise RangeError("to must not be before from")
        return TimeRange(start_s, end_s)
    return TimeRange(None, now_s, latest_only=True)
