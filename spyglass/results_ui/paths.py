"""The Path Visualization View's data: the selected round's path traces, as the page's script draws them.

The traces are read by spyglass.monitoring.paths.view_data through the page's ReadScope (window, agents, freeze,
live-share start), like every other read of the component, and travel to the browser as JSON in a data attribute
of the round panel (htmx drops <script> elements from swapped content; the CSP allows no inline script). Django
escapes the attribute, and the script puts every string into the page as text, never as markup."""

import json

from spyglass.monitoring import timeline
from spyglass.monitoring.scope import ReadScope


def _view_data(rows: ReadScope, round_id: int | None) -> dict:
    # Until storage lands (pv-server), no test has traces: the View says so instead of drawing.
    try:
        from spyglass.monitoring import paths
    except ImportError:
        return {"roundId": round_id, "rounds": [], "target": {}, "agents": []}
    return paths.view_data(rows, round_id)


def is_path_view(view) -> bool:
    return view.key == timeline.PATH_VIEW.key


def every_round(rows: ReadScope):
    """Each round of `rows` (a window) that has traces, as view_data gives it without its list of rounds: what a
    snapshot's JSON download carries under "pathVis". One round at a time, so memory stays bounded."""
    for round_id in _view_data(rows, rows.end_round)["rounds"]:
        data = _view_data(rows, round_id)
        data.pop("rounds", None)
        yield data


def path_json(rows: ReadScope, round_id: int | None) -> str:
    """The round's traces (contract §4 shape) as compact JSON for the round panel's data-paths attribute."""
    return json.dumps(_view_data(rows, round_id), separators=(",", ":"))
