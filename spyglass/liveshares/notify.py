"""The e-mail a recipient gets for an outside live share. Sent after the share is committed; a failure is logged and
leaves the share in place (a durable outbox will retry it — see the report of issue 6)."""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail

log = logging.getLogger(__name__)

# Where the recipient accepts: Pending Shares on the Test Settings page of the web app.
PENDING_SHARES_PATH = "/settings/tests/#pending-shares"


def invitation_text(share) -> tuple[str, str]:
    """Subject and body. Plain text: the test name and the sharer's names are user-written and stay as written."""
    test_name = " ".join(share.test.name.split())[:120]
    organization = share.sharer.organization.name
    sender = share.created_by.display if share.created_by else organization
    subject = f'{organization} shared the test "{test_name}" with you'
    body = (
        f'{sender} of {organization} shared the test "{test_name}" with you on spyglass as a live share:\n'
        "a read-only view of its results from now on.\n\n"
        f"To accept or decline it, sign in with this address ({share.recipient_email}) and open\n"
        f"Test Settings > Pending Shares:\n\n  {settings.BASE_URL}{PENDING_SHARES_PATH}\n\n"
        "If you have no account yet, the invitation waits for you: ask your administrator for an account with\n"
        "this e-mail address.\n"
    )
    return subject, body


def invitation(share) -> bool:
    """Send the invitation for an outside share; True when the mail server accepted it."""
    subject, body = invitation_text(share)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [share.recipient_email])
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("live share %s: the invitation e-mail could not be sent: %s", share.id, exc)
        return False
    return True
