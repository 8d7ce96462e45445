"""The live test results page. The page itself is the reusable component in spyglass.web.results; this view only
checks tenancy, builds the live scope and picks full page or htmx fragment."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from spyglass.accounts.roles import CREATE_SNAPSHOTS
from spyglass.monitoring import timeline

from ..checkpoint import member_view, test_or_404
from ..results import live_scope, page_context, parse_round, round_context

ROUND_PANEL = "round-panel"


@member_view
def test_results(request, test_id):
    access = request.access
    test = test_or_404(access, test_id)
    round_id = parse_round(request.GET.get("roundId"))
    extra = (("aid", str(access.account_group.id)),) if "aid" in request.GET else ()
    scope = live_scope(test, reverse("web:test-results", args=[test.id]), request.GET.get("period"), round_id, extra)
    view_key = request.GET.get("view")
    if request.htmx and request.htmx.target == ROUND_PANEL:
        view = timeline.view_for(test, view_key)
        context = round_context(scope, view, round_id)
        context.update(scope=scope, view=view, test=test, oob_tabs=True)
        response = render(request, "web/results/_round_panel.html", context)
    else:
        context = page_context(scope, view_key, round_id)
        if round_id is not None and context["round_id"] != round_id:
            # The period was moved back to show an old round that has no results: show the current period instead.
            current = live_scope(test, scope.page_url, scope.period, None, extra)
            if current.end != scope.end:
                scope = current
                context = page_context(scope, view_key, None)
        context["can_share"] = access.can(CREATE_SNAPSHOTS) and not access.read_only
        response = render(request, "web/results/page.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
