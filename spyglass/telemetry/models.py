from django.db import models


class Counter(models.Model):
    """A count that only grows, shared by every app process and worker ("requests:200", "rounds:net"): a Prometheus
    counter read at scrape time (spyglass.telemetry.counters)."""

    key = models.CharField(max_length=100, primary_key=True)
    value = models.BigIntegerField(default=0)
