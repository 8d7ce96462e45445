"""Agents of the organization (online/offline) and the agent tokens that let remote agents register. Account Admins
only: the page needs the "Edit agents" permission."""

from datetime import timedelta

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from spyglass.accounts.roles import EDIT_AGENTS
from spyglass.lib.text import find_control_character
from spyglass.monitoring.agent_service import issue_agent_token

from ..checkpoint import agent_token_or_404, member_view, organization_agent_tokens, organization_agents

# An agent that has not been heard from for this long is shown offline (agents check in every minute).
ONLINE_WITHIN = timedelta(minutes=3)


def _admin_access(request):
    if not request.access.can(EDIT_AGENTS) or request.access.read_only:
        raise Http404
    return request.access


def _page(request, new_token=None, error=None, status=200):
    access = request.access
    cutoff = timezone.now() - ONLINE_WITHIN
    agents = list(organization_agents(access))
    for agent in agents:
        agent.online = agent.last_seen is not None and agent.last_seen >= cutoff
    agent_tokens = organization_agent_tokens(access)
    return render(
        request,
        "web/agents.html",
        {"agents": agents, "agent_tokens": agent_tokens, "new_token": new_token, "error": error},
        status=status,
    )


@member_view
def agent_list(request):
    _admin_access(request)
    return _page(request)


@require_POST
@member_view
def agent_token_create(request):
    access = _admin_access(request)
    name = request.POST.get("name", "").strip()
    if not name or len(name) > 200 or find_control_character(name) is not None:
        return _page(request, error="Give the token a name of 1 to 200 printable characters.", status=400)
    token = issue_agent_token(access.organization_id, name)
    return _page(request, new_token={"name": name, "token": token})


@require_POST
@member_view
def agent_token_revoke(request, token_id):
    token = agent_token_or_404(_admin_access(request), token_id)
    token.revoked = True
    token.save(update_fields=["revoked"])
    return redirect("web:agents")
