"""Secrets: random tokens and the keyed digests that are all the database ever stores of them."""

import hashlib
import hmac
import secrets

TOKEN_BYTES = 24  # 192 random bits


def new_token(prefix: str = "") -> str:
    """A URL-safe random token of 192 bits, optionally prefixed by its kind (e.g. 'sga_' for agents)."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def digest(secret_key: str | bytes, token: str) -> str:
    """HMAC-SHA256 of the token, hex. Fast and keyed: safe on the per-request path, unlike a password hasher."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
