"""Streams: where an account group's test rounds are pushed as OpenTelemetry metrics (docs/streams.md), and per
stream and test the last round delivered."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from spyglass.accounts.models import AccountGroup
from spyglass.monitoring.models import Test


class Stream(models.Model):
    PENDING, FAILING, CONNECTED = "pending", "failing", "connected"
    STATUSES = [(s, s) for s in (PENDING, FAILING, CONNECTED)]
    HTTP, GRPC = "http", "grpc"
    ENDPOINT_TYPES = [(HTTP, HTTP), (GRPC, GRPC)]
    DATA_MODELS = [("v1", "v1"), ("v2", "v2")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account_group = models.ForeignKey(AccountGroup, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=20, default="opentelemetry")
    signal = models.CharField(max_length=10, default="metric")
    endpoint_type = models.CharField(max_length=4, choices=ENDPOINT_TYPES)
    url = models.CharField(max_length=2000)
    data_model_version = models.CharField(max_length=2, choices=DATA_MODELS, default="v2")
    # The header names and values as a JSON object, encrypted (streams.secrets); shown masked.
    custom_headers = models.TextField(blank=True, default="")
    # [{"id": "123" | None, "domain": "cea"}]: an item without an id matches every test of the account group.
    test_match = models.JSONField(default=list, blank=True)
    test_types = models.JSONField(default=list, blank=True)  # filters.testTypes.values; empty = every type
    enabled = models.BooleanField(default=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_date = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_date = models.DateTimeField(default=timezone.now)

    # Delivery state (streams.push).
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    last_success = models.DateTimeField(null=True, blank=True)
    last_failure = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")  # status and a short reason, never a body
    failing_since = models.DateTimeField(null=True, blank=True)  # the first failure since the last success
    failures = models.PositiveIntegerField(default=0)  # in a row
    warned_date = models.DateTimeField(null=True, blank=True)  # the creator was told it is failing
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A claim is a lease: a worker that dies mid-export leaves the stream to the next one once it has run out.
    claim_token = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["enabled", "next_attempt_at"])]


class StreamCursor(models.Model):
    """The last round of one test this stream delivered: everything up to it was accepted by the receiver. Rows
    written later for rounds up to `late_round` (an agent back from an outage, a row written again) are found by their
    `recorded_at`, after `late_checked_at`, and sent too (streams.push)."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="cursors")
    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="+")
    last_round = models.BigIntegerField(default=0)
    late_round = models.BigIntegerField(default=0)
    late_checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stream", "test"], name="uniq_stream_cursor")]
