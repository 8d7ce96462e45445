"""Saving the dashboard's order after a drag and drop: `POST /dashboard/widgets/order/` with every widget's id in the
new order. Ids that are not widgets of the caller's dashboard answer 404, an incomplete or repeated list 400 with a
message; either way nothing moves. Read-only roles get 404; SortableJS is served from node_modules."""

import re

import pytest
from django.contrib.staticfiles import finders

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services
from spyglass.dashboards.models import Widget
from tests.conftest import make_test
from tests.web_support import signed_in

ORDER = "/dashboard/widgets/order/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def widgets(cast):
    """Three widgets on the Ops dashboard: a, b, c."""
    owner = access_for(cast.owner.user, None)
    board = services.default_dashboard(owner)
    ids = []
    for name in ("a <one>", "b", "c"):
        test = make_test(cast.owner, name=name)
        ids.append(services.add_widget(owner, board, test.id, "latency", 3600).id)
    return ids


def order_in_db(cast) -> list[int]:
    board = services.default_dashboard(access_for(cast.owner.user, None))
    return list(board.widgets.order_by("position").values_list("id", flat=True))


def order_on_page(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="card widget[^"]*" id="widget-(\d+)"', html)]


def test_the_new_order_is_saved_and_the_board_comes_back_in_it(cast, widgets):
    a, b, c = widgets
    response = signed_in(cast.teammate).post(ORDER, {"widget": [c, a, b]}, **HTMX)
    assert response.status_code == 200
    assert order_on_page(response.content.decode()) == [c, a, b]
    assert order_in_db(cast) == [c, a, b]
    # The hidden order form carries the new order for the next drag; the page agrees after a reload.
    assert order_on_page(signed_in(cast.owner).get("/dashboard/").content.decode()) == [c, a, b]


def test_without_htmx_the_order_is_saved_and_the_page_redirects(cast, widgets):
    a, b, c = widgets
    response = signed_in(cast.owner).post(ORDER, {"widget": [b, c, a]})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert order_in_db(cast) == [b, c, a]


@pytest.mark.parametrize(
    "give",
    [
        lambda a, b, c: [a, b],  # one left out
        lambda a, b, c: [a, b, c, a],  # one repeated
        lambda a, b, c: [a, a, b],
        lambda a, b, c: [],
    ],
)
def test_an_incomplete_or_repeated_list_is_refused_with_a_message_and_nothing_moves(cast, widgets, give):
    response = signed_in(cast.owner).post(ORDER, {"widget": give(*widgets)}, **HTMX)
    assert response.status_code == 400
    assert "nothing was moved" in response.content.decode()
    assert order_in_db(cast) == widgets


def test_unknown_malformed_or_foreign_ids_answer_404_and_nothing_moves(cast, widgets):
    a, b, c = widgets
    dev = access_for(cast.other_group.user, None)
    foreign = services.add_widget(
        dev, services.default_dashboard(dev), make_test(cast.other_group, name="dev").id, "loss", 3600
    )
    client = signed_in(cast.owner)
    for ids in ([c, b, a, foreign.id], [c, b, foreign.id], [c, b, 987654], [c, b, "x"], [c, b, "9" * 30]):
        assert client.post(ORDER, {"widget": ids}, **HTMX).status_code == 404, ids
    assert order_in_db(cast) == widgets
    # Dev may not arrange Ops' widgets either: its own dashboard has none of them.
    assert signed_in(cast.other_group).post(ORDER, {"widget": [c, b, a]}).status_code == 404
    assert order_in_db(cast) == widgets
    assert Widget.objects.get(id=foreign.id).position == 0


def test_a_read_only_role_gets_404_and_no_drag_controls(cast, widgets):
    assert signed_in(cast.regular).post(ORDER, {"widget": list(reversed(widgets))}).status_code == 404
    assert order_in_db(cast) == widgets
    html = signed_in(cast.regular).get("/dashboard/").content.decode()
    assert "widget-order-form" not in html and "data-sortable" not in html


def test_the_page_offers_drag_and_drop_and_the_move_buttons(cast, widgets):
    html = signed_in(cast.owner).get("/dashboard/").content.decode()
    assert 'id="widget-order-form"' in html and "data-sortable" in html
    assert re.search(r'<script src="/static/vendor/sortablejs/Sortable\.min(\.[0-9a-f]+)?\.js" defer>', html)
    for widget_id in widgets:
        assert f'id="move-up-{widget_id}"' in html and f'id="move-down-{widget_id}"' in html


def test_sortablejs_is_served_from_node_modules(cast, client):
    found = finders.find("vendor/sortablejs/Sortable.min.js")
    assert found and "node_modules/sortablejs/" in found
    response = client.get("/static/vendor/sortablejs/Sortable.min.js")
    assert response.status_code == 200
    assert b"Sortable" in b"".join(response.streaming_content if response.streaming else [response.content])
