"""`GET /metrics`: off (404) unless SPYGLASS_METRICS_TOKEN is set; then only for `Authorization: Bearer <that token>`
(401 otherwise), in OpenMetrics text. The token is the operator's, not a user's: the metrics span every
organization."""

import hashlib
import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST

from spyglass.telemetry.collector import exposition


@require_safe
def metrics(request):
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("The metrics endpoint is off: set SPYGLASS_METRICS_TOKEN to turn it on")
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    # Their digests compared in constant time: equal lengths, so timing tells nothing of the token, its length neither.
    if not (scheme.lower() == "bearer" and hmac.compare_digest(_digest(given.strip()), _digest(token))):
        refused = JsonResponse(
            {"errorMessage": "The metrics need Authorization: Bearer <SPYGLASS_METRICS_TOKEN>"}, status=401
        )
        refused["WWW-Authenticate"] = 'Bearer realm="spyglass metrics"'
        return refused
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()
