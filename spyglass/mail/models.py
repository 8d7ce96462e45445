"""The durable e-mail outbox: a message is a row until an SMTP server (or the outbox directory) has accepted it."""

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
    STATES = [(s, s) for s in (PENDING, SENDING, SENT, FAILED)]

    created_date = models.DateTimeField(default=timezone.now)
    # Stable across retries, so a receiving server can drop a duplicate after a crash between "accepted" and "marked".
    message_id = models.CharField(max_length=200, unique=True)
    from_email = models.CharField(max_length=254)
    to = models.JSONField(default=list)
    reply_to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    kind = models.CharField(max_length=40, blank=True, default="")  # e.g. snapshot-share, snapshot-comment

    status = models.CharField(max_length=10, choices=STATES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A claim is a lease: a worker that dies mid-send leaves the row to be retried once the lease has run out.
    claim_token = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_date = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
