"""Purging results older than SPYGLASS_RETENTION_DAYS, set-based, keeping every window a snapshot pins."""

import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from . import path_store
from .models import DnsResult, ExportChunk, HttpResult, NetResult, Path, PathRound, ResultHour, RetentionPin
from .results import HOUR

# Export chunks are a cache of rows already exported: one not rebuilt for this long is dropped, so the copy of the
# results they hold does not grow with every hour ever exported.
CHUNK_DAYS = 7


def purge_old_results(now: float | None = None, days: int | None = None) -> int:
    """Delete results older than the retention period, except pinned windows. Returns the number deleted."""
    cutoff = int(now if now is not None else time.time()) - (days or settings.RETENTION_DAYS) * 86400
    total = 0
    # Path traces go as the other results do.
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
    _purge_paths(cutoff)
    ExportChunk.objects.filter(hour__lt=cutoff - cutoff % HOUR).delete()
    ExportChunk.objects.filter(built_at__lt=timezone.now() - timedelta(days=CHUNK_DAYS)).delete()
    return total


def _purge_paths(cutoff: int) -> None:
    """Drop the paths no stored round can name: last taken before the cutoff, less the time by which a path's last
    round may lag (path_store.TOUCH_SECONDS) and an hour's margin, outside every window a snapshot pins."""
    lag = path_store.TOUCH_SECONDS + HOUR
    pinned = RetentionPin.objects.filter(
        test_id=OuterRef("test_id"),
        start_round__lte=OuterRef("last_round") + lag,
        end_round__gte=OuterRef("first_round"),
    )
    Path.objects.filter(last_round__lt=cutoff - lag).exclude(Exists(pinned)).delete()
