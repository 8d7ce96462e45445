"""Every API error is {"errorMessage": "..."} (v6 clients parse that), with a message naming the problem."""

import logging
import sys

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from rest_framework import exceptions, status
from rest_framework.response import Response

from spyglass.lib.error_messages import message_of

from .unavailable import DatabaseUnavailable, as_unavailable, retry_headers
from .v7 import conventions as v7

log = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) and "matches the given query" not in str(exc) else "Not found")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response({"errorMessage": "The request body is larger than 1 MiB"}, status=413)
    exc = as_unavailable(exc) or exc
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handler logs it and answers with the JSON 500 below
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + 1)
    if isinstance(exc, DatabaseUnavailable):
        headers.update(retry_headers())
    if isinstance(exc, exceptions.Throttled):
        message = str(exc.detail)
    elif isinstance(exc, exceptions.ValidationError):
        message = message_of(exc.detail)
    else:
        message = message_of(exc.detail)
    return Response({"errorMessage": message}, status=exc.status_code, headers=headers)


def json_error(request, message: str, status_code: int) -> JsonResponse:
    return JsonResponse({"errorMessage": message}, status=status_code)


def handler404(request, exception=None):
    if request.path.startswith(v7.PREFIX):
        return v7.problem_response(request, 404, "Not found")
    if request.path.startswith(("/v6/", "/agent/")):
        return json_error(request, "Not found", status.HTTP_404_NOT_FOUND)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    unavailable = as_unavailable(sys.exc_info()[1])  # raised outside a view: in a middleware (the lean upload)
    if unavailable is not None:
        return database_unavailable_response(request, unavailable)
    if request.path.startswith(v7.PREFIX):
        return v7.problem_response(request, 500, "Internal server error")
    if request.path.startswith(("/v6/", "/agent/")):
        return json_error(request, "Internal server error", 500)
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request, exception=None):
    return json_error(request, "Bad request", 400)


def database_unavailable_response(request, exc: DatabaseUnavailable):
    """The 503 outside DRF, in the shape of the interface asked: a v7 problem, v6's errorMessage (the agent API's
    too), else a short HTML page rendered without the request (its context processors would query the database).
    Under /s/ with the share page's headers, as every answer there."""
    path = request.path_info
    if path.startswith(v7.PREFIX):
        response = v7.problem_response(request, 503, str(exc.detail))
    elif path.startswith(("/v6/", "/agent/")):
        response = json_error(request, str(exc.detail), 503)
    else:
        response = HttpResponse(loader.get_template("503.html").render({"message": exc.detail}), status=503)
        if path.startswith("/s/"):
            from spyglass.sharing.views import SHARE_HEADERS

            for key, value in SHARE_HEADERS.items():
                response[key] = value
    for key, value in retry_headers().items():
        response[key] = value
    return response
