"""v6 path visualization: `GET /v6/net/path-vis/{testId}` (one entry per agent and round, paged like the other
data endpoints) and `GET /v6/net/path-vis/{testId}/{agentId}/{roundId}` (that entry with its detailed traces).
The same tenancy, range, paging and formats as data.py's endpoints; the shapes are monitoring/paths.py's."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from spyglass.monitoring import paths
from spyglass.monitoring.scope import read_scope
from spyglass.monitoring.tests_service import visible_test

from .. import representations as rep
from .data import RANGE_PARAMS, DataView

TEST_TYPES = ("agent-to-server", "http-server", "dns-server")


class PathVisView(DataView):
    kind, wrapper, rows_key = "path", "net", "pathVis"
    test_types = TEST_TYPES

    def read_page(self, request, test, time_range, last, extras, scope):
        return paths.read_page(test, time_range, last, scope)

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=RANGE_PARAMS,
        summary="Path visualization: per agent and round, the endpoints of its path traces",
        operation_id="net_path_vis",
        description="One pathVis entry per agent and round: agentId, agentName, countryId, date, roundId, server, "
        "serverIp, sourceIp, sourcePrefix, permalink and endpoints (one per trace: numberOfHops, ipAddress, "
        "responseTime in whole ms, pathId). No range: the latest round.",
    )
    def get(self, request, test_id, format=None):
        return super().get(request, test_id, format)


class PathVisDetailView(DataView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Detailed path trace of one agent in one round",
        operation_id="net_path_vis_detail",
        description="The agent's pathVis entry of that round with pathTraces: each its pathId and hops (hop, "
        "ipAddress, prefix, rdns, network, responseTime in whole ms); an unknown hop is only its hop number. "
        "404 when the test, or a trace of that agent in that round, is not visible.",
    )
    def get(self, request, test_id, agent_id, round_id, format=None):
        test = visible_test(self.access, self.int_id(test_id), "created_by", "modified_by")
        if test is None or test.type not in TEST_TYPES:
            raise Http404
        entries = paths.detail(test, self.int_id(agent_id), self.int_id(round_id), read_scope(self.access, test))
        if not entries:
            raise Http404
        return Response({"net": {"test": rep.test_summary(test), "pathVis": entries}})
