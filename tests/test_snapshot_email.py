"""Share e-mails and comment notifications go through the durable outbox to a real SMTP server on loopback."""

from datetime import timedelta

import pytest
from django.utils import timezone

from spyglass.mail import outbox
from spyglass.mail.models import OutboxMessage
from spyglass.monitoring.seed import seed
from spyglass.sharing import services
from spyglass.sharing.models import SnapshotRecipient
from tests.conftest import make_snapshot, make_test
from tests.smtp import SmtpServer, free_port

START = 1_795_000_000 // 3600 * 3600


@pytest.fixture
def test_with_data(cast):
    test = make_test(cast.owner, name="checkout <api>", interval=60)
    seed(test, agents=2, hours=2, random_seed=5, now=START + 7200)
    return test


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_share_emails_reach_each_recipient_with_link_note_test_and_window(cast, smtp, test_with_data):
    snapshot = make_snapshot(
        cast.owner,
        test_with_data,
        hours=1,
        anchor=START,
        display_name="Outage <b>Tuesday</b>",
        recipients=["noc@provider.test", "Ops@Example.test"],
        note="Loss from <script>alert(1)</script> Frankfurt",
    )
    assert smtp.messages == []  # nothing is sent on the request
    assert outbox.deliver_due() == {"sent": 2, "retried": 0, "failed": 0}
    assert sorted(to for to, _ in smtp.recorder.received) == [["noc@provider.test"], ["ops@example.test"]]
    message = smtp.messages[0]
    assert message.get_content_type() == "multipart/alternative"
    assert "Olive Owner shared a snapshot of checkout <api>" in message["Subject"]
    assert message["Reply-To"] == "owner@acme.test"
    text, html = parts(message)
    link = f"/s/{snapshot.link_id}/"
    for body in (text, html):
        assert link in body
    assert "Loss from <script>alert(1)</script> Frankfurt" in text
    assert "checkout <api>" in text and "Window: 2026-11-18 11:00:00 to 2026-11-18 12:00:00 UTC" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Outage &lt;b&gt;Tuesday&lt;/b&gt;" in html
    assert outbox.deliver_due()["sent"] == 0  # never twice
    assert set(SnapshotRecipient.objects.values_list("email", flat=True)) == {"noc@provider.test", "ops@example.test"}


def test_link_only_snapshots_send_nothing(cast, smtp, test_with_data):
    make_snapshot(cast.owner, test_with_data, hours=1, anchor=START)
    assert outbox.deliver_due()["sent"] == 0 and OutboxMessage.objects.count() == 0


def test_each_comment_emails_the_creator(cast, smtp, test_with_data):
    snapshot = make_snapshot(
        cast.owner, test_with_data, hours=1, anchor=START, display_name="Outage", comments_signed_in_only=False
    )
    services.post_comment(snapshot, body="Seeing it too <img src=x>", name="Pat from ISP", ip="192.0.2.7")
    outbox.deliver_due()
    [(to, message)] = smtp.recorder.received
    assert to == ["owner@acme.test"]
    assert message["Subject"] == 'New comment from a guest who calls themselves "Pat from ISP" on Outage'
    text, html = parts(message)
    assert "Seeing it too <img src=x>" in text
    assert "&lt;img src=x&gt;" in html and "<img" not in html
    assert snapshot.link_id in text


def test_a_server_that_refuses_for_a_while_gets_every_message_once(cast, smtp, test_with_data):
    smtp.recorder.refuse_next = 5
    recipients = [f"r{i}@example.test" for i in range(3)]
    make_snapshot(cast.owner, test_with_data, hours=1, anchor=START, recipients=recipients)
    now = timezone.now()
    rounds = 0
    while OutboxMessage.objects.exclude(status=OutboxMessage.SENT).exists():
        rounds += 1
        assert rounds < 20
        outbox.deliver_due(now=now)
        now += timedelta(hours=2)  # past any backoff
    assert smtp.recorder.refused == 5
    assert sorted(to[0] for to, _ in smtp.recorder.received) == recipients  # once each, none twice
    attempts = sorted(OutboxMessage.objects.values_list("attempts", flat=True))
    assert sum(attempts) == 5 + 3
    assert outbox.deliver_due(now=now + timedelta(days=1))["sent"] == 0


def test_a_server_that_is_down_loses_nothing(cast, settings, test_with_data):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    make_snapshot(cast.owner, test_with_data, hours=1, anchor=START, recipients=["a@example.test"])
    assert outbox.deliver_due()["retried"] == 1
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.PENDING and message.attempts == 1
    assert message.next_attempt_at > timezone.now() and "ConnectionRefused" in message.last_error
    assert outbox.deliver_due()["retried"] == 0  # not due yet: backoff
    server = SmtpServer()
    settings.EMAIL_PORT = server.port
    server.start()
    try:
        assert outbox.deliver_due(now=timezone.now() + timedelta(minutes=5))["sent"] == 1
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_backoff_grows_and_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert outbox.backoff(50).total_seconds() == 3600


def test_a_claimed_message_is_not_taken_by_a_second_worker_until_its_lease_runs_out(db):
    message = outbox.enqueue(["a@example.test"], "s", "t")
    now = timezone.now()
    assert outbox._claim(message.id, now) is not None
    assert outbox._claim(message.id, now) is None
    assert outbox._claim(message.id, now + outbox.LEASE + timedelta(seconds=1)) is not None


def test_without_an_smtp_server_messages_land_in_the_outbox_directory(cast, settings, tmp_path, test_with_data):
    from spyglass.lib.config import email_settings

    configured = email_settings(None, tmp_path)
    assert configured["EMAIL_FILE_PATH"] == str(tmp_path / "outbox")
    settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH = configured["EMAIL_BACKEND"], configured["EMAIL_FILE_PATH"]
    make_snapshot(cast.owner, test_with_data, hours=1, anchor=START, recipients=["a@example.test"])
    assert outbox.deliver_due()["sent"] == 1
    [written] = list((tmp_path / "outbox").iterdir())
    assert "a@example.test" in written.read_text()
