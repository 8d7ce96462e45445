"""Live sharing in the web app: the sharing panels of a test's settings (account groups of the organization, other
customers), Pending Shares on the tests list and Sharing › Live Shares (every share sent and received). Every decision is spyglass.liveshares.services', as in the API; this
module only turns its answers into pages, form errors, 403 and 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework import exceptions as drf

from spyglass.accounts.roles import ACCEPT_LIVE_SHARES, LIVE_SHARE_INSIDE, LIVE_SHARE_OUTSIDE
from spyglass.lib.error_messages import message_of
from spyglass.lib.text import is_digits
from spyglass.lib.timefmt import format_v6_date
from spyglass.liveshares import services
from spyglass.liveshares.models import LiveShare
from spyglass.results_ui.component import TYPE_LABELS
from spyglass.sharing import services as sharing
from spyglass.sharing.errors import SharingError

from ..checkpoint import (
    customer_share_or_404,
    derived_snapshot_or_404,
    incoming_share_or_404,
    member_view,
    own_test_or_404,
    sent_share_or_404,
)

MAX_ID_DIGITS = 18


def _sentence(detail) -> str:
    """A service's validation message as a sentence for a form: without the API's field name."""
    parts = detail.values() if isinstance(detail, dict) else [detail]
    text = "; ".join(message_of(p) for p in parts)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _need(access, permission: str) -> None:
    if not access.can(permission) or access.read_only:
        raise PermissionDenied(f"This needs the permission “{permission}”.")


def panel_context(access, test) -> dict | None:
    """The live sharing section of the test settings page, each panel only for those allowed to use it; None when
    the user may use neither."""
    inside, outside = access.can(LIVE_SHARE_INSIDE), access.can(LIVE_SHARE_OUTSIDE)
    if access.read_only or test.live_share or test.saved_event or not (inside or outside):
        return None
    panel = services.settings_panel(access, test)
    if not outside and not panel["show_groups"]:
        return None  # only inside sharing allowed, and the organization has no other account group
    return {
        "panel": panel,
        "show_groups": inside and panel["show_groups"],
        "show_customers": outside,
        # Why "other customers" is missing (an Account Admin's role lacks it): the permission and the role, named.
        "missing_outside": None if outside else {"permission": LIVE_SHARE_OUTSIDE, "role": access.role.name},
        "derived": derived_snapshots(access, test),
    }


def derived_snapshots(access, test) -> list[dict]:
    """The snapshots recipients made of this test, newest first, each with its recipient and whether the user may
    revoke it (the permission of its share's kind)."""
    shares = {s.id: s for s in test.live_shares.select_related("recipient_group", "recipient_organization")}
    rows = []
    for share_id, snapshots in sharing.derived_from(list(shares)).items():
        share = shares[share_id]
        if share.inside:
            recipient, may = share.recipient_group.name, access.can(LIVE_SHARE_INSIDE)
        else:
            organization = share.recipient_organization
            recipient = organization.name if organization else share.recipient_email
            may = access.can(LIVE_SHARE_OUTSIDE)
        for snapshot in snapshots:
            created = format_v6_date(snapshot.created_date)[:16]
            rows.append({"snapshot": snapshot, "recipient": recipient, "created": created, "may_revoke": may})
    return sorted(rows, key=lambda row: (row["snapshot"].created_date, row["snapshot"].id), reverse=True)


def _panel(request, test, template: str, *, notice="", error="", status=200, **extra):
    """One panel re-rendered for htmx, opened, with a notice or an error (a 400 with the error, so nothing is
    mistaken for success)."""
    context = {"test": test, "sharing": panel_context(request.access, test), "open": True, "notice": notice}
    context.update(error=error, **extra)
    return render(request, template, context, status=400 if error else status)


def _back_to_settings(request, test, notice="", error=""):
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(reverse("web:test-edit", args=[test.id]) + "#live-sharing")


@require_POST
@member_view
def share_groups(request, test_id):
    """Save the checkbox list: checked groups get a pending share, unchecked ones lose theirs at once."""
    access = request.access
    test = own_test_or_404(access, test_id)
    _need(access, LIVE_SHARE_INSIDE)
    raw = request.POST.getlist("aid")
    error = notice = ""
    if any(not is_digits(v) or len(v) > MAX_ID_DIGITS for v in raw):
        error = "Choose account groups from the list."
    else:
        try:
            services.set_shared_with(access, test, [int(v) for v in raw])
        except drf.ValidationError as exc:
            error = _sentence(exc.detail)
        else:
            notice = "Saved. Newly checked account groups see the test once someone there accepts the share."
    if request.htmx:
        return _panel(request, test, "web/sharing/_groups.html", notice=notice, error=error)
    return _back_to_settings(request, test, notice, error)


@require_POST
@member_view
def share_customers(request, test_id):
    """Invite another organization through one of its users' login e-mail. The answer is the same whether or not
    the address has an account: the invitation waits for that user."""
    access = request.access
    test = own_test_or_404(access, test_id)
    _need(access, LIVE_SHARE_OUTSIDE)
    email = request.POST.get("email", "")
    error = notice = ""
    try:
        share = services.create(access, test.id, email=email)
    except drf.ValidationError as exc:
        error = _sentence(exc.detail)
    else:
        notice = (
            f"Invitation sent to {share.recipient_email}. The share waits under their Pending Shares until "
            "someone of their organization accepts it."
        )
    if request.htmx:
        return _panel(request, test, "web/sharing/_customers.html", notice=notice, error=error, email=email)
    return _back_to_settings(request, test, notice, error)


@member_view
def revoke_customer(request, test_id, share_id):
    """GET: the confirmation page (without JavaScript); POST: delete the recipient, ending its access at once."""
    access = request.access
    test = own_test_or_404(access, test_id)
    share = customer_share_or_404(access, test, share_id)
    _need(access, LIVE_SHARE_OUTSIDE)
    if request.method != "POST":
        return render(request, "web/sharing/revoke_confirm.html", {"test": test, "share": share})
    services.revoke(access, share.id)
    notice = f"Stopped sharing with {share.recipient_email}."
    if request.htmx:
        return _panel(request, test, "web/sharing/_customers.html", notice=notice)
    return _back_to_settings(request, test, notice)


@member_view
def revoke_derived(request, test_id, snapshot_id):
    """GET: the confirmation page (without JavaScript); POST: revoke one snapshot a recipient made of the test, its
    link answering 404 at once; the share itself stays."""
    access = request.access
    test = own_test_or_404(access, test_id)
    snapshot = derived_snapshot_or_404(access, test, snapshot_id)
    _need(access, LIVE_SHARE_INSIDE if snapshot.live_share.inside else LIVE_SHARE_OUTSIDE)
    if request.method != "POST":
        return render(request, "web/sharing/derived_revoke_confirm.html", {"test": test, "snapshot": snapshot})
    try:
        sharing.revoke_derived(access, snapshot.live_share_id, snapshot.id)
    except SharingError as exc:
        if exc.status == 404:
            raise Http404 from None
        raise PermissionDenied(exc.message) from None
    notice = f"Revoked “{snapshot.display_name}”: its link no longer opens."
    if request.htmx:
        return _panel(request, test, "web/sharing/_derived.html", notice=notice)
    return _back_to_settings(request, test, notice)


# --- Pending Shares, on the tests list ----------------------------------------------------------------------------


def pending_shares(access) -> list[LiveShare] | None:
    """The shares waiting for this account group's decision, oldest first; None when the user may not decide."""
    if not access.can(ACCEPT_LIVE_SHARES) or access.read_only:
        return None
    shares = list(
        services.incoming(access)
        .filter(status=LiveShare.PENDING)
        .select_related("test", "sharer__organization", "created_by")
        .order_by("created_date", "id")
    )
    for share in shares:
        share.type_label = TYPE_LABELS[share.test.type]
        # Inside the organization the sender is one of its account groups; outside, another organization.
        share.sender = share.sharer.name if share.inside else share.sharer.organization.name
    return shares


def _back(request, default: str):
    """Where a decision returns: Sharing › Live Shares when it was taken there, else the tests list."""
    return redirect("web:live-shares") if request.POST.get("next") == "live-shares" else redirect(default)


def _decide(request, share_id, decision):
    access = request.access
    share = incoming_share_or_404(access, share_id)
    try:
        share = decision(access, share.id)
    except drf.PermissionDenied as exc:
        raise PermissionDenied(str(exc.detail)) from exc
    except drf.ValidationError as exc:
        messages.error(request, _sentence(exc.detail))
        return None
    return share


@require_POST
@member_view
def accept_share(request, share_id):
    share = _decide(request, share_id, services.accept)
    if share is not None:
        messages.success(
            request, f"Accepted “{share.test.name}”: it is listed among your tests with a Live share badge."
        )
    return _back(request, "web:tests")


@require_POST
@member_view
def decline_share(request, share_id):
    share = _decide(request, share_id, services.decline)
    if share is not None:
        messages.success(request, f"Declined “{share.test.name}”.")
    return _back(request, reverse("web:tests") + "#pending-shares")


@require_POST
@member_view
def drop_share(request, share_id):
    """The recipient lets an accepted share go: the test leaves its tests and dashboards, the sharer sees it dropped."""
    share = _decide(request, share_id, services.drop)
    if share is not None:
        messages.success(request, f"Dropped “{share.test.name}”: it is no longer shared with you.")
    return redirect("web:live-shares")


@require_POST
@member_view
def revoke_share(request, share_id):
    """The sharer ends a share from Sharing › Live Shares, as from the test's settings: access ends at once."""
    access = request.access
    share = sent_share_or_404(access, share_id)
    _need(access, LIVE_SHARE_INSIDE if share.inside else LIVE_SHARE_OUTSIDE)
    services.revoke(access, share.id)
    recipient = share.recipient_group.name if share.inside else share.recipient_email
    if share.status in services.ACTIVE:
        messages.success(request, f"Stopped sharing “{share.test.name}” with {recipient}.")
    else:
        messages.success(request, f"Removed the {share.status} share of “{share.test.name}” with {recipient}.")
    return redirect("web:live-shares")


# --- Sharing › Live Shares ----------------------------------------------------------------------------------------

STATE_LABELS = {
    LiveShare.PENDING: "Pending",
    LiveShare.ACCEPTED: "Accepted",
    LiveShare.DECLINED: "Declined",
    LiveShare.DROPPED: "Dropped",
}


def _row(access, share, direction: str) -> dict:
    """One share as the page shows it: the test, the other party, its state and what the user may do with it."""
    editing = not access.read_only
    if direction == "outgoing":
        if share.inside:
            party = share.recipient_group.name
        else:
            decided = share.recipient_organization if share.status in (share.ACCEPTED, share.DROPPED) else None
            party = share.recipient_email + (f" · {decided.name}" if decided else "")
        kind = LIVE_SHARE_INSIDE if share.inside else LIVE_SHARE_OUTSIDE
        actions = {"revoke": editing and access.can(kind)}
    else:
        party = share.sharer.name if share.inside else share.sharer.organization.name
        may = editing and access.can(ACCEPT_LIVE_SHARES)
        actions = {
            "decide": may and share.status == LiveShare.PENDING,
            "drop": may and share.status == LiveShare.ACCEPTED,
            "open": share.status == LiveShare.ACCEPTED,
        }
    return {
        "share": share,
        "party": party,
        "kind": "inside" if share.inside else "outside",
        "type_label": TYPE_LABELS[share.test.type],
        "state": share.status,
        "state_label": STATE_LABELS[share.status],
        **actions,
    }


@member_view
def live_shares_page(request):
    """Sharing › Live Shares: the tests this account group shares (with whom, their state, revoke) and those shared
    with it (accept, decline, drop), newest first."""
    access = request.access
    rows = {"outgoing": [], "incoming": []}
    for share, direction in reversed(services.listing(access)):
        rows[direction].append(_row(access, share, direction))
    return render(request, "web/sharing/live_shares.html", {"outgoing": rows["outgoing"], "incoming": rows["incoming"]})
