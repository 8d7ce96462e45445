"""The streams' own gauge on /metrics: each stream's backlog (rounds stored and not yet delivered), registered with
spyglass.telemetry's collector when the app starts, read from the database at scrape time like every metric there."""

from prometheus_client.metrics_core import GaugeMetricFamily

from .models import Stream
from .push import backlog


def stream_backlog():
    gauge = GaugeMetricFamily(
        "spyglass_stream_backlog_rounds",
        "Rounds stored and not yet delivered to the stream's receiver",
        labels=("stream_id", "stream_name", "account_group_id", "status"),
    )
    for stream in Stream.objects.filter(enabled=True).order_by("id"):
        gauge.add_metric([str(stream.id), stream.name, str(stream.account_group_id), stream.status], backlog(stream))
    yield gauge
