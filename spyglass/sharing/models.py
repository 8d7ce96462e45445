"""Snapshots (share links and saved events), their visits, comments and e-mail recipients, and the creation log
that the per-organization creation limit counts."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from spyglass.accounts.models import AccountGroup, Organization
from spyglass.monitoring.models import Test


class Expiring:
    """The one expiry rule of share links, test and dashboard snapshots alike: expired at `expires_date`, never
    when it is empty."""

    expires_date: "datetime.datetime | None"

    def is_expired(self, now=None) -> bool:
        return self.expires_date is not None and self.expires_date <= (now or timezone.now())


class SharedWindow(Expiring, models.Model):
    """What a test snapshot and a dashboard snapshot share in the database: Sharing › Snapshots lists each kind by
    account group, newest first (the index), and a creator's Idempotency-Key makes at most one of each
    (`one_per_idempotency_key`, named per model)."""

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["account_group", "created_date"])]  # named per model, as before


def one_per_idempotency_key(name: str) -> models.UniqueConstraint:
    """The same non-empty key from the same creator makes one row (the second request gets the first's)."""
    return models.UniqueConstraint(
        fields=["created_by", "idempotency_key"], condition=~models.Q(idempotency_key=""), name=name
    )


class Snapshot(SharedWindow):
    """A frozen window of one test. Its own Test row (`test`, saved_event=True) holds the frozen configuration and
    is what /v6/tests lists and the data endpoints read; the rows themselves stay in the source test, pinned."""

    STARTING, AROUND, ENDING = "starting", "around", "ending"
    POSITIONS = [(STARTING, "starting at"), (AROUND, "around"), (ENDING, "ending at")]

    test = models.OneToOneField(Test, on_delete=models.CASCADE, related_name="snapshot")
    source_test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="snapshots")
    # Set when the creator reads the source test through a live share: the snapshot ends with that share
    # (liveshares.services.end deletes it, its test row and pins, in the same transaction; CASCADE is a backstop).
    live_share = models.ForeignKey(
        "liveshares.LiveShare", null=True, blank=True, on_delete=models.CASCADE, related_name="snapshots"
    )
    account_group = models.ForeignKey(AccountGroup, on_delete=models.CASCADE, related_name="snapshots")
    link_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=255)
    is_public = models.BooleanField(default=True)  # share link; False = saved event (members only)
    start_round = models.BigIntegerField()
    end_round = models.BigIntegerField()
    round_id = models.BigIntegerField()  # the round the creator had selected: the page opens there
    position = models.CharField(max_length=10, choices=POSITIONS, default=STARTING)
    view = models.CharField(max_length=40, blank=True, default="")
    agent_ids = models.JSONField(null=True, blank=True)  # None = every agent of the window
    frozen_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_date = models.DateTimeField(default=timezone.now)
    expires_date = models.DateTimeField(null=True, blank=True)
    # New snapshots take comments from signed-in platform users only; the creator may open them to anyone (guests'
    # comments are then marked "guest, not verified"). Rows made before this default keep what they had.
    comments_signed_in_only = models.BooleanField(default=True)
    note = models.TextField(blank=True, default="")  # sent with the share e-mail
    show_note = models.BooleanField(default=False)  # the creator ticked "show this note on the page"
    # Agents, their addresses and the owner's internal hops are shown by pseudonyms wherever the window is read
    # (scope_provider.scope_of gives the read scope its agent order; lib/anonymize.py decides what is internal).
    anonymized = models.BooleanField(default=False)
    # A random key of the share panel's render (or the API's Idempotency-Key header): the same key from the same
    # creator returns the snapshot already made instead of a second one (services.create_snapshot).
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    origin = models.CharField(max_length=10, default="api")  # api | web
    # The one-line summary of the frozen window, written by the first page view (summary.summary_of): the window
    # is frozen, so it never changes, and every later view skips an aggregate over all of the window's rows.
    summary = models.TextField(blank=True, default="")
    summary_stamp = models.CharField(max_length=40, blank=True, default="")  # stored.stamp it was computed under
    # Bumped in SQL by database triggers (migration 0006) whenever a write changes what the share page shows — this
    # row (but for the stored.py bookkeeping columns), its test row, its creator's name or e-mail, an agent of its
    # organization renamed, moved or deleted — whatever path writes it (ORM save, QuerySet.update, raw SQL). What
    # stored.py keeps is read only under the version it was computed at.
    content_version = models.BigIntegerField(default=1)

    class Meta(SharedWindow.Meta):
        constraints = [one_per_idempotency_key("uniq_snapshot_idempotency_key")]


class SnapshotVisit(models.Model):
    """One row per view of the share page: counting is COUNT(*), so concurrent views never overwrite each other."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="visits")
    date = models.DateTimeField(default=timezone.now)
    ip = models.CharField(max_length=64, blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [models.Index(fields=["snapshot", "date"])]


class Comment(models.Model):
    """A comment on a share link, test or dashboard snapshot alike (services.post_comment posts both)."""

    date = models.DateTimeField(default=timezone.now)
    author_name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField()
    ip = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        abstract = True

    @property
    def by_guest(self) -> bool:
        """Posted signed out: the name is whatever they typed, so page, API and e-mail mark it as a guest's. (A
        comment whose user was since deleted reads as a guest's too: never shown as someone it cannot vouch for.)"""
        return self.user_id is None


class SnapshotComment(Comment):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="comments")

    class Meta:
        indexes = [models.Index(fields=["snapshot", "date"])]


class SnapshotRecipient(models.Model):
    """An address the share e-mail went to; "Shared with me" lists snapshots whose recipients include my login."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="recipients")
    email = models.EmailField(db_index=True)


class SnapshotCreation(models.Model):
    """One row per successful creation, kept even when the snapshot is revoked: the creation limit counts these."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_date = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organization", "created_date"])]


class SnapshotRollup(models.Model):
    """The per-round aggregates of a snapshot's frozen window for every View of its test (one compact document:
    rounds, agents reporting, errors and each series), computed by the first view that needs them (stored.py).
    Later renders read these instead of aggregating every result row of the window again."""

    snapshot = models.OneToOneField(Snapshot, on_delete=models.CASCADE, primary_key=True, related_name="+")
    data = models.TextField()  # JSON (orjson); see stored.rollups
    stamp = models.CharField(max_length=40, default="")  # stored.stamp: read only while release and version match
    created_date = models.DateTimeField(default=timezone.now)


class SnapshotRender(models.Model):
    """A rendered results component of a share page, by round and View (`key`, stored.request_key). Kept in the
    database so that every app process serves it; at most stored.RENDERS_KEPT per snapshot."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=80)  # stored.request_key: the release, and what the URL asks for
    version = models.BigIntegerField(default=0)  # the snapshot's content_version it was rendered at
    html = models.TextField()
    created_date = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "key"], name="uniq_snapshot_render")]


class SnapshotVisitTally(models.Model):
    """How many visits a snapshot has, in 16 shards (visit id modulo 16, so concurrent visits rarely wait on one
    row). Kept by database triggers on SnapshotVisit (migration 0004), inside each visit's own INSERT: exact, and
    the share page sums at most 16 rows instead of counting every visit, which grew with the visits."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    shard = models.PositiveSmallIntegerField()
    visits = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "shard"], name="uniq_snapshot_visit_tally")]


class DashboardSnapshot(SharedWindow):
    """A dashboard frozen at `frozen_at`: its widgets' definitions as of then (DashboardSnapshotWidget) and each
    widget's window. Nothing is copied: each widget reads its source test's rows of its window written before
    `frozen_at`, kept through retention by a RetentionPin (so 1 h and 7 days cost the same to make)."""

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    account_group = models.ForeignKey(AccountGroup, on_delete=models.CASCADE, related_name="dashboard_snapshots")
    link_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=255)
    window = models.PositiveIntegerField(default=0)  # seconds for every widget; 0 = each widget's own period
    frozen_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_date = models.DateTimeField(default=timezone.now)
    expires_date = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    visits = models.BigIntegerField(default=0)  # bumped in SQL (F() + 1) by every view of the page
    # As test snapshots': comments from signed-in users only unless the creator opens them; the note goes with the
    # share e-mail.
    comments_signed_in_only = models.BooleanField(default=True)
    note = models.TextField(blank=True, default="")
    # Agents shown by pseudonyms in every widget, download and API body: "Agent N" numbers the agents of all widgets'
    # frozen windows together by id (`agent_order`, written by the first read; lib/anonymize.py as for test
    # snapshots), so a number means the same agent everywhere and on every later read.
    anonymized = models.BooleanField(default=False)
    agent_order = models.JSONField(null=True, blank=True)

    class Meta(SharedWindow.Meta):
        constraints = [one_per_idempotency_key("uniq_dashboard_snapshot_idempotency_key")]


class DashboardSnapshotWidget(models.Model):
    """One widget of a dashboard snapshot: what it showed (test, metric) and the frozen window of rounds it shows,
    within what the creator's account group could read (`agent_ids`, and a live share's start)."""

    snapshot = models.ForeignKey(DashboardSnapshot, on_delete=models.CASCADE, related_name="widgets")
    position = models.PositiveIntegerField()
    # Null when the test was already gone when frozen, or deleted since: the widget then says so.
    source_test = models.ForeignKey(Test, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    test_name = models.CharField(max_length=255)
    metric = models.CharField(max_length=30)
    period = models.PositiveIntegerField()  # seconds shown: the widget's period or the snapshot's window
    start_round = models.BigIntegerField()
    end_round = models.BigIntegerField()
    agent_ids = models.JSONField(null=True, blank=True)  # None = every agent
    # Read through a live share: when that share ends, the widget's data goes with it (live_share set to null,
    # its pin deleted, `state` "no longer shared"); see services._end_dashboard_widgets.
    live_share = models.ForeignKey(
        "liveshares.LiveShare", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=20, default="ok")  # dashboards.services OK / NO_LONGER_SHARED / TEST_DELETED
    pin = models.ForeignKey(
        "monitoring.RetentionPin", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["snapshot", "position"])]


class DashboardSnapshotComment(Comment):
    snapshot = models.ForeignKey(DashboardSnapshot, on_delete=models.CASCADE, related_name="comments")

    class Meta:
        indexes = [models.Index(fields=["snapshot", "date"])]


class DashboardSnapshotRecipient(models.Model):
    """An address a dashboard snapshot's share e-mail went to."""

    snapshot = models.ForeignKey(DashboardSnapshot, on_delete=models.CASCADE, related_name="recipients")
    email = models.EmailField(db_index=True)
