"""The account group's tests: list, create, edit, enable/disable, delete. Validation is the API's own
(monitoring.test_validation and tests_service), so the rules are the same whichever door a change comes through."""

from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from spyglass.lib.error_messages import message_of
from spyglass.lib.rounds import ALLOWED_INTERVALS
from spyglass.lib.text import is_digits
from spyglass.liveshares import services as liveshares
from spyglass.monitoring import tests_service, timeline
from spyglass.monitoring.models import Test
from spyglass.monitoring.test_validation import TestWriteSerializer
from spyglass.results_ui.component import TYPE_LABELS

from ..checkpoint import can_edit_tests, member_view, organization_agents, test_or_404
from . import live_shares


@member_view
def test_list(request):
    access = request.access
    tests = list(
        tests_service.visible_tests(access)
        .filter(saved_event=False)
        .select_related("account_group__organization")
        .annotate(agent_count=Count("agents"))
        .order_by("name")
    )
    status = timeline.last_round_status(tests)
    # A recipient never learns of a round before its share began, not even the last round's status.
    shared_ids = [t.id for t in tests if t.live_share]
    shared_since = liveshares.first_rounds(access, shared_ids) if shared_ids else {}
    for test in tests:
        if test.live_share and test.id in status and status[test.id]["round_id"] < shared_since.get(test.id, 2**62):
            del status[test.id]
    for test in tests:
        test.status = status.get(test.id)
        test.type_label = TYPE_LABELS[test.type]
        if test.live_share:
            # Shared from inside the organization: name the account group; from outside: the organization.
            group = test.account_group
            test.shared_by = group.name if group.organization_id == access.organization_id else group.organization.name
    pending = live_shares.pending_shares(access)
    return render(
        request,
        "web/tests_list.html",
        {
            "tests": tests,
            "can_edit": can_edit_tests(access),
            "types": TYPE_LABELS.items(),
            "pending": pending,
            "pending_outside": any(not s.inside for s in pending or ()),
        },
    )


def _body_from_form(post, test_type: str, creating: bool) -> dict:
    """The web form's fields are named as in the v6 API; turn them into the API's request body."""
    body = {
        "testName": post.get("testName", ""),
        "interval": post.get("interval", ""),
        "description": post.get("description", ""),
        "enabled": 1 if post.get("enabled") else 0,
        "agents": [{"agentId": v} for v in post.getlist("agents")],
    }
    if post.get("numPathTraces", "") != "":  # left out: the test keeps its own (3 for a new test)
        body["numPathTraces"] = post["numPathTraces"]
    if test_type == Test.DNS_SERVER:
        body["dnsServers"] = [
            {"serverName": line.strip()} for line in post.get("dnsServers", "").splitlines() if line.strip()
        ]
    if creating:
        target = {Test.AGENT_TO_SERVER: "server", Test.HTTP_SERVER: "url", Test.DNS_SERVER: "domain"}[test_type]
        body[target] = post.get(target, "")
        if test_type == Test.AGENT_TO_SERVER:
            body["protocol"] = post.get("protocol", "TCP")
    return body


def _errors(detail) -> dict[str, str]:
    if isinstance(detail, dict):
        return {("form" if k == "non_field_errors" else k): message_of(v) for k, v in detail.items()}
    return {"form": message_of(detail)}


def _form(request, test_type: str, test: Test | None):
    access = request.access
    creating = test is None
    errors, values = {}, {}
    if request.method == "POST":
        body = _body_from_form(request.POST, test_type, creating)
        values = dict(request.POST.lists())
        serializer = TestWriteSerializer(data=body, test_type=test_type, instance_test=test)
        if serializer.is_valid():
            try:
                if creating:
                    test = tests_service.create_test(access, test_type, serializer.validated_data)
                else:
                    test = tests_service.update_test(access, test, serializer.validated_data)
            except ValidationError as exc:
                errors = _errors(exc.detail)
            else:
                messages.success(request, f"Test “{test.name}” {'created' if creating else 'saved'}.")
                return redirect("web:tests")
        else:
            errors = _errors(serializer.errors)
    agents = organization_agents(access)
    if values:
        chosen = {int(v) for v in values.get("agents", []) if is_digits(v)}
        form = {k: v[-1] for k, v in values.items()}
    elif test is not None:
        chosen = set(test.agents.values_list("id", flat=True))
        form = {
            "testName": test.name,
            "interval": str(test.interval),
            "description": test.description,
            "enabled": "1" if test.enabled else "",
            "numPathTraces": str(test.num_path_traces),
            "dnsServers": "\n".join(s["serverName"] for s in test.dns_servers),
        }
    else:
        chosen, form = set(), {"interval": "300", "enabled": "1", "protocol": "TCP", "numPathTraces": "3"}
    if values and test_type == Test.DNS_SERVER:
        form["dnsServers"] = request.POST.get("dnsServers", "")
    return render(
        request,
        "web/test_form.html",
        {
            "test": test,
            "test_type": test_type,
            "type_label": TYPE_LABELS[test_type],
            "form": form,
            "errors": errors,
            "agents": agents,
            "chosen": chosen,
            "intervals": ALLOWED_INTERVALS,
            "sharing": None if creating else live_shares.panel_context(access, test),
        },
        status=400 if errors else 200,
    )


@member_view
def test_create(request, test_type):
    if test_type not in TYPE_LABELS or not can_edit_tests(request.access):
        raise Http404
    return _form(request, test_type, None)


@member_view
def test_edit(request, test_id):
    test = test_or_404(request.access, test_id, for_edit=True)
    return _form(request, test.type, test)


@require_POST
@member_view
def test_toggle(request, test_id):
    test = test_or_404(request.access, test_id, for_edit=True)
    tests_service.update_test(request.access, test, {"enabled": not test.enabled})
    messages.success(request, f"Test “{test.name}” {'enabled' if test.enabled else 'disabled'}.")
    return redirect("web:tests")


@member_view
def test_delete(request, test_id):
    test = test_or_404(request.access, test_id, for_edit=True)
    if request.method == "POST":
        name = test.name
        tests_service.delete_test(test)
        messages.success(request, f"Test “{name}” deleted.")
        return redirect(reverse("web:tests"))
    return render(request, "web/test_delete.html", {"test": test})
