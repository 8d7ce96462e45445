"""The agent API's limits of a batch. What a row may carry is the field catalogue (spyglass/monitoring/catalogue.py)."""

MAX_ROWS = 2000
