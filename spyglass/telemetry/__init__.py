"""The server's own metrics for Prometheus: the last round of every test × agent and the server's health, read from
the database when scraped (collector.py), and the counters that health is read from (counters.py). The endpoint,
`/metrics`, is in spyglass/scrape/ (docs/metrics.md)."""
