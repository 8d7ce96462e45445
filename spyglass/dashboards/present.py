"""How a widget is shown, beyond its data: labels, the latest and average values, the chart's JSON. One place for the
dashboard page and a dashboard snapshot's share page."""

import json

METRIC_LABELS = {
    "loss": "Packet loss",
    "latency": "Latency",
    "jitter": "Jitter",
    "availability": "Availability",
    "responseTime": "Response time",
    "totalTime": "Total time",
    "throughput": "Throughput",
    "resolutionTime": "Resolution time",
    "dnsAvailability": "DNS availability",
}
PERIOD_LABELS = {3600: "Last hour", 6 * 3600: "Last 6 hours", 12 * 3600: "Last 12 hours", 24 * 3600: "Last 24 hours"}
PERIOD_LABELS[7 * 24 * 3600] = "Last 7 days"


def period_label(seconds: int) -> str:
    """ "Last 6 hours" for a widget's period; any other length (an API-made snapshot's window) in its largest unit."""
    if seconds in PERIOD_LABELS:
        return PERIOD_LABELS[seconds]
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = round(seconds / size, 1)
            return f"Last {n:g} {unit}{'s' * (n != 1)}"
    return f"Last {seconds} seconds"


def number(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def decorate(widgets: list[dict], now: int) -> list[dict]:
    """What the template shows beyond the service's data: labels, the latest value, the chart's JSON. A widget may
    carry its own `end` (a frozen window's last round); else its chart ends at `now`."""
    for i, widget in enumerate(widgets):
        values = [p["value"] for p in widget["data"] if p["value"] is not None]
        end = widget.get("end", now)
        widget.update(
            metric_label=METRIC_LABELS.get(widget["metric"], widget["metric"]),
            period_label=period_label(widget["period"]),
            latest=number(values[-1]) if values else None,
            average=number(sum(values) / len(values)) if values else None,
            first=i == 0,
            last=i == len(widgets) - 1,
            chart_json=json.dumps(
                {
                    "x": [p["roundId"] for p in widget["data"]],
                    "y": [p["value"] for p in widget["data"]],
                    "start": end - widget["period"],
                    "end": end,
                    "unit": widget["unit"],
                    "percent": widget["unit"] == "%",
                    "label": METRIC_LABELS.get(widget["metric"], widget["metric"]),
                },
                separators=(",", ":"),
            ),
        )
    return widgets
