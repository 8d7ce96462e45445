"""v7 test results: `/test-results/{testId}/network`, `/http-server`, `/dns-server` (and `/dns-server/{serverId}`),
read by the same window query as v6 (monitoring/queries.read_page, through the reader's scope) and written under
the field catalogue's v7 names. Paging: `_links.next` carries an opaque cursor with the range and the last round.
Path visualization reads the stored path traces as v6's net/path-vis does (monitoring/paths.py)."""

import time

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from spyglass.accounts.roles import VIEW_TESTS
from spyglass.lib.replicas import reading_from_replica
from spyglass.monitoring import catalogue, paths, queries
from spyglass.monitoring.scope import read_scope
from spyglass.monitoring.tests_service import visible_test

from ..base import V7View
from ..conventions import iso, make_cursor, next_link, parse_v7_range, read_cursor
from ..shapes import result_agent, simple_test

TAG = ["Test Results"]
RANGE_PARAMS = [
    OpenApiParameter("window", str, description="e.g. 12h; a bare number is seconds"),
    OpenApiParameter("startDate", str, description="ISO 8601 with a zone, e.g. 2026-11-22T09:00:00Z"),
    OpenApiParameter("endDate", str, description="ISO 8601 with a zone; default now"),
    OpenApiParameter("cursor", str, description="from _links.next"),
]
# v7's expand values and the catalogue's (v6) request options they stand for.
_EXPAND = {"header": "headers", "certificate": "certificates"}


def v7_date(v6_date: str) -> str:
    """'YYYY-MM-DD HH:MM:SS' (UTC, as the rows come from the database) → ISO 8601 with a Z."""
    return v6_date.replace(" ", "T") + "Z"


def _certificate(cert: dict) -> dict:
    """A stored certificate (v6 names) under the v7 SslCert names."""
    out = {
        "daysUntilExpiry": cert.get("daysUntilExpiry"),
        "isFetchDateInValidCertDateRange": cert.get("fetchDateInValidCertDateRange"),
        "issuerName": cert.get("issuerName"),
        "subjectName": cert.get("subjectName"),
        "subjectAlternativeNames": cert.get("subjectAltNames"),
    }
    for v6_name, v7_name in (("notValidBefore", "validAfter"), ("notValidAfter", "validBefore")):
        if cert.get(v6_name):
            out[v7_name] = v7_date(cert[v6_name])
    return {k: v for k, v in out.items() if v is not None}


def v7_row(kind: str, row: dict) -> dict:
    """A v6 row of the catalogue's kind as a v7 result."""
    out = {
        "date": v7_date(row["date"]),
        "roundId": row["roundId"],
        "agent": result_agent(row["agentId"], row["agentName"], row["countryId"]),
        "_links": {"appLink": {"href": row["permalink"]}},
    }
    for v6_name, v7_name in catalogue.v7_names(kind).items():
        if v6_name not in row:
            continue
        value = row[v6_name]
        if v6_name == "serverId" and value is not None:
            value = str(value)
        elif v6_name == "sslCerts":
            value = [_certificate(c) for c in value or []]
        elif v6_name == "errorType" and value == "None":
            continue
        if "." in v7_name:
            outer, inner = v7_name.split(".")
            out.setdefault(outer, {})[inner] = value
        else:
            out[v7_name] = value
    return out


class ResultsView(V7View):
    required_permissions = {"GET": VIEW_TESTS}
    kind = ""
    test_types: tuple[str, ...] = ()

    def visible(self, test_id):
        test = visible_test(self.access, self.str_id(test_id), "created_by", "modified_by")
        if test is None or test.type not in self.test_types:
            raise Http404
        return test

    def time_range(self, request):
        cursor = request.query_params.get("cursor")
        if cursor is not None:
            return read_cursor(cursor)
        return parse_v7_range(request.query_params, int(time.time())), None

    def body(self, request, test, rows: list, time_range, next_round: int | None) -> dict:
        links = {"self": {"href": request.build_absolute_uri()}}
        if next_round is not None:
            links["next"] = next_link(request, make_cursor(time_range, next_round))
        out = {"results": rows, "test": simple_test(test)}
        if not time_range.latest_only:
            out.update(startDate=iso(time_range.start), endDate=iso(time_range.end))
        out["_links"] = links
        return out

    def get(self, request, test_id, server_id=None):
        test = self.visible(test_id)
        time_range, last = self.time_range(request)
        expand = {v.strip() for raw in request.query_params.getlist("expand") for v in raw.split(",")}
        extras = tuple(sorted(_EXPAND[e] for e in expand if e in _EXPAND))
        scope = read_scope(self.access, test)
        with reading_from_replica():  # eventually consistent, within replicas.MAX_LAG_SECONDS
            page = queries.read_page(self.kind, test, time_range, last, extras, scope=scope)
        rows = [v7_row(self.kind, r) for r in page.rows]
        if server_id is not None:
            rows = [r for r in rows if r.get("serverId") == server_id]
        return Response(self.body(request, test, rows, time_range, page.next_last_round_id))


class NetworkResultsView(ResultsView):
    kind, test_types = "net", ("agent-to-server", "http-server", "dns-server")

    @extend_schema(
        responses=OpenApiTypes.OBJECT, summary="Network end-to-end metrics", tags=TAG, parameters=RANGE_PARAMS
    )
    def get(self, request, test_id, server_id=None):
        return super().get(request, test_id)


class HttpServerResultsView(ResultsView):
    kind, test_types = "http", ("http-server",)

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="HTTP server results",
        tags=TAG,
        parameters=RANGE_PARAMS + [OpenApiParameter("expand", str, many=True, enum=list(_EXPAND))],
    )
    def get(self, request, test_id, server_id=None):
        return super().get(request, test_id)


class DnsServerResultsView(ResultsView):
    kind, test_types = "dns", ("dns-server",)

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="DNS server results (of one server with /{serverId})",
        tags=TAG,
        parameters=RANGE_PARAMS,
    )
    def get(self, request, test_id, server_id=None):
        return super().get(request, test_id, server_id)


def v7_path_entry(entry: dict) -> dict:
    """A v6 pathVis entry (monitoring/paths.py) as v7's PathVisTestResult or, with its detailed traces,
    PathVisDetailTestResult: v6's `endpoints` are v7's `pathTraces` of the list, the detail's traces keep their hops."""
    out = {
        "date": v7_date(entry["date"]),
        "roundId": entry["roundId"],
        "agent": result_agent(entry["agentId"], entry["agentName"], entry["countryId"]),
        "_links": {"appLink": {"href": entry["permalink"]}},
        "server": entry["server"],
        "serverIp": entry["serverIp"],
        "sourceIp": entry["sourceIp"],
        "sourcePrefix": entry["sourcePrefix"],
        "direction": "to-target",
    }
    out["pathTraces"] = entry["pathTraces"] if "pathTraces" in entry else entry["endpoints"]
    return out


class PathVisResultsView(ResultsView):
    """Path visualization from the stored path traces (monitoring/paths.py, as v6's net/path-vis reads them)."""

    test_types = ("agent-to-server", "http-server", "dns-server")

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Path visualization: per agent and round its traces, or one round's detailed hops",
        tags=TAG,
        parameters=RANGE_PARAMS,
    )
    def get(self, request, test_id, agent_id=None, round_id=None):
        test = self.visible(test_id)
        scope = read_scope(self.access, test)
        if agent_id is not None:
            entries = paths.detail(test, self.str_id(agent_id), self.str_id(round_id), scope)
            body = {"results": [v7_path_entry(e) for e in entries], "test": simple_test(test)}
            body["_links"] = {"self": {"href": request.build_absolute_uri()}}
            return Response(body)
        time_range, last = self.time_range(request)
        with reading_from_replica():
            page = paths.read_page(test, time_range, last, scope)
        rows = [v7_path_entry(e) for e in page.rows]
        return Response(self.body(request, test, rows, time_range, page.next_last_round_id))
