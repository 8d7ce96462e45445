"""The Path Visualization View's data: the selected round's path traces, as the page's script draws them.

The traces are read by spyglass.monitoring.paths.view_data over the page's ResultsScope (its window, within what the
reader may see: a snapshot's agents and freeze, a live share's start), like every other read of the component, and
travel to the browser as JSON in a data attribute of the round panel (htmx drops <script> elements from swapped
content; the CSP allows no inline script). Django escapes the attribute, and the script puts every string into the
page as text, never as markup."""

import json
from dataclasses import replace

from spyglass.monitoring import paths, timeline


def is_path_view(view) -> bool:
    return view.key == timeline.PATH_VIEW.key


def every_round(scope):
    """Each round of the scope's window that has traces, as view_data gives it without its list of rounds: what a
    snapshot's JSON download carries under "pathVis". One round at a time, so memory stays bounded."""
    for round_id in paths.round_ids(scope.rows):
        # Each round read over a window of that round alone (its `changed` still compares with what came before).
        data = paths.view_data(replace(scope, start=round_id, end=round_id), round_id)
        data.pop("rounds", None)
        yield data


def path_json(scope, round_id: int | None) -> str:
    """The round's traces (view_data's shape, docs/path-visualization.md) as compact JSON for the round panel's
    data-paths attribute."""
    return json.dumps(paths.view_data(scope, round_id), separators=(",", ":"))
