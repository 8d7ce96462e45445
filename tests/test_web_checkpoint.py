"""The web app's one tenancy checkpoint (spyglass/web/checkpoint.py): views load tenant objects only through its
`…_or_404` functions, so no view can forget the account group or organization and show another tenant's object;
and each of those objects answers 404, never 403, to another account group or organization."""

import ast
from pathlib import Path

import pytest

from spyglass.accounts.roles import access_for
from spyglass.dashboards.models import Widget
from spyglass.liveshares import services as live_shares
from spyglass.sharing.models import Snapshot
from tests.conftest import make_snapshot, make_test
from tests.web_support import signed_in

WEB = Path(__file__).resolve().parent.parent / "spyglass" / "web"
CHECKPOINT = WEB / "checkpoint.py"
# Rows of the signed-in user themself, found by request.user, never by an id from the request: not tenant objects.
USER_OWN_MODELS = {"Membership", "ApiToken"}
LOOKUPS = {"get", "filter", "exclude", "first", "in_bulk", "get_or_create", "update_or_create"}
BY_HAND = {"get_object_or_404", "get_list_or_404", "find_snapshot", "find_shared"}


def _names_an_id(keyword: str | None) -> bool:
    if keyword is None:
        return False
    field = keyword.split("__")[0]
    return field in ("id", "pk") or field.endswith("_id")


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def loads_by_hand(source: str) -> list[str]:
    """What in this module loads or filters a tenant object itself instead of asking the checkpoint."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            model = node.value.id if isinstance(node.value, ast.Name) else ast.unparse(node.value)
            if model not in USER_OWN_MODELS:
                found.append(f"line {node.lineno}: {model}.objects")
        if isinstance(node, ast.Call):
            name = _called(node)
            if name in BY_HAND:
                found.append(f"line {node.lineno}: {name}(…)")
            elif name in LOOKUPS and any(_names_an_id(k.arg) for k in node.keywords):
                found.append(f"line {node.lineno}: .{name}({', '.join(k.arg or '**' for k in node.keywords)})")
    return found


def test_views_load_tenant_objects_only_through_the_checkpoint():
    modules = [p for p in sorted(WEB.rglob("*.py")) if p != CHECKPOINT]
    assert any(p.parent.name == "views" for p in modules)
    by_hand = {str(p.relative_to(WEB)): loads_by_hand(p.read_text()) for p in modules}
    by_hand = {path: found for path, found in by_hand.items() if found}
    assert not by_hand, f"load these through spyglass/web/checkpoint.py's …_or_404 functions: {by_hand}"


def test_the_structural_check_sees_each_way_of_loading_by_hand():
    # What the views did before the checkpoint covered every object: each one is caught.
    for line in (
        "token = get_object_or_404(AgentToken, id=token_id, organization_id=org)",
        "share = LiveShare.objects.filter(id=int(share_id), test=test).first()",
        "snapshot = links.find_snapshot(link_id, queryset)",
        "test = visible_tests(access).filter(id=test_id).first()",
        "widget = board.widgets.get(pk=widget_id)",
    ):
        assert loads_by_hand(line), line
    assert not loads_by_hand("tokens = ApiToken.objects.filter(user=request.user)")
    assert not loads_by_hand("test = test_or_404(access, test_id)")


# --- behaviour: objects the web tenancy matrix does not open as another tenant ------------------------------------


@pytest.mark.parametrize("outsider", ["other_group", "other_org"])
def test_a_saved_events_test_row_and_its_in_app_page_are_404_to_other_tenants(cast, outsider):
    test = make_test(cast.owner, "http-server", name="incident source")
    saved = make_snapshot(cast.owner, test, is_public=False, display_name="incident <7>")
    member = signed_in(cast.regular)
    assert member.get(f"/tests/{saved.test_id}/")["Location"] == f"/sharing/snapshots/{saved.link_id}/"
    assert member.get(f"/sharing/snapshots/{saved.link_id}/").status_code == 200
    client = signed_in(getattr(cast, outsider))
    for url in (f"/tests/{saved.test_id}/", f"/sharing/snapshots/{saved.link_id}/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "incident" not in response.content.decode()
    assert client.post(f"/sharing/snapshots/{saved.link_id}/revoke/").status_code == 404
    assert Snapshot.objects.filter(id=saved.id).exists()


def test_an_invitation_to_another_organization_is_decided_there_only(cast):
    test = make_test(cast.owner, "http-server", name="shared out")
    share = live_shares.create(access_for(cast.teammate.user, None), test.id, email=cast.other_org.user.email)
    for person in (cast.owner, cast.teammate, cast.other_group):  # the sender's organization: not theirs to accept
        assert signed_in(person).post(f"/live-shares/{share.id}/accept/").status_code == 404
    share.refresh_from_db()
    assert share.status == share.PENDING
    assert signed_in(cast.other_org).post(f"/live-shares/{share.id}/accept/")["Location"] == "/tests/"
    share.refresh_from_db()
    assert share.status == share.ACCEPTED


def test_a_widget_of_another_account_groups_dashboard_is_404_and_stays(cast):
    test = make_test(cast.owner, "http-server", name="board test")
    owner = signed_in(cast.owner)
    owner.post("/dashboard/widgets/", {"test": test.id, "metric": "availability", "period": "3600"})
    widget = Widget.objects.get()
    for outsider in (cast.other_group, cast.other_org):
        client = signed_in(outsider)
        assert client.post(f"/dashboard/widgets/{widget.id}/remove/").status_code == 404
        assert client.post(f"/dashboard/widgets/{widget.id}/move/", {"direction": "up"}).status_code == 404
    assert Widget.objects.filter(id=widget.id).exists()
    assert signed_in(cast.regular).post(f"/dashboard/widgets/{widget.id}/remove/").status_code == 404  # read-only
    assert owner.post(f"/dashboard/widgets/{widget.id}/remove/")["Location"] == "/dashboard/"
    assert not Widget.objects.filter(id=widget.id).exists()
