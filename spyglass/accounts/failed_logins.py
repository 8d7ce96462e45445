"""Failed logins, counted per credential that failed, never held against a correct one.

A user login that fails (API Basic or Bearer, web sign-in) counts under its address, and when it named an account
(the e-mail in Basic or the sign-in form) under that account and under address+account. A failing attempt is
answered 429 once any of its counters is past SPYGLASS_FAILED_LOGIN_LIMIT this hour. A correct API token always
passes: tokens carry 192 random bits, so no number of guesses finds one, and refusing it would only let an attacker
lock its owner out. A password can be guessed, so the web sign-in checks no password of an account from an address
that has failed too often for that account (failures elsewhere, or for other accounts, never stop it). Agent tokens
have counters of their own, per address: an agent never shares a budget with user logins."""

import time

from django.conf import settings

from spyglass.lib import tokens

from . import ratelimit

WINDOW = 3600  # seconds: failures are counted per hour


def user_keys(request, account: str | None) -> list[str]:
    """The counters a user login's failure adds to; `account` is the e-mail it named, if any."""
    address = ratelimit.client_ip(request)
    keys = [f"login-fail:address:{address}"]
    if account:
        tag = _account_tag(account)
        keys += [f"login-fail:account:{tag}", _address_account_key(address, tag)]
    return keys


def _account_tag(account: str) -> str:
    # A keyed digest: the e-mails attempted are the attacker's text, and need not be kept as such.
    return tokens.digest(settings.SECRET_KEY, "failed-login:" + account.strip().lower())[:32]


def _address_account_key(address: str, tag: str) -> str:
    return f"login-fail:address-account:{address}:{tag}"


def agent_keys(request) -> list[str]:
    return [f"agent-fail:address:{ratelimit.client_ip(request)}"]


def limit() -> int:
    return settings.FAILED_LOGIN_LIMIT_PER_HOUR


def count_failure(keys: list[str], now: float | None = None) -> int | None:
    """Count one failure under each key; the seconds to wait when this attempt is past the limit, else None.

    Counted and decided in one statement (the counts it returns), so of N concurrent failures exactly the limit
    are answered as failures and the rest as 429."""
    now = time.time() if now is None else now
    counts = ratelimit.hit_keys(keys, WINDOW, now=now)
    return _wait(now) if max(counts.values()) > limit() else None


class Attempt:
    """A password sign-in, counted before the password is checked and given back when it was right.

    Counting first decides in one statement whether the password may be checked at all, so concurrent guesses
    can never check more passwords than the limit."""

    def __init__(self, request, account: str, now: float | None = None):
        self.keys = user_keys(request, account)
        self.address_account = _address_account_key(ratelimit.client_ip(request), _account_tag(account))
        self.now = time.time() if now is None else now
        self.counts = ratelimit.hit_keys(self.keys, WINDOW, now=self.now)

    def may_check(self) -> bool:
        """False when this address has failed too often for this account: no password is checked."""
        return self.counts[self.address_account] <= limit()

    def failed_too_often(self) -> bool:
        """After a wrong password: whether it is answered as too many failures."""
        return max(self.counts.values()) > limit()

    def succeeded(self) -> None:
        ratelimit.hit_keys(self.keys, WINDOW, amount=-1, now=self.now)


def _wait(now: float) -> int:
    return max(int(ratelimit.window_start(WINDOW, now) + WINDOW - now), 1)
