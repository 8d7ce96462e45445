"""Queueing e-mail on a request and delivering it from the worker.

enqueue() writes a row in the caller's transaction (so a rolled-back snapshot sends nothing). deliver_due() claims
due rows one at a time with a conditional UPDATE (several workers may run), sends through Django's e-mail backend
(SMTP from SPYGLASS_EMAIL_URL, else files in SPYGLASS_DATA_DIR/outbox/), and marks the row sent under its claim.
A temporary failure is retried with exponential backoff, forever, capped at an hour; a permanent refusal (5xx for
every recipient) is kept as `failed` with the server's answer. Nothing is ever deleted unsent."""

import logging
import secrets
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q
from django.utils import timezone

from .models import OutboxMessage

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


def enqueue(to: list[str], subject: str, body_text: str, body_html: str = "", kind: str = "", reply_to=None):
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "spyglass.local"
    return OutboxMessage.objects.create(
        message_id=f"<{secrets.token_hex(16)}@{domain}>",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to or []),
        subject=subject[:300],
        body_text=body_text,
        body_html=body_html,
        kind=kind,
    )


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def _due(now):
    return OutboxMessage.objects.filter(
        Q(status=OutboxMessage.PENDING, next_attempt_at__lte=now) | Q(status=OutboxMessage.SENDING, lease_until__lt=now)
    )


def _claim(message_id: int, now) -> str | None:
    """Take one row for this worker; None when another worker got it first."""
    token = secrets.token_hex(16)
    claimed = (
        _due(now).filter(id=message_id).update(status=OutboxMessage.SENDING, claim_token=token, lease_until=now + LEASE)
    )
    return token if claimed else None


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600 and exc.smtp_code != 554


def _send(message: OutboxMessage, connection) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_email,
        to=message.to,
        reply_to=message.reply_to or None,
        headers={"Message-ID": message.message_id},
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    email.send(fail_silently=False)


def deliver_due(now=None, limit: int = 100) -> dict:
    """Send what is due; returns counts of sent, retried and failed messages."""
    counts = {"sent": 0, "retried": 0, "failed": 0}
    now = now or timezone.now()
    ids = list(_due(now).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    if not ids:
        return counts
    connection = get_connection(fail_silently=False)
    try:
        for message_id in ids:
            token = _claim(message_id, now)
            if token is None:
                continue
            message = OutboxMessage.objects.get(id=message_id)
            try:
                _send(message, connection)
            except Exception as exc:  # every failure is recorded on the row; none may stop the other messages
                attempts = message.attempts + 1
                permanent = _is_permanent(exc)
                OutboxMessage.objects.filter(id=message_id, claim_token=token).update(
                    status=OutboxMessage.FAILED if permanent else OutboxMessage.PENDING,
                    attempts=attempts,
                    next_attempt_at=now + backoff(attempts),
                    lease_until=None,
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                )
                counts["failed" if permanent else "retried"] += 1
                log.warning("e-mail %s not sent (attempt %s): %s", message_id, attempts, type(exc).__name__)
                connection.close()  # a broken SMTP session must not poison the next message
                continue
            OutboxMessage.objects.filter(id=message_id, claim_token=token).update(
                status=OutboxMessage.SENT, sent_date=timezone.now(), attempts=message.attempts + 1, lease_until=None
            )
            counts["sent"] += 1
    finally:
        try:
            connection.close()
        except Exception:  # closing a dead SMTP connection may raise; the messages are already accounted for
            pass
    return counts
