"""Agent API v1 views. Every route under an agent id answers 404 unless the token's organization owns that agent."""

import time

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from spyglass.lib.text import find_control_character
from spyglass.monitoring import agent_service, catalogue
from spyglass.monitoring.models import Agent

from .auth import AgentTokenAuthentication, IsAgent
from .rows import BatchError, validate_batch

TAGS = ["agent API v1"]


class Text(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("must be a string")
        value = super().to_internal_value(data)
        if find_control_character(value) is not None:
            raise serializers.ValidationError("contains a control character")
        return value


class RegisterSerializer(serializers.Serializer):
    name = Text(max_length=200)
    kind = serializers.ChoiceField(choices=["enterprise", "endpoint"], default="enterprise")
    version = Text(max_length=50, required=False, default="", allow_blank=True)
    hostname = Text(max_length=255, required=False, default="", allow_blank=True)
    ipAddresses = serializers.ListField(child=serializers.IPAddressField(), max_length=32, required=False, default=list)


class HeartbeatSerializer(serializers.Serializer):
    version = Text(max_length=50, required=False, default="", allow_blank=True)
    spoolDepth = serializers.IntegerField(min_value=0, required=False, default=0)
    spoolDropped = serializers.IntegerField(min_value=0, max_value=2**62, required=False, default=0)


def _row_serializer():
    """For the OpenAPI document only: the fields a result row may carry (validation is rows.validate_batch)."""
    kinds = {
        "number": serializers.FloatField,
        "percent": serializers.FloatField,
        "whole": serializers.IntegerField,
        "flag": serializers.BooleanField,
    }
    fields = {
        "kind": serializers.ChoiceField(choices=list(catalogue.upload_kinds())),
        "testId": serializers.IntegerField(),
        "roundId": serializers.IntegerField(help_text="floor(measured at / interval) * interval"),
        "date": serializers.FloatField(help_text="epoch seconds when the round was measured"),
    }
    for kind, described in catalogue.upload_kinds().items():
        for f in described.fields:
            if f.name not in fields:
                field = kinds.get(f.value, serializers.CharField)
                if f.value == "certs":
                    fields[f.name] = serializers.ListField(child=serializers.DictField(), required=False)
                elif f.value == "hops":
                    hop = ", ".join(h.name for h in catalogue.HOP_FIELDS)
                    fields[f.name] = serializers.ListField(
                        child=serializers.DictField(), required=False, help_text=f"path results: hops of {hop}"
                    )
                else:
                    fields[f.name] = field(required=False, allow_null=True, help_text=f"{kind} results")
    return type("AgentResultRow", (serializers.Serializer,), fields)


class ResultsSerializer(serializers.Serializer):
    results = _row_serializer()(many=True)


class AgentView(APIView):
    authentication_classes = [AgentTokenAuthentication]
    permission_classes = [IsAgent]

    def agent(self, agent_id) -> Agent:
        return get_object_or_404(Agent, id=agent_number(agent_id), organization_id=self.request.user.organization_id)


def agent_number(agent_id: str) -> int:
    """The agent id of the URL, or 0 (no agent) when it is beyond the column's range."""
    number = int(agent_id)
    return number if number < 2**62 else 0


def agent_body(agent: Agent) -> dict:
    return {
        "agentId": agent.id,
        "agentName": agent.name,
        "agentType": agent.agent_type,
        "heartbeatInterval": agent_service.HEARTBEAT_SECONDS,
        "serverTime": time.time(),
    }


class RegisterView(APIView):
    authentication_classes = [AgentTokenAuthentication]
    permission_classes = [IsAgent]

    @extend_schema(request=RegisterSerializer, responses=OpenApiTypes.OBJECT, tags=TAGS, summary="Register an agent")
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        agent = agent_service.register(
            request.user.organization_id, v["name"], v["kind"], v["version"], v["hostname"], v["ipAddresses"]
        )
        return Response(agent_body(agent))


class HeartbeatView(AgentView):
    @extend_schema(request=HeartbeatSerializer, responses=OpenApiTypes.OBJECT, tags=TAGS, summary="Heartbeat")
    def post(self, request, agent_id):
        agent = self.agent(agent_id)
        data = HeartbeatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent_service.heartbeat(agent, data.validated_data["version"], data.validated_data["spoolDropped"])
        return Response(agent_body(agent))


class AssignmentsView(AgentView):
    @extend_schema(responses=OpenApiTypes.OBJECT, tags=TAGS, summary="Tests assigned to the agent")
    def get(self, request, agent_id):
        agent = self.agent(agent_id)
        tests = agent_service.assigned_tests(agent)
        return Response({"serverTime": time.time(), "assignments": [agent_service.assignment(t) for t in tests]})


class ResultsView(AgentView):
    @extend_schema(
        request=ResultsSerializer,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
        tags=TAGS,
        summary="Post a batch of results (all or nothing)",
        description="Rows keyed by (testId, roundId, agent[, server]); posting the same key again replaces the row. "
        "A batch with any bad row is refused whole with 400, naming the rows in `rows`.",
    )
    def post(self, request, agent_id):
        # An agent's well-formed batch is answered before this view (upload.AgentUploadMiddleware); the rest is here.
        # agent_of and tests_for_results are lean SQL: this view runs for every upload of every agent.
        agent = agent_service.agent_of(request.user.organization_id, agent_number(agent_id))
        if agent is None:
            raise Http404
        tests = agent_service.tests_for_results(agent)
        try:
            rows = validate_batch(request.data, tests)
        except BatchError as exc:
            return Response({"errorMessage": str(exc), "rows": exc.rows}, status=status.HTTP_400_BAD_REQUEST)
        written = agent_service.store_batch(agent, rows)
        return Response({"accepted": written})
