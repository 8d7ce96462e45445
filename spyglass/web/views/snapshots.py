"""Snapshots in the web app: the sharing panel's form (create a link, or create and e-mail it), Sharing › Snapshots
(lists, expanded rows, updates, revocation) and the account group's saved events. All decisions — who may create,
see, change or revoke, the window, the limits — are spyglass.sharing.services'; this module parses forms."""

from django.shortcuts import render
from django.views.decorators.http import require_POST

from spyglass.lib.text import is_digits
from spyglass.sharing import links, services
from spyglass.sharing.emails import snapshot_date
from spyglass.sharing.errors import SharingError

from ..checkpoint import member_view, test_or_404
from ..sharing_panel import expiry_choices


def _int(raw, field: str) -> int:
    if raw is None or not is_digits(str(raw)) or len(str(raw)) > 12:
        raise SharingError("is missing or not a number", field)
    return int(raw)


def _addresses(raw: str) -> list[str]:
    return [a for a in raw.replace(",", " ").replace(";", " ").split() if a]


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
    e-mail the link and note to the recipients). Answers the panel's result part; 4xx with the form's message."""
    access = request.access
    test = test_or_404(access, test_id)
    post = request.POST
    action = post.get("action", "link")
    recipients = _addresses(post.get("recipients", "")) if action == "share" else []
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
            comments_signed_in_only=post.get("signed_in_only") == "on",
            origin="web",
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
    context = {
        "snapshot": snapshot,
        "link": links.view_url(snapshot.link_id),
        "sent_to": recipients,
        "snapshot_date": snapshot_date(snapshot),
    }
    return render(request, "web/results/_share_result.html", context, status=201)
