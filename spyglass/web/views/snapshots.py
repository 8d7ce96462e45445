"""Snapshots in the web app: the sharing panel's form (create a link, or create and e-mail it), Sharing › Snapshots
(lists, expanded rows, updates, revocation) and the account group's saved events. All decisions — who may create,
see, change or revoke, the window, the limits — are spyglass.sharing.services'; this module parses forms."""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from spyglass.lib.text import is_digits
from spyglass.lib.timefmt import format_v6_date
from spyglass.sharing import links, services
from spyglass.sharing.emails import snapshot_date
from spyglass.sharing.errors import SharingError
from spyglass.sharing.windows import WindowError, up_to_now, window_at

from ..checkpoint import member_view, snapshot_or_404, test_or_404
from ..sharing_panel import addresses, expiry_choices, new_idempotency_key


def _int(raw, field: str) -> int:
    if raw is None or not is_digits(str(raw)) or len(str(raw)) > 12:
        raise SharingError("is missing or not a number", field)
    return int(raw)


def _expiry(raw: str) -> int | None:
    if raw == "never":
        return None
    if raw not in {v for v, _ in expiry_choices()} and raw not in ("1", "7", "30"):
        raise SharingError("must be never, 1, 7 or 30 days", "expiry")
    return int(raw)


def _agents(request, test) -> list[int] | None:
    """None (every agent, also those added later to the window) when every agent of the test is ticked."""
    chosen = request.POST.getlist("agents")
    if not all(is_digits(a) and len(a) < 19 for a in chosen):
        raise SharingError("must be agent ids", "agents")
    chosen = sorted({int(a) for a in chosen})
    every = sorted(test.agents.values_list("id", flat=True))
    if not chosen and every:
        raise SharingError("tick at least one agent", "agents")
    return None if chosen == every else chosen


@member_view
@require_POST
def snapshot_create(request, test_id):
    """The panel's "Link to this snapshot" (action=link: create, send nothing) and "Share" (action=share: create and
    e-mail the link and note to the recipients). Answers the panel's result part; 4xx with the form's message. The
    panel's idempotency key makes a doubled or retried post answer the snapshot the first one made."""
    access = request.access
    test = test_or_404(access, test_id)
    post = request.POST
    action = post.get("action", "link")
    recipients = addresses(post.get("recipients", "")) if action == "share" else []
    values = {k: post.get(k, "") for k in ("display_name", "recipients", "note")}
    try:
        if action == "share" and not recipients:
            raise SharingError("add at least one e-mail address to share the link with", "recipients")
        snapshot = services.create_snapshot(
            access,
            test.id,
            display_name=post.get("display_name") or f"{test.name} snapshot",
            hours=_int(post.get("hours"), "hours"),
            anchor=_int(post.get("round_id"), "round"),
            position=post.get("position", "starting"),
            is_public=post.get("kind", "link") != "saved",
            agent_ids=_agents(request, test),
            expires_in_days=_expiry(post.get("expiry", "never")),
            recipients=recipients,
            note=post.get("note", ""),
            view=post.get("view", ""),
            comments_signed_in_only=post.get("guest_comments") != "on",
            show_note=post.get("show_note") == "on",
            anonymized=post.get("anonymize") == "on",
            origin="web",
            idempotency_key=post.get("idempotency_key", ""),
        )
    except SharingError as exc:
        context = {"error": exc.message, "field": exc.field, "values": values}
        # The panel (htmx) gets the message as a normal answer to show on the form: browsers log every 4xx as a
        # console error. Anything else gets the status that names the refusal.
        status = 200 if request.htmx else exc.status
        response = render(request, "web/results/_share_result.html", context, status=status)
        if exc.status == 429:
            response["Retry-After"] = str(exc.retry_after)
        return response
    replayed = getattr(snapshot, "replayed", False)
    sent_to = sorted(snapshot.recipients.values_list("email", flat=True)) if replayed else recipients
    return _result(request, snapshot, sent_to=sent_to, replayed=replayed, status=200 if replayed else 201)


def _window_label(snapshot) -> str:
    return f"{format_v6_date(snapshot.start_round)[:16]} – {format_v6_date(snapshot.end_round)[:16]} UTC"


def _result(request, snapshot, status=200, **extra):
    context = {
        "snapshot": snapshot,
        "link": links.view_url(snapshot.link_id),
        "snapshot_date": snapshot_date(snapshot),
        "window_label": _window_label(snapshot),
        "email_action": reverse("web:snapshot-email", args=[snapshot.link_id]),
        "revoke_action": reverse("web:snapshot-revoke", args=[snapshot.link_id]),
        "new_key": new_idempotency_key(),
        **extra,
    }
    return render(request, "web/results/_share_result.html", context, status=status)


@member_view
@require_GET
def snapshot_window(request, test_id):
    """The panel's window preview: what the snapshot would store for this round, length and position — with the
    same rule as creating it (windows.window_at, then up_to_now), so a window reaching past now says it is clipped
    and where it ends."""
    test = test_or_404(request.access, test_id)
    get = request.GET
    try:
        hours, anchor = _int(get.get("hours"), "hours"), _int(get.get("round_id"), "round")
        asked = window_at(anchor, hours, get.get("position", "starting"), test.interval)
        window = up_to_now(asked, timezone.now().timestamp(), test.interval)
    except (SharingError, WindowError) as exc:
        if isinstance(exc, SharingError):
            message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        else:
            message = str(exc)
        return render(request, "web/results/_share_window.html", {"error": message})
    context = {
        "start": format_v6_date(window.start_round)[:16].replace("T", " "),
        "end": format_v6_date(window.end_round)[:16].replace("T", " "),
        "clipped": window.end_round != asked.end_round,
        "asked_end": format_v6_date(asked.end_round)[:16].replace("T", " "),
    }
    return render(request, "web/results/_share_window.html", context)


@member_view
@require_POST
def snapshot_email(request, link_id):
    """The panel's "E-mail it": the snapshot just made, e-mailed to more addresses — the same link, no new snapshot."""
    access = request.access
    snapshot = snapshot_or_404(access, link_id)
    try:
        sent = services.email_snapshot(access, snapshot, addresses(request.POST.get("email_to", "")))
    except SharingError as exc:
        context = {"error": exc.message, "field": exc.field}
        return render(request, "web/results/_share_emailed.html", context, status=200 if request.htmx else exc.status)
    return render(request, "web/results/_share_emailed.html", {"sent_to": sent})
