"""`GET /v6/agents` and `GET /v6/agents/{id}`: the organization's agents."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from spyglass.accounts.roles import VIEW_AGENTS
from spyglass.monitoring.models import Agent
from spyglass.monitoring.tests_service import visible_tests

from .. import representations as rep
from ..base import V6View

_TYPE_FILTER = {
    "CLOUD": Agent.CLOUD,
    "ENTERPRISE": Agent.ENTERPRISE,
    "ENDPOINT": Agent.ENDPOINT,
    "ENTERPRISE_CLUSTER": None,
}


class AgentListView(V6View):
    required_permissions = {"GET": VIEW_AGENTS}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Agents of the organization",
        operation_id="agents_list",
        parameters=[OpenApiParameter("agentTypes", str, enum=list(_TYPE_FILTER), description="agent type filter")],
    )
    def get(self, request, format=None):
        agents = Agent.objects.filter(organization_id=self.access.organization_id).order_by("id")
        wanted = request.query_params.get("agentTypes")
        if wanted:
            names = [w.strip().upper() for w in wanted.split(",") if w.strip()]
            unknown = [n for n in names if n not in _TYPE_FILTER]
            if unknown:
                raise ValidationError({"agentTypes": f"unknown agent type {unknown[0]!r}; use CLOUD or ENTERPRISE"})
            agents = agents.filter(agent_type__in=[_TYPE_FILTER[n] for n in names])
        return Response({"agents": [rep.agent_summary(a) for a in agents]})


class AgentDetailView(V6View):
    required_permissions = {"GET": VIEW_AGENTS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Agent detail")
    def get(self, request, agent_id, format=None):
        agent = get_object_or_404(Agent, organization_id=self.access.organization_id, id=self.int_id(agent_id))
        out = rep.agent_summary(agent)
        out["accountGroups"] = [rep.account_group_ref(self.access.account_group)]
        out["tests"] = [rep.test_summary(t) for t in visible_tests(self.access).filter(agents=agent).order_by("id")]
        return Response({"agents": [out]})
