"""v7 tests: `GET /tests`, and list, get, create (POST), update (PUT) and delete for `/tests/agent-to-server`,
`/tests/http-server`, `/tests/dns-server`. A v7 body is read into v6 names and checked by the one
TestWriteSerializer (monitoring/test_validation.py), then written by the same tests_service as v6."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from spyglass.accounts.roles import EDIT_TESTS, VIEW_TESTS
from spyglass.monitoring import tests_service
from spyglass.monitoring.test_validation import TestWriteSerializer, split_host_port

from ...views.tests import TestBaseView
from ..base import V7View
from ..conventions import self_links
from ..shapes import simple_test, test_detail, typed_test

TAG = ["Tests"]
# v7 fields read as they are (same name and meaning in v6); enums v7 writes lower case are upper case in v6.
_AS_IS = (
    "testName interval description enabled alertsEnabled networkMeasurements url httpTimeLimit httpTargetTime "
    "followRedirects maxRedirects verifyCertificate desiredStatusCode contentRegex domain recursiveQueries "
    "probeCount probeSpacing port"
).split()
_UPPER = ("protocol", "dnsTransportProtocol")


def _refs(value, key: str):
    """A v7 list of ids (strings, or objects carrying `key`) as v6's list of {key: id}; other shapes pass through
    for the serializer to name."""
    if not isinstance(value, list):
        return value
    return [item if isinstance(item, dict) else {key: item} for item in value]


def v6_attrs(data: dict, test_type: str) -> dict:
    body = {name: data[name] for name in _AS_IS if name in data}
    for name in _UPPER:
        if name in data:
            body[name] = data[name].upper() if isinstance(data[name], str) else data[name]
    if "server" in data:
        body["server"] = data["server"]
    if "agents" in data:
        body["agents"] = _refs(data["agents"], "agentId")
    if "dnsServers" in data:
        body["dnsServers"] = _refs(data["dnsServers"], "serverName")
    if "sharedWithAccounts" in data:
        body["sharedWithAccounts"] = _refs(data["sharedWithAccounts"], "aid")
    return body


class V7TestView(V7View, TestBaseView):
    test_type = ""

    def get_typed(self, test_id):
        return self.get_test(self.str_id(test_id), self.test_type)

    def validated(self, data, instance=None) -> dict:
        body = v6_attrs(data, self.test_type)
        if instance is not None and self.test_type == "agent-to-server" and isinstance(body.get("server"), str):
            # v7 writes server as "host:port"; the target cannot change, so compare it as stored.
            host, port = split_host_port(body["server"], body.get("port", instance.port))
            body["server"], body["port"] = host, port
        serializer = TestWriteSerializer(data=body, test_type=self.test_type, instance_test=instance)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class TestListView(V7TestView):
    required_permissions = {"GET": VIEW_TESTS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Tests of the account group", tags=TAG)
    def get(self, request):
        tests = [simple_test(t) for t in self.listed_tests().order_by("id")]
        return Response({"tests": tests, "_links": self_links(request)})


class TypedListView(V7TestView):
    required_permissions = {"GET": VIEW_TESTS, "POST": EDIT_TESTS}

    def get(self, request):
        tests = [typed_test(t) for t in self.listed_tests().filter(type=self.test_type).order_by("id")]
        return Response({"tests": tests, "_links": self_links(request)})

    def post(self, request):
        test = tests_service.create_test(self.access, self.test_type, self.validated(request.data))
        test = self.get_test(test.id)
        return Response(test_detail(test), status=status.HTTP_201_CREATED)


class TypedDetailView(V7TestView):
    required_permissions = {"GET": VIEW_TESTS, "PUT": EDIT_TESTS, "DELETE": EDIT_TESTS}

    def get(self, request, test_id):
        return Response(test_detail(self.get_typed(test_id)))

    def put(self, request, test_id):
        test = self.writable_test(self.str_id(test_id), self.test_type)
        test = tests_service.update_test(self.access, test, self.validated(request.data, instance=test))
        return Response(test_detail(self.get_test(test.id)))

    def delete(self, request, test_id):
        tests_service.delete_test(self.writable_test(self.str_id(test_id), self.test_type))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _typed_views(test_type: str):
    """The list and detail views of one test type, documented under its name."""
    name = "".join(part.title() for part in test_type.split("-"))
    schema = dict(responses=OpenApiTypes.OBJECT, tags=TAG, request=OpenApiTypes.OBJECT)

    class ListView(TypedListView):
        @extend_schema(summary=f"{test_type} tests", operation_id=f"get{name}Tests", **schema)
        def get(self, request):
            return super().get(request)

        @extend_schema(summary=f"Create a {test_type} test", operation_id=f"create{name}Test", **schema)
        def post(self, request):
            return super().post(request)

    class DetailView(TypedDetailView):
        @extend_schema(summary=f"A {test_type} test", operation_id=f"get{name}Test", **schema)
        def get(self, request, test_id):
            return super().get(request, test_id)

        @extend_schema(summary=f"Update a {test_type} test", operation_id=f"update{name}Test", **schema)
        def put(self, request, test_id):
            return super().put(request, test_id)

        @extend_schema(summary=f"Delete a {test_type} test", operation_id=f"delete{name}Test", **schema)
        def delete(self, request, test_id):
            return super().delete(request, test_id)

    ListView.test_type = DetailView.test_type = test_type
    ListView.__name__, DetailView.__name__ = f"{name}ListView", f"{name}DetailView"
    return ListView, DetailView


TYPED = {t: _typed_views(t) for t in ("agent-to-server", "http-server", "dns-server")}
