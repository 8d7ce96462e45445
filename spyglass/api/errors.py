"""Every API error is {"errorMessage": "..."} (v6 clients parse that), with a message naming the problem."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from spyglass.lib.error_messages import message_of

from .v7 import conventions as v7

log = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) and "matches the given query" not in str(exc) else "Not found")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response({"errorMessage": "The request body is larger than 1 MiB"}, status=413)
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handler logs it and answers with the JSON 500 below
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + 1)
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
    if request.path.startswith(v7.PREFIX):
        return v7.problem_response(request, 500, "Internal server error")
    if request.path.startswith(("/v6/", "/agent/")):
        return json_error(request, "Internal server error", 500)
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request, exception=None):
    return json_error(request, "Bad request", 400)
