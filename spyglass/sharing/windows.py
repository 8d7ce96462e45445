"""A snapshot's window: its length, its position relative to the selected round, aligned to the test interval."""

from dataclasses import dataclass

from spyglass.lib.rounds import round_of
from spyglass.lib.timefmt import format_v6_date

ALLOWED_HOURS = (1, 2, 4, 6, 12, 24, 48)
POSITIONS = ("starting", "around", "ending")


class WindowError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    start_round: int
    end_round: int
    round_id: int  # the round the position points at


def check_hours(hours) -> int:
    if hours not in ALLOWED_HOURS:
        raise WindowError(
            f"the window must be exactly {', '.join(map(str, ALLOWED_HOURS[:-1]))} or {ALLOWED_HOURS[-1]} hours"
        )
    return hours


def window_at(anchor: int, hours: int, position: str, interval: int) -> Window:
    """The window of `hours` starting at / around / ending at the round that contains `anchor` (epoch seconds)."""
    check_hours(hours)
    if position not in POSITIONS:
        raise WindowError(f"position must be one of {', '.join(POSITIONS)}")
    length = hours * 3600
    selected = round_of(anchor, interval)
    if position == "starting":
        start = selected
    elif position == "ending":
        start = round_of(selected - length, interval)
    else:
        start = round_of(selected - length // 2, interval)
    end = round_of(start + length, interval)
    return Window(start_round=start, end_round=end, round_id=selected)


def window_between(start: int, end: int, interval: int) -> Window:
    """The API's from/to: `to - from` must be one of the allowed lengths; the window starts at `from`."""
    length = end - start
    if length <= 0 or length % 3600 or length // 3600 not in ALLOWED_HOURS:
        check_hours(None)
    return window_at(start, length // 3600, "starting", interval)


def up_to_now(window: Window, now: float, interval: int) -> Window:
    """A snapshot freezes what has happened: a window starting after the round in progress at `now` is refused, and
    one reaching past that round ends there (its rounds after now would stay empty forever)."""
    current = round_of(now, interval)
    if window.start_round > current:
        raise WindowError(
            f"the window starts at {format_v6_date(window.start_round)}, in the future (the latest round began at "
            f"{format_v6_date(current)}); choose a window that has begun"
        )
    if window.end_round <= current:
        return window
    return Window(start_round=window.start_round, end_round=current, round_id=min(window.round_id, current))
