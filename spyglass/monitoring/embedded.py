"""The embedded agent of `spyglass serve`: which organization it belongs to and its (fresh) agent token."""

from django.db import transaction

from spyglass.accounts.models import Organization
from spyglass.lib.config import env

from .agent_service import issue_agent_token
from .models import AgentToken


@transaction.atomic
def embedded_agent_token(org_name: str | None, agent_name: str) -> tuple[str, str] | None:
    """(organization name, token) for the embedded agent, or None when there is no organization yet.

        The organization is the one asked for (`SPYGLASS_AGENT_ORG`, or the demo's), else the oldest one. Each start
        issues a new token and deletes the previous token of this embedded agent (its name: host, and port unless the
    default), so tokens never pile up and another `serve` on the same database keeps its own."""
    wanted = org_name or env("SPYGLASS_AGENT_ORG")
    organizations = Organization.objects.order_by("id")
    organization = organizations.filter(name=wanted).first() if wanted else organizations.first()
    if organization is None:
        return None
    token_name = f"embedded agent {agent_name}"
    AgentToken.objects.filter(organization=organization, name=token_name).delete()
    return organization.name, issue_agent_token(organization.id, token_name)
