"""Purging results older than SPYGLASS_RETENTION_DAYS, set-based, keeping every window a snapshot pins."""

import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from .models import DnsResult, ExportChunk, HttpResult, NetResult, PathRound, ResultHour, RetentionPin
from .results import HOUR

# Export chunks are a cache of rows already exported: one not rebuilt for this long is dropped, so the copy of the
# results they hold does not grow with every hour ever exported.
CHUNK_DAYS = 7


def purge_old_results(now: float | None = None, days: int | None = None) -> int:
    """Delete results older than the retention period, except pinned windows. Returns the number deleted."""
    cutoff = int(now if now is not None else time.time()) - (days or settings.RETENTION_DAYS) * 86400
    total = 0
    # Path traces go as the other results do; a path (Path) stays while its test does: one row per distinct path.
    for model in (NetResult, HttpResult, DnsResult, PathRound):
        pinned = RetentionPin.objects.filter(
            test_id=OuterRef("test_id"), start_round__lte=OuterRef("round_id"), end_round__gte=OuterRef("round_id")
        )
        with transaction.atomic():
            deleted, _ = model.objects.filter(round_id__lt=cutoff).exclude(Exists(pinned)).delete()
            if deleted:
                # What was purged must not live on in an export chunk: its hours count as written.
                ResultHour.objects.filter(hour__lt=cutoff).update(version=F("version") + 1)
        total += deleted
    ExportChunk.objects.filter(hour__lt=cutoff - cutoff % HOUR).delete()
    ExportChunk.objects.filter(built_at__lt=timezone.now() - timedelta(days=CHUNK_DAYS)).delete()
    return total
