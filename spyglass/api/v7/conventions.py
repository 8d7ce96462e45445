"""The v7 conventions, as the official SDK's models read them: HAL `_links` with absolute hrefs, ISO-8601 UTC dates,
string ids, problem-details errors (with field errors for validation), `application/hal+json` or
`application/json`, and opaque `cursor` paging over `window` / `startDate` / `endDate`."""

import base64
import binascii
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.exceptions import NotAcceptable, UnsupportedMediaType
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from spyglass.lib import jsonsplice
from spyglass.lib.error_messages import field_errors
from spyglass.lib.timeranges import RangeError, TimeRange, parse_window

from ..formats import V6JSONParser
from ..unavailable import DatabaseUnavailable, as_unavailable, retry_headers

PREFIX = "/v7/"
HAL = "application/hal+json"
JSON = "application/json"
PROBLEM = "application/problem+json"
# What a client may ask for and still get JSON (the SDK asks for application/hal+json).
_ACCEPTED = {HAL, JSON, PROBLEM, "*/*", "application/*"}


def iso(value) -> str | None:
    """A datetime or epoch seconds as v7 writes dates: ISO 8601 in UTC with a Z."""
    if value is None:
        return None
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, tz=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str, name: str) -> datetime:
    """An ISO-8601 date with a zone (`Z` or `±hh:mm`): v7 never guesses the zone. ValidationError naming `name`."""
    try:
        value = datetime.fromisoformat(text.strip()) if isinstance(text, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise exceptions.ValidationError({name: "must be an ISO 8601 date with a zone, such as 2026-11-22T09:00:00Z"})
    return value.astimezone(UTC)


def href(path: str, **query) -> dict:
    """A HAL link to a v7 path (absolute, as the SDK's clients follow them)."""
    query = {k: v for k, v in query.items() if v is not None}
    return {"href": f"{settings.BASE_URL}{PREFIX}{path}" + (f"?{urlencode(query)}" if query else "")}


def app_link(path: str) -> dict:
    """A HAL link to the spyglass web page of the same thing."""
    return {"href": f"{settings.BASE_URL}{path}"}


def self_links(request) -> dict:
    return {"self": {"href": request.build_absolute_uri()}}


# --- time ranges and cursor paging ---


def parse_v7_range(params, now: int) -> TimeRange:
    """`window` (e.g. 12h), or `startDate` [+ `endDate`] in ISO 8601 with a zone; with neither, the latest round
    (as v6 answers a data query without a range)."""
    window, start, end = params.get("window"), params.get("startDate"), params.get("endDate")
    if window is not None and (start is not None or end is not None):
        raise exceptions.ValidationError({"window": "cannot be combined with startDate or endDate"})
    if end is not None and start is None:
        raise exceptions.ValidationError({"endDate": "requires startDate"})
    if start is not None:
        start_s = int(parse_iso(start, "startDate").timestamp())
        end_s = int(parse_iso(end, "endDate").timestamp()) if end is not None else now
        if end_s < start_s:
            raise exceptions.ValidationError({"endDate": "must not be before startDate"})
        return TimeRange(start_s, end_s)
    if window is None:
        return TimeRange(None, now, latest_only=True)
    try:
        seconds = parse_window(window)
    except RangeError as exc:
        raise exceptions.ValidationError({"window": str(exc).removeprefix("window ")}) from None
    return TimeRange(now - seconds, now)


def make_cursor(time_range: TimeRange, last_round_id: int) -> str:
    """Opaque to clients: the range being read and the last round already returned."""
    raw = f"{time_range.start}:{time_range.end}:{last_round_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[TimeRange, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        start, end, last = (int(part) for part in text.split(":"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise exceptions.ValidationError({"cursor": "is not a cursor from a _links.next of this API"}) from None
    if not 0 <= start <= end < 2**40 or not 0 <= last < 2**40:
        raise exceptions.ValidationError({"cursor": "is not a cursor from a _links.next of this API"})
    return TimeRange(start, end), last


def next_link(request, cursor: str) -> dict:
    """`_links.next`: the same request with the cursor (the range is in the cursor, so window/dates are dropped)."""
    query = {k: v for k, v in request.query_params.items() if k not in ("window", "startDate", "endDate", "cursor")}
    query["cursor"] = cursor
    return {"href": f"{settings.BASE_URL}{request.path}?{urlencode(query)}"}


# --- formats ---


class HalJSONRenderer(BaseRenderer):
    media_type = HAL
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else jsonsplice.dumps(data, default=str)


class PlainJSONRenderer(HalJSONRenderer):
    media_type = JSON


# v7 bodies are read as v6's are: one JSON object, the same messages for what is not one.
V7JSONParser = V6JSONParser


class V7ContentNegotiation(BaseContentNegotiation):
    """JSON in, JSON out: 406 for an Accept it cannot produce, 415 for a body it does not read."""

    def select_parser(self, request, parsers):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type in ("", JSON, HAL):
            return parsers[0]
        raise UnsupportedMediaType(content_type)

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "").strip()
        if not accept:
            return renderers[0], renderers[0].media_type
        wanted = [part.split(";")[0].strip().lower() for part in accept.split(",")]
        for media in wanted:
            if media == JSON:
                return renderers[1], JSON
            if media in _ACCEPTED:
                return renderers[0], HAL
        raise NotAcceptable("This API answers application/hal+json or application/json")


# --- errors ---

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(status: int, detail: str, instance: str, errors: list | None = None) -> dict:
    """RFC 9457 problem details, as the SDK's Error and ValidationError models read them."""
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    if status == 401:  # the SDK's UnauthorizedError reads these two
        body.update(error="invalid_token", error_description=detail)
    return body


def exception_handler(exc, context):
    request = context["request"]
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = exceptions.APIException("The request body is larger than 1 MiB")
        exc.status_code = 413
    exc = as_unavailable(exc) or exc
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + 1)
    if isinstance(exc, DatabaseUnavailable):
        headers.update(retry_headers())
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = [
            {"code": "invalid", "field": field, "message": message} for field, message in field_errors(exc.detail)
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
    elif isinstance(exc, exceptions.Throttled):
        detail = str(exc.detail)
    else:
        detail = "; ".join(message for _, message in field_errors(exc.detail))
    body = problem(exc.status_code, detail or "Bad request", request.path, errors)
    return Response(body, status=exc.status_code, headers=headers, content_type=PROBLEM)


def problem_response(request, status: int, detail: str) -> JsonResponse:
    """A problem outside any view (unknown /v7/ path, a 500)."""
    return JsonResponse(problem(status, detail, request.path), status=status, content_type=PROBLEM)
