"""API authentication: HTTP Basic email:token or Bearer token, checked against the token's keyed digest."""

import base64
import binascii

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from spyglass.accounts.models import ApiToken
from spyglass.lib import tokens

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
    ratelimit.hit(f"login-fail:{client_ip(request)}", FAILED_LOGIN_WINDOW)
    raise exceptions.AuthenticationFailed(message)


def _user_with_token(digest: str):
    """The user whose API token has this digest, or None. In SQL: every API request asks, and compiling the ORM's
    join cost more than running it (docs/benchmarks.md, row 7)."""
    users = get_user_model()
    sql = (
        f"SELECT u.* FROM {users._meta.db_table} u JOIN {ApiToken._meta.db_table} t ON t.user_id = u.id "
        "WHERE t.digest = %s"
    )
    return next(iter(users.objects.raw(sql, [digest])), None)


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        _check_failed_logins(request)
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
        user = _user_with_token(tokens.digest(settings.SECRET_KEY, token))
        if user is None or not user.is_active:
            _fail(request, "Invalid credentials")
        if email is not None and not tokens.same(email.strip().lower(), user.email.lower()):
            _fail(request, "Invalid credentials")
        return user, None

    def authenticate_header(self, request):
        return 'Basic realm="spyglass"'


class SessionAuth(SessionAuthentication):
    """The web UI's session also opens the API (Export Data opens a v6 query in a new window)."""
