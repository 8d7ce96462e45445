"""The results page as one component: it renders a live test, a window of it, or a frozen snapshot.

A caller describes what may be shown with a ResultsScope (test, window, agents, the URL the page lives at, whether
it is read-only) and calls render_results(request, scope). Nothing here reads outside the scope, so a snapshot page
built on it cannot leak rounds or agents outside its window through the page or any query parameter.

The page reads `roundId` and `view` from its URL. An htmx request whose target is the round panel (timeline click,
previous/next) gets only that panel and fresh View tabs; `?lines=agents` gets the timeline's per-agent lines as JSON
(the chart's "Per agent" toggle); anything else gets the whole page."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from spyglass.lib.rounds import round_of
from spyglass.lib.text import is_digits
from spyglass.monitoring import catalogue, timeline
from spyglass.monitoring.models import Test
from spyglass.monitoring.scope import ReadScope

from . import chart_text, paths

# Period choices of the live page: (URL value, seconds, label).
PERIODS = [
    ("1h", 3600, "1 hour"),
    ("6h", 6 * 3600, "6 hours"),
    ("12h", 12 * 3600, "12 hours"),
    ("24h", 24 * 3600, "24 hours"),
    ("48h", 48 * 3600, "2 days"),
    ("7d", 7 * 86400, "7 days"),
]
DEFAULT_PERIOD = "24h"
TYPE_LABELS = {Test.AGENT_TO_SERVER: "Agent to Server", Test.HTTP_SERVER: "HTTP Server", Test.DNS_SERVER: "DNS Server"}


@dataclass(frozen=True)
class ResultsScope:
    test: Test  # whose configuration the page shows (a snapshot shows its own frozen copy)
    allowed: ReadScope  # what the reader may see (spyglass.monitoring.scope.read_scope): every read goes through it
    start: int  # first round shown (epoch seconds), inside `allowed`
    end: int  # last round shown
    page_url: str  # where this page lives; round and view links add query parameters to it
    period: str | None = None  # the live page's period choice; None for a fixed window (snapshot)
    read_only: bool = False  # a snapshot: no Share button, no links leading outside the page
    extra_params: tuple[tuple[str, str], ...] = ()  # kept on every link (e.g. aid)
    partial_url: str | None = None  # where htmx asks for parts of the page; None = page_url
    # The per-round aggregates of a window that never changes (a snapshot's stored rollups): view -> Timeline.
    # None = ask the database (timeline.timeline over scope.rows), as a live page must.
    timelines: Callable[[timeline.View], timeline.Timeline] | None = None

    def series(self, view) -> timeline.Timeline:
        """The view's per-round timeline over the page's window."""
        if self.timelines is not None:
            return self.timelines(view)
        return timeline.timeline(self.rows, view)

    @property
    def rows(self) -> ReadScope:
        """The rows this page shows: the reader's scope narrowed to the page's window."""
        return self.allowed.within(self.start, self.end)

    def _query(self, params) -> list[tuple[str, str]]:
        query = [(k, str(v)) for k, v in params.items() if v is not None]
        if self.period:
            query.append(("period", self.period))
        query.extend(self.extra_params)
        return query

    def url(self, **params) -> str:
        query = self._query(params)
        return f"{self.page_url}?{urlencode(query)}" if query else self.page_url

    def partial(self, **params) -> str:
        """The address htmx fetches a part of the page from (a share page's data requests never count as visits)."""
        base = self.partial_url or self.page_url
        query = self._query(params)
        return f"{base}?{urlencode(query)}" if query else base


def parse_round(raw) -> int | None:
    if raw is None or not is_digits(str(raw)) or len(str(raw)) > 12:
        return None
    return int(raw)


def bounded(test: Test, allowed: ReadScope, start: int, end: int, page_url: str, **options) -> ResultsScope:
    """A page over [start, end] clamped to what `allowed` lets the reader see."""
    start, end = allowed.clamp(start, end)
    return ResultsScope(test, allowed, start, end, page_url, **options)


def period_seconds(period: str | None) -> tuple[str, int]:
    """(the period's URL value, its seconds): an unknown or missing period is the default."""
    period = period if period in {p for p, _, _ in PERIODS} else DEFAULT_PERIOD
    return period, next(s for p, s, _ in PERIODS if p == period)


def latest_period(test: Test, period: str | None) -> tuple[int, int]:
    """(first round, last round) of the period ending now."""
    _, seconds = period_seconds(period)
    now = round_of(time.time(), test.interval)
    return now - seconds + test.interval, now


def live_scope(
    test: Test, allowed: ReadScope, page_url: str, period: str | None, round_id: int | None, extra_params=()
) -> ResultsScope:
    """The live page's window: the period ending now, or around the selected round when that is older — clamped to
    what the reader may see (a live-share recipient never sees a round from before the share began)."""
    period, seconds = period_seconds(period)
    start, end = latest_period(test, period)
    if round_id is not None and round_id < start:
        end = min(end, round_of(round_id + seconds // 2, test.interval))
        start = end - seconds + test.interval
    return bounded(test, allowed, start, end, page_url, period=period, extra_params=tuple(extra_params))


def _iso(epoch: int | None) -> str:

    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def round_context(scope: ResultsScope, view, round_id: int | None, neighbours=None) -> dict:
    """The selected round's part of the page: its header, previous/next links and every agent's row."""
    test = scope.test
    if round_id is not None and not scope.start <= round_id <= scope.end:
        round_id = None
    if scope.timelines is not None and neighbours is None:
        # Stored per-round aggregates answer "latest" and "neighbours" without reading the window's rows.
        series = scope.series(view)
        if round_id is None:
            round_id = series.rounds[-1] if series.rounds else None
        if round_id is not None:
            neighbours = series.neighbours(round_id)
    if round_id is None:
        round_id = timeline.latest_round(scope.rows, view.kind)
    rows = timeline.round_rows(scope.rows, view.kind, round_id) if round_id is not None else []
    if round_id is not None and neighbours is None:
        neighbours = timeline.neighbours(scope.rows, view.kind, round_id)
    prev_round, next_round = neighbours or (None, None)
    errors = sum(1 for r in rows if r["error"])
    return {
        "paths_json": paths.path_json(scope, round_id) if paths.is_path_view(view) else None,
        "round_id": round_id,
        "round_label": _iso(round_id),
        "rows": rows,
        "row_errors": errors,
        "prev_url": scope.url(roundId=prev_round, view=view.key) if prev_round else None,
        "next_url": scope.url(roundId=next_round, view=view.key) if next_round else None,
        "prev_partial": scope.partial(roundId=prev_round, view=view.key) if prev_round else None,
        "next_partial": scope.partial(roundId=next_round, view=view.key) if next_round else None,
        "columns": [(c, column_label(c, view)) for c in (view.column, *[c for c in view.columns if c != view.column])],
        "kind": view.kind,
        # Switching views keeps the selected round: the tabs' links carry it.
        "views": [
            (v, scope.url(roundId=round_id, view=v.key), scope.partial(roundId=round_id, view=v.key), v.key == view.key)
            for v in timeline.views_for(test)
        ],
    }


LISTED_CHANGES = 20  # rounds with a path change named under the timeline; the marks show all of them


def page_context(scope: ResultsScope, view_key: str | None, round_id: int | None) -> dict:
    """Everything the component template needs: views, the timeline data and the selected round."""
    test = scope.test
    view = timeline.view_for(test, view_key)
    series = scope.series(view)
    if series.index_of(round_id) is None:
        round_id = series.rounds[-1] if series.rounds else None
    neighbours = series.neighbours(round_id) if round_id is not None else None
    chart = {
        "rounds": series.rounds,
        "values": series.values,
        "agents": series.agents,
        "errors": series.errors,
        "labels": [s.label for s in view.series],
        "unit": view.unit,
        "stacked": view.stacked,
        "view": view.key,
        "selected": round_id,
        "start": scope.start,
        "end": scope.end,
        "interval": test.interval,
        "roundUrl": scope.partial(view=view.key),
        "pageUrl": scope.url(view=view.key),
        # The "Per agent" toggle's data (AGENT_LINES_PARAM): fetched when asked for, never with the page.
        # The selected round rides along so that a live page's window around an older round is the window asked for.
        "linesUrl": scope.partial(view=view.key, roundId=round_id, **dict([AGENT_LINES_PARAM])),
    }
    changes = paths.changed_rounds(scope) if paths.is_path_view(view) else []
    if paths.is_path_view(view):
        chart["changes"] = changes  # drawn as marks on the timeline (results.js)
    context = {
        "scope": scope,
        "test": test,
        "type_label": TYPE_LABELS[test.type],
        "view": view,
        "periods": _periods(scope, view.key, round_id) if scope.period else [],
        "chart": chart,
        "chart_json": json.dumps(chart, separators=(",", ":")),
        # The chart's text alternative (results_ui/chart_text.py), from the timeline already in memory.
        "chart_summary": chart_text.summary(series, view),
        "window_label": f"{_iso(scope.start)} – {_iso(scope.end)}",
        "round_count": len(series.rounds),
        "path_view": paths.is_path_view(view),
        # The marks' text alternative: the first rounds with a change, each a link that selects it.
        "path_changes": [
            (_iso(r), scope.url(roundId=r, view=view.key), scope.partial(roundId=r, view=view.key))
            for r in changes[:LISTED_CHANGES]
        ],
        "path_change_count": len(changes),
        "path_changes_unlisted": max(0, len(changes) - LISTED_CHANGES),
    }
    # The table's neighbours come from the timeline already in memory: no extra query.
    context.update(round_context(scope, view, round_id, neighbours=neighbours if round_id is not None else None))
    return context


def _periods(scope: ResultsScope, view_key: str, round_id: int | None) -> list[tuple]:
    """The period links: (value, label, page URL, htmx URL, active). A link keeps the selected round when that round
    is inside the period it opens (the period ending now); else it opens the period's latest round."""
    out = []
    for period, _, label in PERIODS:
        start, end = latest_period(scope.test, period)
        keep = round_id is not None and start <= round_id <= end
        query = [("view", view_key), *([("roundId", str(round_id))] if keep else []), ("period", period)]
        query.extend(scope.extra_params)
        partial_base = scope.partial_url or scope.page_url
        out.append(
            (
                period,
                label,
                f"{scope.page_url}?{urlencode(query)}",
                f"{partial_base}?{urlencode(query)}",
                period == scope.period,
            )
        )
    return out


AGENT_LINES_PARAM = ("lines", "agents")


def wants_agent_lines(request) -> bool:
    return request.GET.get(AGENT_LINES_PARAM[0]) == AGENT_LINES_PARAM[1]


def agent_lines_response(request, scope: ResultsScope) -> JsonResponse:
    """`?lines=agents`: the View's metric per agent and round over the page's window (timeline.agent_lines), as the
    chart's "Per agent" toggle draws it — within the scope like every other read of the component."""
    view = timeline.view_for(scope.test, request.GET.get("view"))
    lines = timeline.agent_lines(scope.rows, view)
    response = JsonResponse({"rounds": lines.rounds, "agents": lines.agents, "total": lines.total})
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


LABELS = catalogue.labels()


def column_label(column: str, view) -> str:
    return LABELS.get(column, column)


ROUND_PANEL = "round-panel"


def requested(request, default_round=None, default_view=None) -> tuple[int | None, str | None, bool]:
    """(round, view key, whether the URL named the round) the request asks for: `roundId` and `view` from the URL,
    else the defaults (a snapshot: the creator's)."""
    round_id = parse_round(request.GET.get("roundId"))
    explicit = "roundId" in request.GET
    view_key = request.GET.get("view")
    if round_id is None and not explicit:
        round_id = default_round
    if view_key is None:
        view_key = default_view
    return round_id, view_key, explicit


def component_context(request, scope: ResultsScope, round_id, view_key, extra_context=None) -> dict:
    """What results_ui/component.html needs for this request: the page context and the row to mark."""
    context = page_context(scope, view_key, round_id)
    # The API's permalinks (…?roundId=…&agentId=…) point here: mark that agent's row.
    context["highlight_agent"] = parse_round(request.GET.get("agentId"))
    context.update(extra_context or {})
    return context


def render_component(context: dict) -> str:
    """The results component alone. It reads nothing from the request or the signed-in user (no context
    processors), so a frozen window's component can be rendered once and served to anyone who may see it."""
    return render_to_string("results_ui/component.html", context)


def is_round_panel(request) -> bool:
    return bool(request.htmx and request.htmx.target == ROUND_PANEL)


def render_results(
    request,
    scope: ResultsScope,
    *,
    template: str,
    extra_context=None,
    fallback=None,
    default_round=None,
    default_view=None,
):
    """The results page (or its round panel, for htmx) for the scope, in `template` (the page that includes
    results_ui/component.html). `fallback` is a scope to use instead when the
    URL's round has no results in `scope` (the live page moves its period back to show an old round). Without
    roundId/view in the URL the page opens at `default_round` / `default_view` (a snapshot: the creator's)."""
    if wants_agent_lines(request):
        return agent_lines_response(request, scope)
    round_id, view_key, _ = requested(request, default_round, default_view)
    if is_round_panel(request):
        view = timeline.view_for(scope.test, view_key)
        context = round_context(scope, view, round_id)
        context.update(scope=scope, view=view, test=scope.test, oob_tabs=True)
        template = "results_ui/_round_panel.html"
    else:
        context = page_context(scope, view_key, round_id)
        if fallback is not None and round_id is not None and context["round_id"] != round_id:
            context = page_context(fallback, view_key, None)
    # The API's permalinks (…?roundId=…&agentId=…) point here: mark that agent's row.
    context["highlight_agent"] = parse_round(request.GET.get("agentId"))
    context.update(extra_context or {})
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
