"""The live test results page. The page itself is the reusable component in spyglass.results_ui.component; this view only
checks tenancy and describes the live scope (the chosen period, ending now or around the selected round)."""

from django.shortcuts import redirect
from django.urls import reverse

from spyglass.accounts.roles import CREATE_SNAPSHOTS
from spyglass.lib.replicas import reading_from_replica
from spyglass.monitoring.scope import read_scope
from spyglass.results_ui.component import _iso, live_scope, parse_round, render_results

from ..checkpoint import member_view, snapshot_of_test_or_404, test_or_404
from ..sharing_panel import panel_context


def _since(start_round) -> str:
    """When the share began, for the page; empty when it ended meanwhile (its scope then starts beyond any date)."""
    try:
        return _iso(start_round)
    except (OverflowError, OSError, ValueError):
        return ""


@member_view
def test_results(request, test_id):
    access = request.access
    test = test_or_404(access, test_id)
    if test.saved_event:
        # A snapshot's own test row (listed by /v6/tests, linked by its permalinks): the snapshot opens in the app.
        snapshot = snapshot_of_test_or_404(access, test)
        return redirect("web:snapshot-in-app", snapshot.link_id)
    extra = (("aid", str(access.account_group.id)),) if "aid" in request.GET else ()
    page_url = reverse("web:test-results", args=[test.id])
    period = request.GET.get("period")
    # Which rows this reader may see: a live-share recipient starts at the share (the API's data endpoints apply
    # the same scope).
    allowed = read_scope(access, test)
    scope = live_scope(test, allowed, page_url, period, parse_round(request.GET.get("roundId")), extra)
    current = live_scope(test, allowed, page_url, period, None, extra)

    context = {"can_share": access.can(CREATE_SNAPSHOTS) and not access.read_only, **panel_context(access, test)}
    if test.live_share:
        # Read-only here, and no snapshots: a snapshot could reach back before the share began.
        group = test.account_group
        shared_by = group.name if group.organization_id == access.organization_id else group.organization.name
        context.update(can_share=False, live_share={"shared_by": shared_by, "since": _since(allowed.start_round)})
    # The results themselves from a replica when one is configured and caught up (lib/replicas.py); the tenancy,
    # the scope and the sharing panel above were read on the primary.
    with reading_from_replica():
        return render_results(
            request,
            scope,
            template="web/results/page.html",
            extra_context=context,
            fallback=current if current.end != scope.end else None,
        )
