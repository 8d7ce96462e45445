"""API authentication: HTTP Basic email:token or Bearer token, checked against the token's keyed digest."""

import base64
import binascii
import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from spyglass.accounts import failed_logins
from spyglass.accounts.roles import access_for_token
from spyglass.lib import tokens
from spyglass.lib.compiled import CompiledQuery
from spyglass.lib.text import is_digits


class TooManyFailedLogins(exceptions.Throttled):
    default_detail = "Too many failed logins; try again later"


def refuse_login(keys: list[str], message: str):
    """Count the failure under these counters (failed_logins.user_keys or agent_keys); 401, or 429 past the limit."""
    wait = failed_logins.count_failure(keys)
    if wait is not None:
        raise TooManyFailedLogins(wait=wait)
    raise exceptions.AuthenticationFailed(message)


def _user_with_token(request, digest: str):
    """The user whose API token has this digest, or None; `prefetched_access` on it is (aid, its Access) for the
    request's `aid` when the same statement could read it (roles.access_for_token, the one access decision, which
    V6View.resolve_access then takes). Failed logins are not read: a correct token passes whatever others failed
    (accounts/failed_logins.py)."""
    aid = requested_aid(request)
    if aid is not False:
        access = access_for_token(digest, aid)
        if access is not None:  # None: an unknown token, or no membership there; the plain lookup below tells which
            user = access.user
            user.prefetched_access = (aid, access)
            return user
    found = _token_query().fetch(digest=digest)
    return found[0] if found else None


def _fail(request, email: str | None, message: str):
    """A failed user login: counted under its address and, when Basic named one, its account."""
    refuse_login(failed_logins.user_keys(request, email), message)


def requested_aid(request):
    """The `aid` asked for: None for the default group, False when it is not well-formed (V6View.resolve_access
    answers that)."""
    raw = request.query_params.get("aid")
    if raw is None:
        return None
    return int(raw) if is_digits(raw) and len(raw) <= 18 else False


@functools.cache
def _token_query() -> CompiledQuery:
    users = get_user_model().objects.filter(api_token__digest="digest-placeholder")
    return CompiledQuery(users, digest="digest-placeholder")


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        scheme, _, credentials = header.partition(b" ")
        scheme = scheme.lower()
        email = None
        if scheme == b"basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                _fail(request, None, "Malformed Basic credentials")
            email, sep, token = decoded.partition(":")
            if not sep:
                _fail(request, None, "Basic credentials must be email:token")
        elif scheme == b"bearer":
            try:
                token = credentials.strip().decode("utf-8")
            except UnicodeDecodeError:
                _fail(request, None, "Malformed Bearer token")
        else:
            return None
        if not token:
            _fail(request, email, "Invalid credentials")
        user = _user_with_token(request, tokens.digest(settings.SECRET_KEY, token))
        if user is None or not user.is_active:
            _fail(request, email, "Invalid credentials")
        if email is not None and not tokens.same(email.strip().lower(), user.email.lower()):
            _fail(request, email, "Invalid credentials")
        return user, None

    def authenticate_header(self, request):
        return 'Basic realm="spyglass"'


class SessionAuth(SessionAuthentication):
    """The web UI's session also opens the API (Export Data opens a v6 query in a new window)."""
