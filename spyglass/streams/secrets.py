"""A stream's custom headers (often an API key) at rest: a Fernet token keyed from SECRET_KEY. Shown masked."""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

MASK = "*****"


class UnreadableHeaders(Exception):
    """The headers were encrypted under another SECRET_KEY."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"spyglass stream custom headers\0" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(headers: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(headers, sort_keys=True).encode()).decode() if headers else ""


def unseal(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise UnreadableHeaders("custom headers cannot be read (SECRET_KEY changed): set them again") from None


def masked(token: str) -> dict[str, str]:
    try:
        return dict.fromkeys(unseal(token), MASK)
    except UnreadableHeaders:
        return {}
