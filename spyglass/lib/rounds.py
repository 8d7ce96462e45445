"""Round arithmetic: a roundId is the epoch second a round starts at, divisible by the test interval."""

ALLOWED_INTERVALS = (60, 120, 300, 600, 900, 1800, 3600)


def round_of(epoch_seconds: float, interval: int) -> int:
    """The roundId that contains the instant."""
    return int(epoch_seconds) // interval * interval


def rounds_between(start: int, end: int, interval: int) -> range:
    """Round ids from the round containing start to the round containing end, inclusive."""
    return range(round_of(start, interval), round_of(end, interval) + 1, interval)
