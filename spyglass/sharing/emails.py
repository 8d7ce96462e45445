"""The e-mails of snapshots, rendered now and queued in the outbox (sent by the worker, retried until accepted)."""

from django.template.loader import render_to_string

from spyglass.lib.timefmt import format_v6_date
from spyglass.mail.outbox import enqueue

from .links import view_url


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def _context(snapshot) -> dict:
    """What the e-mails say of a test snapshot or (no `test`) a dashboard snapshot: the same messages for both."""
    creator = snapshot.created_by
    people = {
        "snapshot": snapshot,
        "creator": creator.name if creator else "A spyglass user",
        "creator_email": creator.email if creator else "",
    }
    if not hasattr(snapshot, "test"):  # a dashboard snapshot: no one window, its widgets' are on the page
        name = snapshot.dashboard.name if snapshot.dashboard else snapshot.display_name
        frozen = f"{format_v6_date(snapshot.frozen_at)[:16]} UTC"
        return people | {
            "kind": "dashboard",
            "test_name": name,
            "link": view_url(snapshot.link_id, dashboard=True),
            "window_start": "",
            "window_end": "",
            "snapshot_date": frozen,
        }
    return people | {
        "kind": "test",
        "test_name": snapshot.test.name,
        "link": view_url(snapshot.link_id),
        "window_start": format_v6_date(snapshot.start_round),
        "window_end": format_v6_date(snapshot.end_round),
        "snapshot_date": snapshot_date(snapshot),
    }


def snapshot_date(snapshot) -> str:
    """The documents' Snapshot Date: the window's position and the selected round, in words, e.g. 'ending at
    2026-11-22 13:36 UTC' (a bare '13:36 -' read like a cut string)."""
    return f"{snapshot.get_position_display()} {format_v6_date(snapshot.round_id)[:16]} UTC"


def queue_share(snapshot, addresses: list[str]) -> None:
    context = _context(snapshot)
    subject = _one_line(f"{context['creator']} shared a snapshot of {context['test_name']}: {snapshot.display_name}")
    reply_to = [context["creator_email"]] if context["creator_email"] else None
    for address in addresses:  # one message each: recipients do not see one another
        enqueue(
            [address],
            subject,
            render_to_string("sharing/email/share.txt", context),
            render_to_string("sharing/email/share.html", context),
            kind="snapshot-share",
            reply_to=reply_to,
        )


def queue_comment(snapshot, comment) -> None:
    creator = snapshot.created_by
    if creator is None or not creator.email:
        return
    context = {**_context(snapshot), "comment": comment}
    author = f'a guest who calls themselves "{comment.author_name}"' if comment.by_guest else comment.author_name
    enqueue(
        [creator.email],
        _one_line(f"New comment from {author} on {snapshot.display_name}"),
        render_to_string("sharing/email/comment.txt", context),
        render_to_string("sharing/email/comment.html", context),
        kind="snapshot-comment",
    )
