"""The lean path of result uploads: an agent's well-formed batch, written before the rest of the middleware, the URL
resolver and DRF.

Every agent POSTs its spool here in batches, so the fixed cost of a request weighs as much as the rows (issue 7,
row 5): the middleware after CommonMiddleware, the resolver and DRF's request handling cost about as much as
validating the batch. AgentUploadMiddleware sits after the middleware that validates the host and adds the
security headers and Content-Length, and adds the headers of the ones it skips (X-Frame-Options, the content
security policy); tests/test_agent_upload_lean.py compares its answers with DRF's, headers included.

This path only reads until it writes: one SQL statement finds the token, the agent and its tests, by the same rule as
DRF's agent views (agent_service.upload_target; a valid token passes whatever failed logins were counted,
accounts/failed_logins.py); the body is decoded and type-checked in one pass (typed.py), then checked column by column.
Anything it does not accept as is (another content type or format, a bad or missing token, an unknown agent, a body that needs the row-by-row check) returns None, and ResultsView answers through DRF
exactly as before, with its own lookups, its error wording and its failed-login count."""

import re
import time

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware

from spyglass.lib.security_headers import add_policy
from spyglass.monitoring import agent_service

from ..formats import _from_accept
from .typed import decode_columns
from .views import agent_number

# What DRF's JSON answer carries besides the middleware's headers (tests/test_agent_upload_lean.py compares them).
ALLOW = "POST, OPTIONS"
# The route of ResultsView (urls.py).
RESULTS_PATH = re.compile(r"/agent/v1/agents/([0-9]{1,18})/results")


class AgentUploadMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.xframe = XFrameOptionsMiddleware(get_response)

    def __call__(self, request):
        match = RESULTS_PATH.fullmatch(request.path_info) if request.method == "POST" else None
        if match:
            response = lean_upload(request, agent_number(match[1]), time.time())
            if response is not None:
                return add_policy(request, self.xframe.process_response(request, response))
        return self.get_response(request)


def lean_upload(request, agent_id: int, now: float):
    """The response to a well-formed upload, written; or None when ResultsView must answer."""
    meta = request.META
    if meta.get("CONTENT_TYPE") != "application/json" or meta.get("QUERY_STRING"):
        return None
    accept = meta.get("HTTP_ACCEPT", "")
    if accept not in ("", "*/*") and _from_accept(accept) == "xml":
        return None
    scheme, _, raw = meta.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.isascii():
        return None
    raw = raw.strip(" \t\n\r\x0b\x0c")  # what bytes.strip() takes off in AgentTokenAuthentication
    if not raw:
        return None
    tests = agent_service.upload_target(raw, agent_id)
    if not tests:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    columns = decode_columns(body, tests, now)
    if columns is None:
        return None
    written = agent_service.store_batch(agent_id, columns)
    response = HttpResponse(orjson.dumps({"accepted": written}), content_type="application/json")
    response["Vary"] = "Accept"
    response["Allow"] = ALLOW
    return response
