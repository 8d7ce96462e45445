"""Share-link ids: the one place that makes them, turns one into a snapshot, and writes a link's address.

An id is 160 random bits in lowercase base32 (32 characters of a-z and 2-7): safe in a URL path and as a DNS label
(a share domain such as https://{linkId}.share.example.com/ — host names are case-insensitive). Anything else —
empty, shorter, longer, other characters — is refused before the database is asked (Grafana CVE-2021-39226: an empty
key matched a row)."""

import base64
import re
import secrets

from django.conf import settings

LINK_ID_BYTES = 20
LINK_ID_LENGTH = 32  # 160 bits / 5 bits per base32 character
_LINK_ID_RE = re.compile(r"[a-z2-7]{32}")


def new_link_id() -> str:
    return base64.b32encode(secrets.token_bytes(LINK_ID_BYTES)).decode("ascii").lower()


def is_well_formed(link_id) -> bool:
    return isinstance(link_id, str) and _LINK_ID_RE.fullmatch(link_id) is not None


def find_snapshot(link_id, queryset=None):
    """The snapshot with this link id (within `queryset` when given), or None. Malformed ids never reach the DB."""
    if not is_well_formed(link_id):
        return None
    from .models import Snapshot

    qs = queryset if queryset is not None else Snapshot.objects.all()
    # link_id is unique: no ORDER BY (first() would add one, and compiling it over four joined models showed as
    # a tenth of every share page view in the profile).
    found = qs.select_related("test", "source_test", "created_by", "account_group").filter(link_id=link_id)
    return next(iter(found.order_by()[:1]), None)


def find_shared(link_id, render_key: str = "", user_id=None):
    """find_snapshot for the share page's requests, or None: one statement compiled once per process that also
    brings what the page shows about its test and creator, its visit and comment counts, the stored render under
    `render_key` and whether `user_id` may open it (page_reads.snapshot_by_link)."""
    if not is_well_formed(link_id):
        return None
    from .page_reads import snapshot_by_link

    return snapshot_by_link(link_id, render_key, user_id)


def visit_shared(link_id, render_key: str, user_id, ip: str, now):
    """find_shared and the visit's INSERT in one statement (PostgreSQL: page_visit.visit_by_link), or None."""
    if not is_well_formed(link_id):
        return None
    from .page_visit import visit_by_link

    return visit_by_link(link_id, render_key, user_id, ip, now)


def view_url(link_id: str, *, dashboard: bool = False) -> str:
    """A share link's address — a test snapshot's, or with `dashboard` a dashboard snapshot's (its pages live under
    /s/d/<linkId>/). SPYGLASS_SHARE_URL_TEMPLATE with {linkId} filled in: a dashboard's id as d/<linkId> when the id
    is in the path (the proxy's prefix then maps to /s/d/<linkId>/ as it maps to /s/<linkId>/), or with d/ after the
    host when the id is the host name (https://<linkId>.share.example.com/d/, which ShareHostMiddleware serves as
    /s/d/<linkId>/). Without a template: SPYGLASS_BASE_URL/s/<linkId>/ or /s/d/<linkId>/."""
    template = settings.SHARE_URL_TEMPLATE
    if not template:
        return f"{settings.BASE_URL}/s/{DASHBOARD_PREFIX if dashboard else ''}{link_id}/"
    if not dashboard:
        return template.replace("{linkId}", link_id)
    scheme, rest = template.split("://", 1)
    host, slash, path = rest.partition("/")
    if "{linkId}" in host:
        return f"{scheme}://{host.replace('{linkId}', link_id)}/{DASHBOARD_PREFIX}"
    return f"{scheme}://{host}{slash}{path.replace('{linkId}', DASHBOARD_PREFIX + link_id)}"


DASHBOARD_PREFIX = "d/"  # where a dashboard snapshot's pages are, below /s/ (or below a share host's root)


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
    return re.compile(re.escape(before) + r"([A-Za-z0-9-]{1,63})" + re.escape(after) + r"(?::[0-9]+)?", re.I)
