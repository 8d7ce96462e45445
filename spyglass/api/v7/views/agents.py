"""v7 `GET /agents` (agentTypes filter, expand) and `GET /agents/{agentId}`: the organization's Cloud and
Enterprise agents (Endpoint agents belong to v7's Endpoint Agents API, which spyglass does not serve)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from spyglass.accounts.roles import VIEW_AGENTS
from spyglass.monitoring.models import Agent
from spyglass.monitoring.tests_service import visible_tests

from ..base import V7View
from ..conventions import self_links
from ..shapes import AGENT_TYPES, agent_summary, simple_test
from .admin import account_group_ref

TAG = ["Agents"]
_FILTER = {"cloud": ["Cloud"], "enterprise": ["Enterprise"], "enterprise-cluster": []}


def _listed(params, name: str) -> list[str]:
    return [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]


def _expanded(access, agent, expand: list[str]) -> dict:
    out = agent_summary(agent)
    if "test" in expand or "test-ids" in expand:
        tests = list(visible_tests(access).filter(agents=agent).select_related("created_by", "modified_by"))
        if "test" in expand:
            out["tests"] = [simple_test(t) for t in tests]
        if "test-ids" in expand:
            out["testIds"] = [t.id for t in tests]
    return out


class AgentListView(V7View):
    required_permissions = {"GET": VIEW_AGENTS}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Cloud and Enterprise agents of the organization",
        tags=TAG,
        parameters=[
            OpenApiParameter("agentTypes", str, many=True, enum=list(_FILTER)),
            OpenApiParameter("expand", str, many=True, enum=["test", "test-ids"]),
        ],
    )
    def get(self, request):
        agents = Agent.objects.filter(organization_id=self.access.organization_id, agent_type__in=list(AGENT_TYPES))
        wanted = _listed(request.query_params, "agentTypes")
        if wanted:
            unknown = [w for w in wanted if w not in _FILTER]
            if unknown:
                raise ValidationError(
                    {"agentTypes": f"unknown agent type '{unknown[0][:40]}'; use cloud or enterprise"}
                )
            agents = agents.filter(agent_type__in=[t for w in wanted for t in _FILTER[w]])
        expand = _listed(request.query_params, "expand")
        body = [_expanded(self.access, a, expand) for a in agents.order_by("id")]
        return Response({"agents": body, "_links": self_links(request)})


class AgentDetailView(V7View):
    required_permissions = {"GET": VIEW_AGENTS}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="An agent",
        tags=TAG,
        parameters=[OpenApiParameter("expand", str, many=True, enum=["test", "test-ids"])],
    )
    def get(self, request, agent_id):
        agent = get_object_or_404(
            Agent,
            organization_id=self.access.organization_id,
            agent_type__in=list(AGENT_TYPES),
            id=self.str_id(agent_id),
        )
        out = _expanded(self.access, agent, _listed(request.query_params, "expand"))
        if agent.agent_type == "Enterprise":  # v7's CloudAgentDetail has no accountGroups
            out["accountGroups"] = [account_group_ref(self.access.account_group)]
        return Response(out)
