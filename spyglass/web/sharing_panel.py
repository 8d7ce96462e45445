"""What the sharing panel of the results page offers: window lengths, positions, agents, expiry choices within the
organization's maximum, and the v6 data queries the Export Data tab opens. The panel's form is handled by
spyglass.web.views.snapshots, which calls spyglass.sharing.services.create_snapshot (the API's creator too)."""

import secrets

from django.conf import settings
from django.urls import reverse

from spyglass.monitoring import catalogue
from spyglass.monitoring.models import Test
from spyglass.sharing.services import WEB_EXPIRY_CHOICES
from spyglass.sharing.windows import ALLOWED_HOURS

POSITIONS = [("starting", "starting at"), ("around", "around"), ("ending", "ending at")]
DEFAULT_HOURS = 2
EXPORT_MINUTES = (5, 15, 30, 60)
# The v6 data endpoints of each kind of result a test records (catalogue.recorded_kinds).
EXPORT_LABELS = {"net": "Network metrics", "http": "HTTP server", "dns": "DNS server", "path": "Path visualization"}
EXPORT_PATHS = {kind: (label, f"/v6/{catalogue.kind(kind).path}/{{id}}") for kind, label in EXPORT_LABELS.items()}


def expiry_choices() -> list[tuple[str, str]]:
    """(value, label) for the expiry select; "never" and anything past SPYGLASS_SNAPSHOT_MAX_EXPIRY_DAYS left out."""
    ceiling = settings.SNAPSHOT_MAX_EXPIRY_DAYS
    out = []
    for days in WEB_EXPIRY_CHOICES:
        if ceiling and (days is None or days > ceiling):
            continue
        out.append(
            ("never" if days is None else str(days), "Never" if days is None else f"{days} day{'s' * (days > 1)}")
        )
    return out


def default_dashboard_expiry(expiries: list[tuple[str, str]]) -> str:
    """The dashboard's expiry choice to start from (its snapshot and its scheduled report): 7 days, or the longest
    the organization allows."""
    return "7" if any(v == "7" for v, _ in expiries) else expiries[-1][0]


def addresses(raw: str) -> list[str]:
    """The e-mail addresses typed in a share or schedule form (commas, semicolons, spaces or new lines between them)."""
    return [a for a in raw.replace(",", " ").replace(";", " ").split() if a]


def new_idempotency_key() -> str:
    """A share panel's key (160 random bits): one per render of the form, and a new one for "New snapshot"."""
    return secrets.token_urlsafe(20)


def panel_context(access, test: Test) -> dict:
    expiries = expiry_choices()
    return {
        "share_action": reverse("web:snapshot-create", args=[test.id]),
        "share_window_action": reverse("web:snapshot-window", args=[test.id]),
        "share_idempotency_key": new_idempotency_key(),
        "share_hours": [(h, h == DEFAULT_HOURS) for h in ALLOWED_HOURS],
        "share_positions": POSITIONS,
        "share_agents": list(test.agents.order_by("name").values("id", "name", "location")),
        "share_expiries": expiries,
        "share_default_expiry": "7" if any(v == "7" for v, _ in expiries) else expiries[-1][0],
        "export_minutes": EXPORT_MINUTES,
        "export_queries": [
            {"kind": kind, "label": EXPORT_PATHS[kind][0], "path": EXPORT_PATHS[kind][1].format(id=test.id)}
            for kind in catalogue.recorded_kinds(test)
        ],
        "export_aid": access.account_group.id,
    }
