"""The Path Visualization View's data: the selected round's path traces, as the page's script draws them.

The traces are read by spyglass.monitoring.paths.view_data over the page's ResultsScope (its window, within what the
reader may see: a snapshot's agents and freeze, a live share's start), like every other read of the component, and
travel to the browser as JSON in a data attribute of the round panel (htmx drops <script> elements from swapped
content; the CSP allows no inline script). Django escapes the attribute, and the script puts every string into the
page as text, never as markup."""

import json
from collections.abc import Iterator

import orjson

from spyglass.monitoring import paths, timeline


def is_path_view(view) -> bool:
    return view.key == timeline.PATH_VIEW.key


def changed_rounds(scope) -> list[int]:
    """The rounds of the page's window in which any agent's path changed: marked on the View's timeline."""
    return paths.changed_rounds(scope.allowed, scope.start, scope.end)


def download(scope) -> Iterator[bytes]:
    """The value of a snapshot's JSON download's "pathVis" (docs/path-visualization.md, "Download"), streamed: the
    scope's rounds with traces first, a round at a time, then each distinct path they took once, and the agents'
    names — {"rounds": [...], "paths": {...}, "agents": {...}}."""
    export = paths.WindowExport(scope.allowed, scope.start, scope.end)
    yield b'{"rounds":['
    for i, data in enumerate(export.rounds()):
        yield (b"," if i else b"") + orjson.dumps(data)
    yield b'],"paths":' + orjson.dumps(export.paths()) + b',"agents":' + orjson.dumps(export.agents()) + b"}"


def path_json(scope, round_id: int | None) -> str:
    """The round's traces (view_data's shape, docs/path-visualization.md) as compact JSON for the round panel's
    data-paths attribute."""
    return json.dumps(paths.view_data(scope, round_id), separators=(",", ":"))
