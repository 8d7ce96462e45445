"""Share-link ids: the one place that makes them, turns one into a snapshot, and writes a link's address.

An id is 192 random bits in URL-safe base64 (32 characters). Anything else — empty, shorter, longer, other
characters — is refused before the database is asked (Grafana CVE-2021-39226: an empty key matched a row)."""

import re
import secrets

from django.conf import settings

LINK_ID_BYTES = 24
LINK_ID_LENGTH = 32  # len(token_urlsafe(24))
_LINK_ID_RE = re.compile(r"[A-Za-z0-9_-]{32}")


def new_link_id() -> str:
    return secrets.token_urlsafe(LINK_ID_BYTES)


def is_well_formed(link_id) -> bool:
    return isinstance(link_id, str) and _LINK_ID_RE.fullmatch(link_id) is not None


def find_snapshot(link_id, queryset=None):
    """The snapshot with this link id (within `queryset` when given), or None. Malformed ids never reach the DB."""
    if not is_well_formed(link_id):
        return None
    from .models import Snapshot

    qs = queryset if queryset is not None else Snapshot.objects.all()
    return qs.select_related("test", "source_test", "created_by", "account_group").filter(link_id=link_id).first()


def view_url(link_id: str) -> str:
    """SPYGLASS_SHARE_URL_TEMPLATE with {linkId} filled in, else SPYGLASS_BASE_URL/s/<linkId>/."""
    template = settings.SHARE_URL_TEMPLATE
    if template:
        return template.replace("{linkId}", link_id)
    return f"{settings.BASE_URL}/s/{link_id}/"


def share_host_pattern():
    """When the template puts the id in the host name (https://{linkId}.share.example.com/), a regex matching such
    hosts, capturing the id; else None."""
    template = settings.SHARE_URL_TEMPLATE
    if not template:
        return None
    host = template.split("://", 1)[1].split("/", 1)[0]
    if "{linkId}" not in host:
        return None
    before, after = host.split("{linkId}")
    return re.compile(re.escape(before) + r"([A-Za-z0-9_-]{1,64})" + re.escape(after) + r"(?::[0-9]+)?", re.I)
