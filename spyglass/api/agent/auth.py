"""Agent-token authentication: `Authorization: Bearer sga_…`, checked against the token's keyed digest."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from spyglass.accounts.failed_logins import agent_keys
from spyglass.monitoring.agent_service import token_for

from ..auth import refuse_login


class AgentPrincipal:
    """The caller of the agent API: an organization's agent token (not a user)."""

    is_authenticated = True

    def __init__(self, token):
        self.token = token
        self.organization_id = token.organization_id


class AgentTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request)
        scheme, _, credentials = header.partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        try:
            raw = credentials.strip().decode("ascii")
        except UnicodeDecodeError:
            refuse_login(agent_keys(request), "Malformed agent token")
        found = token_for(raw) if raw else None
        if found is None:  # a valid token always passes; failures count apart from user logins
            refuse_login(agent_keys(request), "Invalid or revoked agent token")
        return AgentPrincipal(found), found

    def authenticate_header(self, request):
        return 'Bearer realm="spyglass-agent"'


class IsAgent(BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.user, AgentPrincipal):
            raise exceptions.NotAuthenticated("The agent API needs an agent token: Authorization: Bearer sga_…")
        return True


class AgentTokenScheme(OpenApiAuthenticationExtension):
    target_class = "spyglass.api.agent.auth.AgentTokenAuthentication"
    name = "agentToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An agent token from `spyglass agent-token create`",
        }
