"""The dashboard page: widgets on own and live-shared tests, added, moved and removed through the page (with and
without htmx), "no longer shared" after a revocation, read-only roles, and other tenants answered 404."""

import json
import re
import time

import pytest

from spyglass.dashboards.models import Dashboard, Widget
from spyglass.liveshares import services as liveshares
from spyglass.liveshares.models import LiveShare
from spyglass.monitoring.tests_service import visible_tests
from tests.conftest import make_agent, make_test
from tests.liveshares.conftest import write_net_rounds
from tests.web_support import signed_in

HTMX = {"HTTP_HX_REQUEST": "true"}
DAY = 24 * 3600


@pytest.fixture
def own_test(cast):
    test = make_test(cast.other_group, name="dev <api>", interval=60)
    now = int(time.time()) // 60 * 60
    write_net_rounds(test, make_agent(cast.other_group, "Paris"), range(now - 1800, now, 60), latency=20.0)
    return test


@pytest.fixture
def shared_test(cast):
    """Ops' test live-shared with Dev and accepted; the share began ten minutes ago, results for thirty."""
    from spyglass.accounts.roles import access_for

    test = make_test(cast.owner, name="ops edge", interval=60)
    now = int(time.time()) // 60 * 60
    write_net_rounds(test, make_agent(cast.owner, "Frankfurt"), range(now - 1800, now, 60), latency=10.0)
    owner, dev = access_for(cast.owner.user, None), access_for(cast.other_group.user, None)
    share = liveshares.create(owner, test.id, aid=dev.account_group.id)
    liveshares.accept(dev, share.id)
    LiveShare.objects.filter(id=share.id).update(start_round=now - 600)
    return test


def board(client, **extra) -> str:
    response = client.get("/dashboard/", **extra)
    assert response.status_code == 200
    return response.content.decode()


def widgets_in(html: str) -> list[dict]:
    """Each widget's id, state and chart data, in page order."""
    out = []
    for match in re.finditer(
        r'<li class="card widget[^"]*" id="widget-(\d+)" data-widget-id="\d+" data-state="([^"]+)"', html
    ):
        item = html[match.end() : html.find("</li>", match.end())]
        chart = re.search(r'data-chart="([^"]+)"', item)
        data = json.loads(chart.group(1).replace("&quot;", '"')) if chart else None
        out.append({"id": int(match.group(1)), "state": match.group(2), "chart": data, "html": item})
    return out


def add(client, test, metric="latency", period=DAY, **extra):
    return client.post("/dashboard/widgets/", {"test": test.id, "metric": metric, "period": period}, **extra)


def test_it_shows_an_empty_dashboard_with_a_nav_link_and_the_add_form(cast, own_test, shared_test):
    html = board(signed_in(cast.other_group))
    assert 'href="/dashboard/" class="active" aria-current="page">Dashboard<' in html
    assert "No widgets yet." in html and 'id="add-widget"' in html
    # The form offers the group's own tests and the tests live-shared with it, each under its heading.
    assert re.search(rf'<optgroup label="Your tests"><option value="{own_test.id}"[^>]*>dev &lt;api&gt;<', html)
    assert re.search(rf'<optgroup label="Live shares"><option value="{shared_test.id}"[^>]*>ops edge<', html)
    assert Dashboard.objects.filter(account_group__name="Dev").count() == 1


def test_it_adds_widgets_on_own_and_shared_tests_with_their_data(cast, own_test, shared_test):
    client = signed_in(cast.other_group)
    assert add(client, own_test, period=3600).status_code == 302
    assert add(client, shared_test, metric="loss", period=3600).status_code == 302
    own, shared = widgets_in(board(client))
    assert own["state"] == shared["state"] == "ok"
    assert "dev &lt;api&gt;" in own["html"] and "Latency (ms) · Last hour" in own["html"]
    assert len(own["chart"]["x"]) == 30 and own["chart"]["y"][0] == 20.0
    assert "badge-live" in shared["html"] and "Packet loss (%) · Last hour" in shared["html"]
    # A recipient never sees a round from before the share: ten of the thirty rounds.
    assert len(shared["chart"]["x"]) == 10 and min(shared["chart"]["x"]) >= shared_test.live_shares.get().start_round


def test_htmx_add_answers_with_the_board_alone(cast, own_test):
    response = add(signed_in(cast.other_group), own_test, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<div id="dashboard"' in html and "<html" not in html and len(widgets_in(html)) == 1


@pytest.mark.parametrize(
    "body, message",
    [
        ({"test": "", "metric": "latency", "period": DAY}, "Choose a test."),
        ({"metric": "latency", "period": "soon"}, "Choose a period."),
        ({"metric": "resolutionTime", "period": DAY}, "Must be one of loss, latency, jitter for a agent-to-server"),
        ({"metric": "latency", "period": 60}, "Must be one of 3600, 21600, 43200, 86400, 604800 seconds."),
    ],
)
def test_it_refuses_bad_widgets_with_a_message_and_adds_nothing(cast, own_test, body, message):
    body.setdefault("test", own_test.id)
    response = signed_in(cast.other_group).post("/dashboard/widgets/", body, **HTMX)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Widget.objects.exists()


@pytest.mark.parametrize("owner_of_test", ["owner", "other_org"])
def test_it_refuses_a_widget_on_a_test_the_group_cannot_see(cast, owner_of_test):
    hidden = make_test(getattr(cast, owner_of_test), name="not yours")
    response = signed_in(cast.other_group).post(
        "/dashboard/widgets/", {"test": hidden.id, "metric": "latency", "period": DAY}, **HTMX
    )
    assert response.status_code == 400 and f"No test {hidden.id} among this account group" in response.content.decode()
    assert not Widget.objects.exists()


def test_it_moves_widgets_up_and_down_and_removes_them(cast, own_test, shared_test):
    client = signed_in(cast.other_group)
    for metric in ("latency", "loss", "jitter"):
        add(client, own_test, metric=metric)
    first, second, third = (w["id"] for w in widgets_in(board(client)))

    response = client.post(f"/dashboard/widgets/{third}/move/", {"direction": "up"}, **HTMX)
    assert [w["id"] for w in widgets_in(response.content.decode())] == [first, third, second]
    assert client.post(f"/dashboard/widgets/{first}/move/", {"direction": "down"}).status_code == 302
    assert [w["id"] for w in widgets_in(board(client))] == [third, first, second]
    # At either end nothing moves, and the buttons say so.
    client.post(f"/dashboard/widgets/{third}/move/", {"direction": "up"})
    html = board(client)
    assert [w["id"] for w in widgets_in(html)] == [third, first, second]
    assert re.search(rf'id="move-up-{third}"[^>]* disabled>', html)
    assert re.search(rf'id="move-down-{second}"[^>]* disabled>', html)
    bad = client.post(f"/dashboard/widgets/{first}/move/", {"direction": "sideways"}, **HTMX)
    assert bad.status_code == 400 and "Move a widget up or down." in bad.content.decode()

    response = client.post(f"/dashboard/widgets/{first}/remove/", **HTMX)
    assert [w["id"] for w in widgets_in(response.content.decode())] == [third, second]
    assert client.post(f"/dashboard/widgets/{first}/remove/").status_code == 404


def test_a_revoked_share_shows_no_longer_shared_instead_of_failing(cast, own_test, shared_test):
    client = signed_in(cast.other_group)
    add(client, shared_test)
    add(client, own_test)
    signed_in(cast.owner).post(f"/tests/{shared_test.id}/sharing/groups/", {})  # Ops unchecks Dev
    gone, own = widgets_in(board(client))
    assert gone["state"] == "no longer shared" and gone["chart"] is None
    assert "No longer shared" in gone["html"] and f"/tests/{shared_test.id}/" not in gone["html"]
    assert own["state"] == "ok" and own["chart"]["x"]
    # It can still be removed.
    assert client.post(f"/dashboard/widgets/{gone['id']}/remove/").status_code == 302


def test_a_deleted_own_test_shows_test_deleted(cast, own_test):
    client = signed_in(cast.other_group)
    add(client, own_test)
    client.post(f"/tests/{own_test.id}/delete/")
    (widget,) = widgets_in(board(client))
    assert widget["state"] == "test deleted" and "Test deleted" in widget["html"]


def test_a_read_only_role_sees_the_dashboard_without_controls(cast):
    test = make_test(cast.owner, name="ops edge")
    add(signed_in(cast.owner), test)
    client = signed_in(cast.regular)
    html = board(client)
    assert 'id="add-widget"' not in html and "move-up-" not in html and "remove-" not in html
    (widget,) = widgets_in(html)
    assert widget["state"] == "ok"
    assert add(client, test).status_code == 404
    assert client.post(f"/dashboard/widgets/{widget['id']}/remove/").status_code == 404
    assert client.post(f"/dashboard/widgets/{widget['id']}/move/", {"direction": "down"}).status_code == 404
    assert Widget.objects.count() == 1


@pytest.mark.parametrize("outsider", ["other_group", "other_org"])
def test_other_tenants_cannot_see_move_or_remove_a_groups_widgets(cast, outsider):
    test = make_test(cast.owner, name="ops secret")
    add(signed_in(cast.owner), test)
    widget = Widget.objects.get()
    client = signed_in(getattr(cast, outsider))
    assert "ops secret" not in board(client)
    assert client.post(f"/dashboard/widgets/{widget.id}/move/", {"direction": "down"}).status_code == 404
    assert client.post(f"/dashboard/widgets/{widget.id}/remove/").status_code == 404
    assert Widget.objects.filter(id=widget.id).exists()


def test_each_account_group_has_its_own_dashboard(cast):
    test = make_test(cast.owner, name="ops edge")
    client = signed_in(cast.owner)
    add(client, test)
    lab = cast.owner.user.memberships.get(account_group__name="Lab").account_group_id
    assert widgets_in(board(client, QUERY_STRING=f"aid={lab}")) == []
    assert len(widgets_in(board(client))) == 1


def test_the_page_costs_a_bounded_number_of_queries(cast, own_test, shared_test, django_assert_max_num_queries):
    client = signed_in(cast.other_group)
    for metric in ("latency", "loss", "jitter"):
        add(client, own_test, metric=metric)
        add(client, shared_test, metric=metric)
    assert visible_tests(_access(cast)).count() == 2
    # Session, access, board, tests and, per widget, at most a scope lookup and one aggregate.
    with django_assert_max_num_queries(12 + 2 * 6):
        board(client)


def _access(cast):
    from spyglass.accounts.roles import access_for

    return access_for(cast.other_group.user, None)


def test_the_dashboard_carries_no_inline_script_or_style(cast, own_test):
    client = signed_in(cast.other_group)
    add(client, own_test)
    html = board(client)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(" src=" in tag for tag in scripts) and re.search(r"web/dashboard\.[0-9a-f]{12}\.js", html)
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html and "<style" not in html
