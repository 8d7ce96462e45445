"""The timeline's text alternative: one line that says what the chart shows, for a screen reader and for anyone.

From the per-round timeline the page already holds (no query): the rounds, the metric's minimum, average and maximum
across them, the rounds in which an agent had an error, and the worst round — the highest, or the lowest for a View
where lower is worse (availability, throughput). A stacked View (the phases of a request) is read by its total."""

from datetime import UTC, datetime

from spyglass.monitoring.timeline import Timeline, View


def round_label(epoch: int) -> str:
    """A round as the page writes it: '2026-11-22 13:36 UTC'."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_value(value: float, unit: str) -> str:
    """A value as the chart's legend writes it (results.js formatValue): whole from 100 up, else two decimals."""
    number = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return f"{number} {unit}"


def per_round(series: Timeline) -> list[float | None]:
    """The metric per round: the View's one series, or the sum of a stacked View's parts (None if a part is)."""
    if len(series.values) == 1:
        return series.values[0]
    return [
        None if any(v is None for v in parts) else round(sum(parts), 3) for parts in zip(*series.values, strict=True)
    ]


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary(series: Timeline, view: View) -> str:
    """'Response Time, average across agents, over 1,440 rounds: minimum 12.30 ms, average 45.60 ms, maximum 280 ms;
    3 rounds with errors (at most 2 agents); worst round 2026-11-22 13:36 UTC (280 ms).'"""
    n = len(series.rounds)
    name = f"{view.label} (total of its phases)" if view.stacked else view.label
    if not n:
        return f"{name}: no results in this period."
    values = per_round(series)
    known = [(v, r) for v, r in zip(values, series.rounds, strict=True) if v is not None]
    text = f"{name}, average across agents, over {_count(n, 'round')}"
    if known:
        low, high = min(v for v, _ in known), max(v for v, _ in known)
        mean = sum(v for v, _ in known) / len(known)
        text += (
            f": minimum {format_value(low, view.unit)}, average {format_value(mean, view.unit)}, "
            f"maximum {format_value(high, view.unit)}"
        )
    else:
        text += ": no values"
    with_errors = [e for e in series.errors if e]
    if with_errors:
        text += f"; {_count(len(with_errors), 'round')} with errors (at most {_count(max(with_errors), 'agent')})"
    else:
        text += "; no errors"
    if known and len(known) > 1:
        # The first of equals: min/max keep the earliest.
        worst = min(known, key=lambda k: k[0]) if view.lower_is_worse else max(known, key=lambda k: k[0])
        text += f"; worst round {round_label(worst[1])} ({format_value(worst[0], view.unit)})"
    return text + "."
