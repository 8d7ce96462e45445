"""The API's one tenancy checkpoint: every v6 view inherits V6View, which authenticates, resolves `aid`, applies the
organization's rate limit, refuses writes to read-only roles and checks the action's permission. Views then read only
through `self.access` (the caller's account group and role), so an object of another group answers 404."""

from django.conf import settings
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import APIView

from spyglass.accounts import ratelimit
from spyglass.accounts.roles import access_for

from .auth import requested_aid

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class OrganizationRateLimited(exceptions.Throttled):
    default_detail = "Organization rate limit exceeded"


def rate_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    """The X-Organization-Rate-Limit-* headers of a response."""
    return {
        "X-Organization-Rate-Limit-Limit": str(limit),
        "X-Organization-Rate-Limit-Remaining": str(remaining),
        "X-Organization-Rate-Limit-Reset": str(reset),
    }


def uncounted_rate_headers() -> dict[str, str]:
    """For an answer given before an organization was known: the limit, nothing counted, when the window resets."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    return rate_headers(limit, limit, ratelimit.window_start(60) + 60)


class V6View(APIView):
    # The permission each HTTP method needs, e.g. {"GET": VIEW_TESTS, "POST": EDIT_TESTS}; None = membership is enough.
    required_permissions: dict[str, str | None] = {}
    # Where a client finds its account groups (named in the message refusing a malformed aid).
    account_groups_path = "/v6/account-groups"

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        self.perform_authentication(request)
        self.check_permissions(request)  # IsAuthenticated: 401 without credentials
        try:
            self.access = self.resolve_access(request)
        except exceptions.APIException:
            # A refused aid is still a request of the caller's organization: counted there, and answered with
            # its rate-limit headers like every other response.
            fallback = access_for(request.user, None)
            if fallback is not None:
                self.apply_rate_limit(fallback.organization_id)
            raise
        self.apply_rate_limit(self.access.organization_id)
        if request.method not in SAFE_METHODS and self.access.read_only:
            raise exceptions.PermissionDenied("Regular Users cannot make changes through the API")
        needed = self.required_permissions.get(request.method)
        if needed and not self.access.can(needed):
            raise exceptions.PermissionDenied(f"This needs the permission '{needed}'")

    def resolve_access(self, request):
        aid = requested_aid(request)
        if aid is False:
            raise exceptions.ValidationError({"aid": f"must be an account group id from {self.account_groups_path}"})

        # Read with the token's user when it could be (auth._user_with_token); asked here otherwise.
        prefetched = getattr(request.user, "prefetched_access", None)
        access = prefetched[1] if prefetched and prefetched[0] == aid else access_for(request.user, aid)
        if access is None:
            # The same answer whether the group exists or not: never reveal other tenants.
            if aid is None:
                raise exceptions.PermissionDenied("This user belongs to no account group")
            raise exceptions.ValidationError({"aid": "invalid aid: not an account group of this user"})
        return access

    def apply_rate_limit(self, organization_id: int):
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        count, reset = ratelimit.hit(f"api-org:{organization_id}", 60)
        self.rate_headers = rate_headers(limit, max(limit - count, 0), reset)
        if count > limit:
            raise OrganizationRateLimited(wait=max(reset - ratelimit.time.time(), 0))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Refused before an organization was known, a response has none here: RateLimitHeadersMiddleware adds them.
        for key, value in getattr(self, "rate_headers", {}).items():
            response[key] = value
        return response

    @staticmethod
    def int_id(value, name: str = "id") -> int:
        """Path ids are digits by URL pattern; this guards against overflow of the database's integer."""
        number = int(value)
        if number > 2**62:
            raise Http404
        return number
