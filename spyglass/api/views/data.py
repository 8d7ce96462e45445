"""v6 data endpoints: network end-to-end metrics, HTTP server and DNS server results of a test."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from spyglass.accounts.roles import VIEW_TESTS
from spyglass.lib.replicas import reading_from_replica
from spyglass.lib.text import is_digits
from spyglass.lib.timefmt import format_v6_date
from spyglass.lib.timeranges import RangeError, TimeRange, parse_range
from spyglass.monitoring import chunks, queries
from spyglass.monitoring.scope import read_scope
from spyglass.monitoring.tests_service import visible_test

from .. import representations as rep
from ..base import V6View

RANGE_PARAMS = [
    OpenApiParameter("window", str, description="e.g. 12h; bare number = seconds"),
    OpenApiParameter("from", str, description="YYYY-MM-DD HH:MM:SS (UTC)"),
    OpenApiParameter("to", str, description="YYYY-MM-DD HH:MM:SS (UTC), default now"),
    OpenApiParameter("lastRoundId", int, description="from pages.next"),
]


class DataView(V6View):
    """A test's results of one kind in a window, paged by round: the tenancy, range, paging and format rules every
    data endpoint shares (path-vis included, views/pathvis.py); `read_page` is what differs."""

    required_permissions = {"GET": VIEW_TESTS}
    kind = ""  # net | http | dns | path
    wrapper = ""  # top-level key
    rows_key = ""
    test_types = ()
    extras_params = ()

    def get(self, request, test_id, format=None):
        test = visible_test(self.access, self.int_id(test_id), "created_by", "modified_by")
        if test is None or test.type not in self.test_types:
            raise Http404
        params = request.query_params
        try:
            time_range = parse_range(params)
        except RangeError as exc:
            raise ValidationError(str(exc)) from None
        last = params.get("lastRoundId")
        if last is not None:
            if not is_digits(last) or len(last) > 12:
                raise ValidationError({"lastRoundId": "must be a roundId (epoch seconds)"})
            last = int(last)
        extras = tuple(p for p in self.extras_params if params.get(p) in ("1", "true"))
        scope = read_scope(self.access, test)
        # Rows from a replica when one is configured and caught up: eventually consistent, within
        # replicas.MAX_LAG_SECONDS (docs/reliability.md); the access check and the test above were the primary's.
        with reading_from_replica():
            page = self.read_page(request, test, time_range, last, extras, scope)
        body = {self.wrapper: {"test": rep.test_summary(test), self.rows_key: page.rows}, "pages": {"current": 1}}
        if not time_range.latest_only:
            body["from"] = format_v6_date(time_range.start)
            body["to"] = format_v6_date(time_range.end)
            if page.next_last_round_id is not None:
                body["pages"] = {"current": self._page_number(params), "next": self._next(request, time_range, page)}
            else:
                body["pages"] = {"current": self._page_number(params)}
        return Response(body)

    def read_page(self, request, test, time_range: TimeRange, last: int | None, extras: tuple, scope):
        if request.accepted_renderer.format == "json" and not extras:
            # Rows already written as JSON when they can be (monitoring/chunks.py); the same page either way.
            page = chunks.read_page_json(self.kind, test, time_range, last, scope=scope)
            if page is not None:
                return page
        return queries.read_page(self.kind, test, time_range, last, extras, scope=scope)

    @staticmethod
    def _page_number(params) -> int:
        raw = params.get("page", "1")
        return int(raw) if is_digits(raw) and len(raw) < 9 else 1

    def _next(self, request, time_range: TimeRange, page) -> str:
        query = {
            k: v for k, v in request.query_params.items() if k not in ("window", "from", "to", "lastRoundId", "page")
        }
        query.update(
            {
                "from": format_v6_date(time_range.start),
                "to": format_v6_date(time_range.end),
                "lastRoundId": page.next_last_round_id,
                "page": self._page_number(request.query_params) + 1,
            }
        )
        return f"{settings.BASE_URL}{request.path}?{urlencode(query)}"


class NetMetricsView(DataView):
    kind, wrapper, rows_key = "net", "net", "metrics"
    test_types = ("agent-to-server", "http-server", "dns-server")

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=RANGE_PARAMS, summary="Network end-to-end metrics")
    def get(self, request, test_id, format=None):
        return super().get(request, test_id, format)


class HttpServerView(DataView):
    kind, wrapper, rows_key = "http", "web", "httpServer"
    test_types = ("http-server",)
    extras_params = ("headers", "certificates")

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="HTTP server results",
        parameters=RANGE_PARAMS + [OpenApiParameter("headers", int), OpenApiParameter("certificates", int)],
    )
    def get(self, request, test_id, format=None):
        return super().get(request, test_id, format)


class DnsServerView(DataView):
    kind, wrapper, rows_key = "dns", "dns", "server"
    test_types = ("dns-server",)

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=RANGE_PARAMS, summary="DNS server results")
    def get(self, request, test_id, format=None):
        return super().get(request, test_id, format)
