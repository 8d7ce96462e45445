"""The share link's pages: /s/<linkId>/ (read-only, anyone with the link), its downloads and its comment form.

Every request goes through `load_shared_snapshot`: malformed ids never reach the database, a revoked link is 404 on
every process (the link is never cached: each request reads its row), an expired one 410, a saved event 404 to anyone
but signed-in members of its account group (audience.may_open, decided with the lookup). Responses are never cacheable and never leak the link through Referer.

The frozen part of a page (header, meta tags, results component) is rendered once per round and View and kept in
the database (stored.py); the visit count and the comments section (the comment form's token, who is signed in)
are put in for every request (comments_section)."""

import csv
import functools
import io
from dataclasses import replace
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.core import signing
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt

from spyglass.accounts import ratelimit
from spyglass.accounts.ratelimit import client_ip
from spyglass.lib import replicas
from spyglass.lib.timefmt import format_v6_date
from spyglass.lib.timeranges import TimeRange
from spyglass.monitoring import catalogue, queries
from spyglass.monitoring.models import Test
from spyglass.results_ui import paths
from spyglass.results_ui.component import (
    ResultsScope,
    agent_lines_response,
    bounded,
    component_context,
    is_round_panel,
    render_component,
    render_results,
    requested,
    wants_agent_lines,
)

from . import links, page_reads, page_visit, services, stored
from .emails import snapshot_date
from .errors import RateLimited, SharingError
from .scope_provider import scope_of
from .summary import summary_of

SHARE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
}
KINDS_OF = {test_type: catalogue.kinds_of(test_type) for test_type, _ in Test.TYPES}
FORM_SALT = "spyglass.sharing.comment"


def share_view(*methods):
    """Every view under /s/: its answers, refusals and 405s all carry SHARE_HEADERS (the one place they are set).
    `methods` are those it takes (none = any). The pages take HEAD as GET, with the same headers: link-preview bots
    and caches ask it first. Downloads do not (a HEAD would stream the whole window to throw it away)."""
    allowed = set(methods)

    def decorate(view):
        @functools.wraps(view)
        def answer(request, *args, **kwargs):
            if allowed and request.method not in allowed:
                response = HttpResponseNotAllowed(sorted(allowed))
            else:
                response = view(request, *args, **kwargs)
            for key, value in SHARE_HEADERS.items():
                response[key] = value
            return response

        return answer

    return decorate


def _page(request, template, context, status):
    return render(request, template, context, status=status)


def _not_found(request, link_id=None):
    """The one 404 of /s/: unknown, revoked, or a saved event this visitor may not open — told apart for nobody. A
    signed-out visitor of a link-shaped address also reads that a saved event needs signing in, with a sign-in link
    that returns here: the same words for every such address, so they reveal nothing the 404 did not."""
    sign_in = ""
    if link_id is not None and not request.user.is_authenticated:
        sign_in = f"{settings.BASE_URL}{reverse('web:login')}?{urlencode({'next': f'/s/{link_id}/'})}"
    return _page(request, "sharing/not_found.html", {"sign_in_url": sign_in}, 404)


class Refused(Exception):
    def __init__(self, response):
        self.response = response


def _miss_key(request) -> str:
    return f"share-miss:{client_ip(request)}"


def _check_misses(request):
    """Guessing links is bounded: an address with too many misses in a minute gets 429 for the rest of it."""
    if ratelimit.peek(_miss_key(request), 60) >= settings.SHARE_MISS_LIMIT_PER_MINUTE:
        response = _page(request, "sharing/message.html", {"title": "Too many requests"}, 429)
        response["Retry-After"] = "60"
        raise Refused(response)


def _miss(request, link_id=None):
    ratelimit.hit(_miss_key(request), 60)
    return _not_found(request, link_id)


def load_shared_snapshot(request, link_id, render_key: str = "", visit: bool = False):
    """The snapshot this request may see, or raise Refused with the answer (404, 410, 429).

    Every view under /s/<linkId>/ starts here — including the results component's data requests. The miss limit is
    consulted only when the lookup misses: a link that exists is served without it (ids are 160 random bits, a hit is
    never a guess the limit is there to slow down), and an address over the limit still gets 429 for unknown ids.
    `render_key` (stored.request_key) brings the stored results component with the same statement. `visit` (the
    page itself, never its data requests) records the visit of a page that is served: on PostgreSQL inside the
    lookup's own statement (page_visit), which decides with this `now`. Whether this visitor may open the link at
    all is `page_allowed`, read with the link (audience.may_open): a refusal is the same 404 as an unknown link."""
    now = timezone.now()
    user = request.user
    user_id = user.pk if user.is_authenticated else None
    if visit and page_visit.supported():
        snapshot = links.visit_shared(link_id, render_key, user_id, client_ip(request), now)
    else:
        snapshot = links.find_shared(link_id, render_key, user_id)
    if snapshot is not None and not snapshot.page_allowed:
        snapshot = None
    if snapshot is None:
        _check_misses(request)
        raise Refused(_miss(request, link_id if links.is_well_formed(link_id) else None))
    if snapshot.is_expired(now):
        raise Refused(_page(request, "sharing/expired.html", {"snapshot": snapshot}, 410))
    if visit and not getattr(snapshot, "page_visited", False):
        services.record_visit(snapshot, client_ip(request), user)
    return snapshot


def replica_for(snapshot) -> str:
    """Where this snapshot's rows are read: a replica (lib/replicas.py) that has replayed the snapshot at the
    content version the primary's lookup read — so its creation (the frozen test copy, its agents, every row
    committed before it) and every later write that changed its page (stored.py; the window is frozen, rows written
    later are not shown) — else the primary. Whether the link may be
    served at all (revocation, expiry, a live share's end, the audience) was decided on the primary before."""
    table = type(snapshot)._meta.db_table

    def ready(cursor) -> bool:
        cursor.execute(f"SELECT content_version FROM {table} WHERE id = %s", [snapshot.id])
        row = cursor.fetchone()
        return row is not None and row[0] == snapshot.content_version

    return replicas.choose(ready)


def share_base(snapshot) -> str:
    """The path every link of the share page builds on. Absolute under /s/<linkId>/, which also works on a share
    domain (ShareHostMiddleware leaves /s/ paths alone)."""
    return f"/s/{snapshot.link_id}/"


def results_scope(snapshot) -> ResultsScope:
    """The results component limited to the snapshot: its window, its agents, its freeze (scope_of), read-only, with
    every link and data request under /s/<linkId>/ — never a test id from the request. Its timelines come from the
    snapshot's stored per-round rollups."""
    base = share_base(snapshot)
    scope = bounded(
        snapshot.test,  # its own frozen copy of the configuration
        scope_of(snapshot),
        snapshot.start_round,
        snapshot.end_round,
        base,
        read_only=True,
        partial_url=f"{base}results",
    )
    return replace(scope, timelines=stored.timelines_of(snapshot, scope.rows))


def _component_extra(snapshot) -> dict:
    # The share page's h1 is the snapshot's name (its header); the test's name is a level below it.
    return {"snapshot_label": f"Snapshot Date {snapshot_date(snapshot)}", "results_heading_level": 2}


def _component(request, snapshot):
    """(the results component this request asks for, rendered now from the stored rollups; whether it may be
    stored under the request's key; the rows it reads). Round and View come from the URL, else the creator's."""
    round_id, view_key, explicit = requested(request, snapshot.round_id, snapshot.view or None)
    scope = results_scope(snapshot)
    context = component_context(request, scope, round_id, view_key, _component_extra(snapshot))
    # `?roundId=` of a round without results (or outside the window) opens the last round, an unknown `view` the
    # first View: such requests render every time instead of filling the store with copies.
    keep = (view_key is None or view_key == context["view"].key) and (not explicit or context["round_id"] == round_id)
    return render_component(context), keep, scope.rows


def _frozen_context(snapshot) -> dict:
    """What the page shows besides its results: a write that changes any of it bumps the snapshot's content version
    (stored.py), so a stored render of it is never served after."""
    creator = snapshot.page_creator_name or snapshot.page_creator_email  # joined by links.find_shared
    return {
        "share_base": share_base(snapshot),
        "creator_name": creator or "a former user",
        "snapshot": snapshot,
        "test": {"name": snapshot.page_test_name, "type": snapshot.page_test_type},
        "snapshot_date": snapshot_date(snapshot),
        "window_start": format_v6_date(snapshot.start_round),
        "window_end": format_v6_date(snapshot.end_round),
        "summary": summary_of(snapshot),
        "kinds": KINDS_OF[snapshot.page_test_type],
        "view_url": links.view_url(snapshot.link_id),
        "visits": VISITS_MARK,
        "comment_count": COMMENT_COUNT_MARK,
        "comments_html": COMMENTS_MARK,
    }


# Where a stored page takes this request's visit count and comments section. User-written text in a render is
# escaped ("<" becomes "&lt;"), so it can never contain these.
VISITS_MARK = mark_safe("<!--spyglass:visits-->")
COMMENTS_MARK = mark_safe("<!--spyglass:comments-->")
COMMENT_COUNT_MARK = mark_safe("<!--spyglass:comment-count-->")


def _live(request, snapshot, form_error="", form_values=None, visited=False) -> dict:
    """The live part of the page: visits (counted with the link lookup, before this request's own), comments, the
    comment form with its signed token, and who is signed in — with their own CSRF token, as they post as
    themselves (never for a guest: their comment carries no identity to protect, and no cookie is set)."""
    comments = page_reads.comments(snapshot.id) if snapshot.page_comments else []
    live = comment_context(request, snapshot, share_base(snapshot), comments, form_error, form_values)
    return live | {"visits": snapshot.page_visits + (1 if visited else 0)}


def comment_context(request, snapshot, base: str, comments, form_error="", form_values=None) -> dict:
    """The comments section's context on a test or dashboard snapshot's page (`base` its path, /s/… or /s/d/…):
    the comments, the form with its signed token, and who is signed in — with their own CSRF token, as they post as
    themselves (never for a guest: their comment carries no identity to protect, and no cookie is set)."""
    user = request.user
    signed_in = user.is_authenticated
    return {
        "share_base": base,
        "comments": comments,
        "signed_in": signed_in,
        "user": user if signed_in else None,
        "csrf_token": get_token(request) if signed_in else "",
        "may_comment": signed_in or not snapshot.comments_signed_in_only,
        "form_token": signing.dumps(snapshot.link_id, salt=FORM_SALT),
        "form_error": form_error,
        "form_values": form_values or {},
    }


def comments_section(live: dict) -> str:
    """The comments section of a _live context. Its common form (no comments yet, an anonymous visitor, no form to
    refill) is the template's output with only the link and the signed token put in: rendered once per process
    (Django's template rendering of it was about half a repeat view's time, docs/benchmarks.md row 4)."""
    if live["comments"] or live["signed_in"] or live["form_error"] or live["form_values"] or settings.DEBUG:
        return render_to_string("sharing/_comments.html", live)
    blank = _blank_comments_section(live["may_comment"])
    return blank.replace(_BASE_MARK, escape(live["share_base"])).replace(_TOKEN_MARK, escape(live["form_token"]))


_BASE_MARK, _TOKEN_MARK = "spyglass-share-base-mark/", "spyglass-form-token-mark"  # unchanged by escaping


@functools.cache
def _blank_comments_section(may_comment: bool) -> str:
    context = {"share_base": _BASE_MARK, "comments": [], "signed_in": False, "user": None}
    context |= {"may_comment": may_comment, "form_token": _TOKEN_MARK, "form_error": "", "form_values": {}}
    return render_to_string("sharing/_comments.html", context)


def _share_response(request, snapshot, live: dict, status=200):
    """The share page: its frozen part as stored (read with the link: snapshot.page_render), else rendered now and
    stored, with this request's visit count and comments section put in."""
    frozen = snapshot.page_render
    if frozen is None:
        with replicas.reading_from(replica_for(snapshot)):
            component, keep, rows = _component(request, snapshot)
            context = {**_frozen_context(snapshot), "results_html": mark_safe(component)}
            frozen = render_to_string("sharing/share_page.html", context)
        if keep:
            stored.store_component(snapshot, stored.request_key(request, "page"), frozen, rows)
    comments = comments_section(live)
    count = str(snapshot.page_comments)
    html = frozen.replace(VISITS_MARK, str(live["visits"]), 1).replace(COMMENT_COUNT_MARK, count)
    html = html.replace(COMMENTS_MARK, comments, 1)
    return _finish(HttpResponse(html, status=status))


def _finish(response):
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _round_panel(request, snapshot):
    """An htmx request for the round panel (previous/next, a timeline click): one round's rows, from the rollups."""
    with replicas.reading_from(replica_for(snapshot)):
        return _finish(_render_round_panel(request, snapshot))


def _render_round_panel(request, snapshot):
    return render_results(
        request,
        results_scope(snapshot),
        template="results_ui/component.html",
        extra_context=_component_extra(snapshot),
        default_round=snapshot.round_id,
        default_view=snapshot.view or None,
    )


@share_view("GET", "HEAD")
def share_page(request, link_id):
    panel = is_round_panel(request)
    try:
        key = "" if panel else stored.request_key(request, "page")
        # Only GETs of the page count: not its data requests, not a HEAD (nobody was shown anything).
        snapshot = load_shared_snapshot(request, link_id, key, visit=request.method == "GET")
    except Refused as refused:
        return refused.response
    if panel:
        return _round_panel(request, snapshot)
    return _share_response(request, snapshot, _live(request, snapshot, visited=True))


@share_view("GET", "HEAD")
def results_part(request, link_id):
    """The component's htmx requests (round panel, View switch, per-agent lines): the same scope as the page, no
    visit counted."""
    if wants_agent_lines(request):
        try:
            snapshot = load_shared_snapshot(request, link_id, "")
        except Refused as refused:
            return refused.response
        with replicas.reading_from(replica_for(snapshot)):
            return agent_lines_response(request, results_scope(snapshot))
    panel = is_round_panel(request)
    key = "" if panel else stored.request_key(request, "part")
    try:
        snapshot = load_shared_snapshot(request, link_id, key)
    except Refused as refused:
        return refused.response
    if panel:
        return _round_panel(request, snapshot)
    html = snapshot.page_render
    if html is None:
        with replicas.reading_from(replica_for(snapshot)):
            html, keep, rows = _component(request, snapshot)
        if keep:
            stored.store_component(snapshot, key, html, rows)
    return _finish(HttpResponse(html))


def _forged_as_user(request) -> bool:
    """Django's CSRF check, in full (Origin, then the token against the CSRF cookie), of a post that would be stored
    under the signed-in user's name. SameSite=Lax alone let a sibling host of the same site post as them."""
    return CsrfViewMiddleware(HttpResponse).process_view(request, None, (), {}) is not None  # type: ignore[arg-type]


# Exempt from the middleware's check only so that a guest (no identity, no cookie) may post with the link's signed
# form token; a signed-in visitor's post passes Django's check here (_forged_as_user). The page's own form posts with
# its Origin: share_page.html lets same-origin requests carry it (a no-referrer page would post "Origin: null").
@csrf_exempt
@share_view("POST")
def post_comment(request, link_id):
    try:
        snapshot = load_shared_snapshot(request, link_id, stored.request_key(request, "page"))
    except Refused as refused:
        return refused.response

    def page(error, values, status):
        return _share_response(request, snapshot, _live(request, snapshot, error, values), status)

    return comment_posted(request, snapshot, page, links.view_url(snapshot.link_id))


def comment_posted(request, snapshot, page, done_url: str):
    """The comment form's post on a test or dashboard snapshot's page: a signed-in visitor's passes Django's CSRF
    check, a guest's the link's signed form token; then services.post_comment decides. `page(error, values,
    status)` answers with the page and the form's error; a comment posted redirects to `done_url`'s comments."""
    if request.user.is_authenticated and _forged_as_user(request):
        return page(
            "This comment could not be confirmed as yours; please reload the page and post it again.", None, 403
        )
    try:
        if signing.loads(request.POST.get("token", ""), salt=FORM_SALT, max_age=86400) != snapshot.link_id:
            raise signing.BadSignature
    except signing.BadSignature:
        return page("The form has expired; please reload the page and try again.", None, 400)
    try:
        services.post_comment(
            snapshot,
            body=request.POST.get("body", ""),
            name=request.POST.get("name"),
            user=request.user,
            ip=client_ip(request),
        )
    except SharingError as exc:
        values = {"name": request.POST.get("name", ""), "body": request.POST.get("body", "")}
        response = page(str(exc), values, exc.status)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response
    return HttpResponseRedirect(f"{done_url}#comments", status=303)


def _pages(snapshot, kind):
    """Every row of the window for one kind, page by page (bounded memory), in v6 shape without permalinks."""
    scope = scope_of(snapshot)
    window = TimeRange(snapshot.start_round, snapshot.end_round)
    last = None
    while True:
        page = queries.read_page(kind, snapshot.test, window, last, scope=scope)
        for row in page.rows:
            row.pop("permalink", None)
            yield row
        if page.next_last_round_id is None:
            return
        last = page.next_last_round_id


def _json_stream(snapshot):
    test = snapshot.test
    head = {
        "snapshot": {
            "displayName": snapshot.display_name,
            "testName": test.name,
            "type": test.type,
            "interval": test.interval,
            "from": format_v6_date(snapshot.start_round),
            "to": format_v6_date(snapshot.end_round),
            "roundId": snapshot.round_id,
        }
    }
    yield orjson.dumps(head)[:-1]
    for kind in KINDS_OF[test.type]:
        wrapper, key = catalogue.kind(kind).body
        yield b',"' + wrapper.encode() + b'":{"' + key.encode() + b'":['
        first = True
        for row in _pages(snapshot, kind):
            yield (b"" if first else b",") + orjson.dumps(row)
            first = False
        yield b"]}"
    if test.takes_network_measurements:
        # The path traces of every round with traces: each distinct path once, per round only its id and numbers.
        yield b',"pathVis":'
        yield from paths.download(results_scope(snapshot))
    yield b"}"


def _safe_cell(value):
    """Keep spreadsheet programs from running user-written text as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_stream(snapshot, kind):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = None
    for row in _pages(snapshot, kind):
        if header is None:
            header = list(row)
            writer.writerow(header)
        writer.writerow([_safe_cell(row[k]) for k in header])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if header is None:
        writer.writerow(["roundId", "agentId", "agentName", "date"])
    yield buffer.getvalue()


@share_view("GET")
def download(request, link_id, fmt):
    try:
        snapshot = load_shared_snapshot(request, link_id)
    except Refused as refused:
        return refused.response
    kinds = KINDS_OF[snapshot.page_test_type]
    name = f"snapshot-{snapshot.page_test_name}"[:60].replace('"', "").replace("\\", "")
    alias = replica_for(snapshot)  # the body is streamed after this view returns: read where it was decided
    if fmt == "json":
        body = replicas.iterate_from(alias, _json_stream(snapshot))
        response = StreamingHttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    else:
        kind = request.GET.get("kind", kinds[0])
        if kind not in kinds:
            return HttpResponse(f"kind must be one of {', '.join(kinds)}", status=400, content_type="text/plain")
        body = replicas.iterate_from(alias, _csv_stream(snapshot, kind))
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-{kind}.csv"'
    return response


@share_view()
def unmatched(request, rest=""):
    """Anything under /s/ that is not a well-formed link path: the same 404 as an unknown link."""
    try:
        _check_misses(request)
    except Refused as refused:
        return refused.response
    return _miss(request)
