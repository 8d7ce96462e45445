"""Refuse oversized bodies before anything reads them, and read what an answer left unread; give every API answer
its rate-limit headers.

gunicorn's threaded worker keeps a connection alive after a response by draining the request body that the app did
not read, but only its first 64 KiB; past that it closes the socket with data still unread, the kernel answers with
a reset, and the client never sees the response (a 404, 401 or 413 given before the body was parsed). So the
body-size middleware reads and discards the rest of the body itself once the response is decided: all of it up to
the body limit, and up to DRAIN_LIMIT of an oversized one, so that a client sending a few MiB too much is told 413
rather than "connection reset". Beyond that, gunicorn's close (and the reset) is the answer. (Only
RateLimitHeadersMiddleware, which adds headers and reads nothing, sits outside it.)
"""

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse

from .base import uncounted_rate_headers
from .errors import database_unavailable_response
from .unavailable import as_unavailable

API_PREFIXES = ("/v6/", "/v7/")
DRAIN_LIMIT = 8 * 1024 * 1024
_CHUNK = 64 * 1024


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(length)
        except ValueError:
            return JsonResponse({"errorMessage": "Content-Length is not a number"}, status=400)
        if length > settings.MAX_REQUEST_BODY:
            response = JsonResponse({"errorMessage": "The request body is larger than 1 MiB"}, status=413)
            if length <= DRAIN_LIMIT:
                _discard(LimitedStream(request.META["wsgi.input"], length))
            return response
        response = self.get_response(request)
        if length > 0:
            _discard(request)  # reads nothing (or a copy in memory) when the body was already read
        return response


class RateLimitHeadersMiddleware:
    """Every answer of the APIs carries X-Organization-Rate-Limit-*: V6View sets the counted ones; one given before
    an organization was known (bad credentials, an Accept it cannot produce, an unknown path, an oversized body,
    /v6/status) gets the limit with nothing counted, so clients that read the headers on every response can."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(API_PREFIXES) and "X-Organization-Rate-Limit-Limit" not in response:
            for key, value in uncounted_rate_headers().items():
                response[key] = value
        return response


def _discard(stream):
    try:
        while stream.read(_CHUNK):
            pass
    except OSError:  # the client went away mid-body: nothing left to answer
        pass


class DatabaseUnavailableMiddleware:
    """A view that found the database away (a failover, a dropped connection) answers 503 with Retry-After in its
    interface's shape instead of 500 (spyglass/api/unavailable.py). DRF's views answer through their exception
    handlers; what is raised outside a view reaches handler500, which answers the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        unavailable = as_unavailable(exception)
        return None if unavailable is None else database_unavailable_response(request, unavailable)
