"""The results component (spyglass.results_ui.component), one room below `web` and `sharing`, which both render it:
the live results page, in-app snapshots and share links."""
