"""Purging results older than SPYGLASS_RETENTION_DAYS, set-based, keeping every window a snapshot pins."""

import time

from django.conf import settings
from django.db.models import Exists, OuterRef

from .models import DnsResult, HttpResult, NetResult, RetentionPin


def purge_old_results(now: float | None = None, days: int | None = None) -> int:
    """Delete results older than the retention period, except pinned windows. Returns the number deleted."""
    cutoff = int(now if now is not None else time.time()) - (days or settings.RETENTION_DAYS) * 86400
    total = 0
    for model in (NetResult, HttpResult, DnsResult):
        pinned = RetentionPin.objects.filter(
            test_id=OuterRef("test_id"), start_round__lte=OuterRef("round_id"), end_round__gte=OuterRef("round_id")
        )
        deleted, _ = model.objects.filter(round_id__lt=cutoff).exclude(Exists(pinned)).delete()
        total += deleted
    return total
