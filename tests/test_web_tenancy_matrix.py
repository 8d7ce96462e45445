"""The web tenancy matrix: every page and form of the web app, the share pages and the agent API × owner, teammate,
Regular User, another account group, another organization and anonymous. Built from the URL configuration, so a new
route without an entry here fails.

Forms are posted empty: an answer of 400 means the request passed the tenancy checkpoint and was refused for its
input (and changed nothing). Each request runs in a savepoint rolled back afterwards, so one database serves all."""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboard_services
from spyglass.liveshares import services as live_share_services
from spyglass.monitoring.agent_service import issue_agent_token
from spyglass.monitoring.models import AgentToken
from spyglass.sharing import dashboard_snapshots
from spyglass.streams.models import Stream
from tests.conftest import make_agent, make_derived_snapshot, make_snapshot, make_test
from tests.web_support import signed_in

PEOPLE = ("owner", "teammate", "regular", "other_group", "other_org", "anonymous")
MODULES = ("spyglass.web.urls", "spyglass.sharing.urls", "spyglass.api.agent.urls", "spyglass.scrape.urls")
LOGIN = "→/login/"  # redirected to sign in


def row(owner, teammate, regular, other_group, other_org, anonymous=LOGIN) -> dict:
    return dict(zip(PEOPLE, (owner, teammate, regular, other_group, other_org, anonymous), strict=True))


def same(answer) -> dict:
    return row(*[answer] * 6)


MEMBERS = row(200, 200, 200, 200, 200)  # a page of one's own account group: everyone signed in
OWN_GROUP = row(200, 200, 200, 404, 404)  # an object of the owner's account group: others get 404, never 403
EDIT_OWN_GROUP = row(200, 200, 404, 404, 404)  # a Regular User cannot change anything: the edit pages are 404
EDITED = "→/tests/{test}/edit/"  # back to the test's settings
LINK = same(200)  # a share link opens for anyone holding it

# route name → (method, URL kwargs, expected answer per person: a status code or "→/path" for a redirect)
MATRIX = {
    # the web app
    "home": ("GET", {}, same("→/tests/")),
    "login": ("GET", {}, row(*["→/tests/"] * 5, 200)),
    "logout": ("POST", {}, same(LOGIN)),  # signed out, back to the sign-in page
    "password-change": ("GET", {}, MEMBERS),
    "profile": ("GET", {}, MEMBERS),
    "organization": ("GET", {}, MEMBERS),  # everyone reads the organization's time zone; Account Admins change it
    "switch-account-group": ("POST", {}, row(404, 404, 404, 404, 404)),  # no group named: none of theirs
    "tests": ("GET", {}, MEMBERS),
    "test-settings": ("GET", {}, same("→/tests/")),
    "test-create": ("GET", {"test_type": "http-server"}, row(200, 200, 404, 200, 200)),
    "test-results": ("GET", {"test_id": "test"}, OWN_GROUP),
    "test-edit": ("GET", {"test_id": "test"}, EDIT_OWN_GROUP),
    "test-toggle": ("POST", {"test_id": "test"}, row("→/tests/", "→/tests/", 404, 404, 404)),
    "test-delete": ("POST", {"test_id": "test"}, row("→/tests/", "→/tests/", 404, 404, 404)),
    "snapshot-create": ("POST", {"test_id": "test"}, row(400, 400, 400, 404, 404)),  # Regular Users may snapshot
    "snapshot-window": ("GET", {"test_id": "test"}, OWN_GROUP),  # the panel's window preview
    "test-share-groups": ("POST", {"test_id": "test"}, row(EDITED, EDITED, 403, 404, 404)),
    # sharing outside the organization needs the Organization Admin's permission: the owner is an Account Admin
    "test-share-customers": ("POST", {"test_id": "test"}, row(403, EDITED, 403, 404, 404)),
    "test-share-revoke": (
        "POST",
        {"test_id": "test", "share_id": "customer_share"},
        row(403, EDITED, 403, 404, 404),
    ),
    # a snapshot the owner's Lab group made of the test through an accepted inside share
    "test-share-snapshot-revoke": (
        "POST",
        {"test_id": "test", "snapshot_id": "derived_snapshot"},
        row(EDITED, EDITED, 403, 404, 404),
    ),
    "live-share-accept": ("POST", {"share_id": "group_share"}, row(404, 404, 404, "→/tests/", 404)),  # recipient only
    "live-share-decline": ("POST", {"share_id": "group_share"}, row(404, 404, 404, "→/tests/", 404)),
    # the share is pending: the recipient passes the checkpoint and is told only an accepted share can be dropped
    "live-share-drop": ("POST", {"share_id": "group_share"}, row(404, 404, 404, "→/sharing/live-shares/", 404)),
    "live-shares": ("GET", {}, MEMBERS),
    "live-share-revoke": (
        "POST",
        {"share_id": "group_share"},
        row("→/sharing/live-shares/", "→/sharing/live-shares/", 403, 404, 404),
    ),
    "dashboard": ("GET", {}, MEMBERS),
    "widget-add": ("POST", {}, row(400, 400, 404, 400, 400)),
    "widget-order": ("POST", {}, row(400, 400, 404, 400, 400)),  # no ids: refused; other groups have their own board
    "widget-move": ("POST", {"widget_id": "widget"}, row(400, 400, 404, 404, 404)),
    "widget-remove": ("POST", {"widget_id": "widget"}, row("→/dashboard/", "→/dashboard/", 404, 404, 404)),
    # "Snapshot this dashboard": an empty form is refused for its input; other groups snapshot their own board
    "dashboard-snapshot-create": ("POST", {}, row(400, 400, 400, 400, 400)),
    # the scheduled report: an empty form is refused for its input; a Regular User may not schedule (reads it)
    "dashboard-schedule-set": ("POST", {}, row(400, 400, 404, 400, 400)),
    "dashboard-schedule-remove": ("POST", {}, row(*["→/dashboard/"] * 2, 404, *["→/dashboard/"] * 2)),
    "snapshots": ("GET", {}, MEMBERS),
    "snapshot-in-app": ("GET", {"link_id": "link"}, OWN_GROUP),
    "snapshot-update": ("POST", {"link_id": "link"}, row(*["→/sharing/snapshots/"] * 3, 404, 404)),
    "snapshot-revoke": ("POST", {"link_id": "link"}, row(*["→/sharing/snapshots/"] * 3, 404, 404)),
    # the panel's "E-mail it": no address is a 400; a Regular User may not send a snapshot
    "snapshot-email": ("POST", {"link_id": "link"}, row(400, 400, 403, 404, 404)),
    "dashboard-snapshot-update": (
        "POST",
        {"link_id": "dashboard_link"},
        row(*["→/sharing/snapshots/"] * 3, 404, 404),
    ),
    # the result's "E-mail it": no address is a 400; a Regular User may not send a snapshot
    "dashboard-snapshot-email": ("POST", {"link_id": "dashboard_link"}, row(400, 400, 403, 404, 404)),
    "dashboard-snapshot-revoke": (
        "POST",
        {"link_id": "dashboard_link"},
        row(*["→/sharing/snapshots/"] * 3, 404, 404),
    ),
    # agents and agent tokens belong to the organization; Account and Organization Admins manage them
    "agents": ("GET", {}, row(200, 200, 404, 200, 200)),
    "agent-token-create": ("POST", {}, row(400, 400, 404, 400, 400)),
    "agent-token-revoke": ("POST", {"token_id": "agent_token"}, row("→/agents/", "→/agents/", 404, "→/agents/", 404)),
    # streams belong to the account group; its administrators manage them (Integrations › Streams)
    "streams": ("GET", {}, row(200, 200, 404, 200, 200)),
    "stream-create": ("POST", {}, row(400, 400, 404, 400, 400)),  # an empty form: no URL
    "stream-edit": ("GET", {"stream_id": "stream"}, row(200, 200, 404, 404, 404)),
    "stream-update": ("POST", {"stream_id": "stream"}, row(400, 400, 404, 404, 404)),
    "stream-toggle": ("POST", {"stream_id": "stream"}, row(*["→/integrations/streams/"] * 2, 404, 404, 404)),
    "stream-delete": ("POST", {"stream_id": "stream"}, row(*["→/integrations/streams/"] * 2, 404, 404, 404)),
    # its address is refused before anything is sent: the page shows why
    "stream-test-round": ("POST", {"stream_id": "stream"}, row(200, 200, 404, 404, 404)),
    # share links: possession of the link is what grants reading; nothing else
    "share-page": ("GET", {"link_id": "link"}, LINK),
    "share-results": ("GET", {"link_id": "link"}, LINK),
    "share-download": ("GET", {"link_id": "link", "fmt": "csv"}, LINK),
    "dashboard-share-page": ("GET", {"link_id": "dashboard_link"}, LINK),
    "dashboard-share-download": ("GET", {"link_id": "dashboard_link", "position": "0"}, LINK),
    "dashboard-share-csv": ("GET", {"link_id": "dashboard_link", "position": "0"}, LINK),
    "dashboard-share-comment": ("POST", {"link_id": "dashboard_link"}, same(400)),  # an empty comment is refused
    "share-comment": ("POST", {"link_id": "link"}, same(400)),  # an empty comment is refused, for anyone
    "share-unmatched": ("GET", {"rest": "x"}, same(404)),
    # the agent API takes agent tokens only: a signed-in user is no agent
    "agent-register": ("POST", {}, same(401)),
    "agent-heartbeat": ("POST", {"agent_id": "agent"}, same(401)),
    "agent-assignments": ("GET", {"agent_id": "agent"}, same(401)),
    "agent-results": ("POST", {"agent_id": "agent"}, same(401)),
    # the operator's Prometheus endpoint: off unless SPYGLASS_METRICS_TOKEN is set; then a signed-in user, whoever
    # it is, gets 401 (tests/test_prometheus_metrics.py)
    "metrics": ("GET", {}, same(404)),
}


def _routes() -> dict[str, str]:
    """Route name → name to reverse, for every route of the web app, the share pages and the agent API."""
    names = {}
    for resolver in get_resolver().url_patterns:
        module = getattr(resolver, "urlconf_name", None)
        if getattr(module, "__name__", None) in MODULES:
            prefix = f"{resolver.namespace}:" if resolver.namespace else ""
            names.update({p.name: prefix + p.name for p in resolver.url_patterns if p.name})
    return names


def test_every_web_share_and_agent_route_has_a_row_in_the_matrix():
    routes = _routes()
    assert "test-results" in routes and "share-page" in routes and "agent-results" in routes
    missing = set(routes) - set(MATRIX)
    assert not missing, f"add these routes to the web tenancy matrix: {sorted(missing)}"
    assert not set(MATRIX) - set(routes), "the matrix names routes that no longer exist"


class _Rollback(Exception):
    pass


def _objects(cast) -> dict:
    owner = access_for(cast.owner.user, None)
    test = make_test(cast.owner, "http-server", name="shared web")
    dashboard = dashboard_services.default_dashboard(owner)
    metric = dashboard_services.metrics_for("http-server")[0]
    issue_agent_token(cast.owner.user.default_account_group.organization_id, "lab")
    widget = dashboard_services.add_widget(owner, dashboard, test.id, metric, 3600)
    return {
        "test": test.id,
        "group_share": live_share_services.create(owner, test.id, aid=cast.other_group.aid).id,
        "customer_share": live_share_services.create(
            access_for(cast.teammate.user, None), test.id, email=cast.other_org.user.email
        ).id,
        "widget": widget.id,
        "dashboard_link": dashboard_snapshots.create_dashboard_snapshot(owner, dashboard).link_id,
        "link": make_snapshot(cast.owner, test).link_id,
        "derived_snapshot": make_derived_snapshot(cast, test)[1].id,
        "agent_token": AgentToken.objects.get().id,
        "agent": make_agent(cast.owner).id,
        "stream": Stream.objects.create(
            account_group_id=cast.owner.aid, name="to the NOC", endpoint_type="http", url="https://192.0.2.1/v1/metrics"
        ).id,
    }


def _answer(response) -> int | str:
    if response.status_code == 302:
        return "→" + response["Location"].split("?")[0].split("#")[0]
    return response.status_code


@pytest.mark.parametrize("who", PEOPLE)
def test_each_person_gets_the_documented_answer_on_every_route(cast, who):
    objects = _objects(cast)
    routes = _routes()
    wrong = []
    for name, (method, kwargs, expected) in sorted(MATRIX.items()):
        url = reverse(routes[name], kwargs={k: objects.get(v, v) for k, v in kwargs.items()})
        client = Client() if who == "anonymous" else signed_in(cast.all()[who])  # fresh: logout ends a session
        try:
            with transaction.atomic():
                response = client.get(url) if method == "GET" else client.post(url)
                raise _Rollback
        except _Rollback:
            pass
        answer, documented = _answer(response), expected[who]
        if isinstance(documented, str):
            documented = documented.format(**objects)
        if answer != documented:
            wrong.append((name, method, url, answer, documented))
    assert not wrong, wrong
