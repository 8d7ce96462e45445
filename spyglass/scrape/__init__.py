"""`/metrics`: the Prometheus scrape endpoint (what it shows: spyglass.telemetry; docs/metrics.md)."""
