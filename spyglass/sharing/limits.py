"""The per-organization snapshot creation limit (SPYGLASS_SNAPSHOT_RATE, default "5/5m,10/1h").

Taken inside the creating transaction: the organization's row is locked (FOR NO KEY UPDATE on PostgreSQL; SQLite
runs one writer at a time), the successful creations of each sliding period are counted in SQL, and this creation
is logged in the same transaction. A creation that fails later rolls its log row back, so only successes count, and
no two app processes can both see "one left"."""

import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from spyglass.accounts.models import Organization

from .errors import RateLimited
from .models import SnapshotCreation


def _describe(count: int, seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{count} per {n} {unit}s" if n != 1 else f"{count} per {unit}"
    return f"{count} per {seconds} seconds"


def lock(organization_id: int) -> None:
    """Hold the organization's row until the transaction ends: creations of one organization take turns (a no-op on
    SQLite, where a write transaction already excludes every other writer)."""
    Organization.objects.select_for_update(no_key=True).filter(id=organization_id).values_list("id").first()


def take(organization_id: int) -> None:
    """Count one creation for the organization, or raise RateLimited with the seconds until one is free."""
    lock(organization_id)
    now = timezone.now()  # after the lock: the creations counted below are all that committed before us
    log = SnapshotCreation.objects.filter(organization_id=organization_id)
    waits = []
    for count, seconds in settings.SNAPSHOT_RATE:
        since = now - timedelta(seconds=seconds)
        oldest_counted = list(
            log.filter(created_date__gt=since)
            .order_by("-created_date")
            .values_list("created_date", flat=True)[count - 1 : count]
        )
        if oldest_counted:
            free_at = oldest_counted[0] + timedelta(seconds=seconds)
            waits.append((math.ceil((free_at - now).total_seconds()), count, seconds))
    if waits:
        wait, count, seconds = max(waits)
        raise RateLimited(
            f"Snapshot creation limit reached for this organization ({_describe(count, seconds)}); "
            f"try again in {max(wait, 1)} seconds",
            retry_after=wait,
        )
    SnapshotCreation.objects.create(organization_id=organization_id, created_date=now)


def purge_log(now) -> int:
    longest = max(seconds for _, seconds in settings.SNAPSHOT_RATE)
    deleted, _ = SnapshotCreation.objects.filter(created_date__lt=now - timedelta(seconds=longest)).delete()
    return deleted
