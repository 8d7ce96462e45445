"""API authentication: HTTP Basic email:token or Bearer token, checked against the token's keyed digest."""

import base64
import binascii
import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Subquery
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from spyglass.accounts.models import RateCounter
from spyglass.lib import tokens
from spyglass.lib.compiled import CompiledQuery

from . import ratelimit

FAILED_LOGIN_WINDOW = 3600


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


class TooManyFailedLogins(exceptions.Throttled):
    default_detail = "Too many failed logins from this address; try again later"


def _check_failed_logins(request):
    key = f"login-fail:{client_ip(request)}"
    if ratelimit.peek(key, FAILED_LOGIN_WINDOW) >= settings.FAILED_LOGIN_LIMIT_PER_HOUR:
        raise TooManyFailedLogins(wait=FAILED_LOGIN_WINDOW)


def _fail(request, message):
    _check_failed_logins(request)  # an address over its limit is told so, whatever it sent
    ratelimit.hit(f"login-fail:{client_ip(request)}", FAILED_LOGIN_WINDOW)
    raise exceptions.AuthenticationFailed(message)


def _user_with_token(request, digest: str):
    """The user whose API token has this digest, or None; `failed_logins` on it counts its address's failures.

    One statement, compiled once per process: every API request asks both (docs/benchmarks.md, rows 6 and 7)."""
    found = _token_query().fetch(
        digest=digest, key=f"login-fail:{client_ip(request)}", window=ratelimit.window_start(FAILED_LOGIN_WINDOW)
    )
    return found[0] if found else None


@functools.cache
def _token_query() -> CompiledQuery:
    failed = RateCounter.objects.filter(key="key-placeholder", window_start=-3001).values("count")[:1]
    users = get_user_model().objects.filter(api_token__digest="digest-placeholder")
    return CompiledQuery(
        users.annotate(failed_logins=Subquery(failed)), digest="digest-placeholder", key="key-placeholder", window=-3001
    )


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
                _fail(request, "Malformed Basic credentials")
            email, sep, token = decoded.partition(":")
            if not sep:
                _fail(request, "Basic credentials must be email:token")
        elif scheme == b"bearer":
            try:
                token = credentials.strip().decode("utf-8")
            except UnicodeDecodeError:
                _fail(request, "Malformed Bearer token")
        else:
            return None
        if not token:
            _fail(request, "Invalid credentials")
        user = _user_with_token(request, tokens.digest(settings.SECRET_KEY, token))
        if user is None:
            _fail(request, "Invalid credentials")
        if (user.failed_logins or 0) >= settings.FAILED_LOGIN_LIMIT_PER_HOUR:
            raise TooManyFailedLogins(wait=FAILED_LOGIN_WINDOW)
        if not user.is_active:
            _fail(request, "Invalid credentials")
        if email is not None and not tokens.same(email.strip().lower(), user.email.lower()):
            _fail(request, "Invalid credentials")
        return user, None

    def authenticate_header(self, request):
        return 'Basic realm="spyglass"'


class SessionAuth(SessionAuthentication):
    """The web UI's session also opens the API (Export Data opens a v6 query in a new window)."""
