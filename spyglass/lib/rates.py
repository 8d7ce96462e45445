"""Rate specifications such as "5/5m,10/1h": several limits, each a count per period."""

import re

_RATE_RE = re.compile(r"^\s*([0-9]{1,6})\s*/\s*([0-9]{0,6})\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rates(text: str) -> list[tuple[int, int]]:
    """'5/5m,10/1h' → [(5, 300), (10, 3600)]. Raises ValueError naming the part that does not parse."""
    limits = []
    for part in text.split(","):
        m = _RATE_RE.match(part)
        if not m or int(m.group(1)) < 1:
            raise ValueError(f"{part.strip()!r} is not a limit like 5/5m (count / period in s, m, h or d)")
        seconds = int(m.group(2) or 1) * _UNIT[m.group(3)]
        if seconds < 1:
            raise ValueError(f"{part.strip()!r} has an empty period")
        limits.append((int(m.group(1)), seconds))
    return limits
