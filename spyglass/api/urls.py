"""v6 routes. Every route takes an optional .json/.xml suffix, as v6 clients use."""

from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from .views import accounts, agents, dashboard_snapshots, dashboards, data, liveshares, pathvis, snapshots, tests

SUFFIX = r"(?:\.(?P<format>json|xml))?$"
TYPE = r"(?P<test_type>[a-z0-9-]{1,40})"
ID = r"(?P<{}>[0-9]{{1,18}})"
LINK = r"(?P<link_id>[A-Za-z0-9_-]{1,200})"  # sharing.links decides whether it is well formed


def v6(pattern: str, view, name: str):
    return re_path(r"^v6/" + pattern + SUFFIX, view.as_view(), name=name)


urlpatterns = [
    re_path(
        r"^v6/openapi\.json$",
        SpectacularAPIView.as_view(
            custom_settings={"PREPROCESSING_HOOKS": ["spyglass.api.v7.schema.only_v6"]},
        ),
        name="openapi",
    ),
    re_path(
        r"^v6/docs/?$",
        SpectacularRedocView.as_view(url_name="openapi", template_name="api/docs.html"),
        name="api-docs",
    ),
    v6(r"status", accounts.StatusView, "status"),
    v6(r"account-groups", accounts.AccountGroupListView, "account-groups"),
    v6(r"users", accounts.UserListView, "users"),
    v6(r"users/" + ID.format("uid"), accounts.UserDetailView, "user-detail"),
    v6(r"roles", accounts.RoleListView, "roles"),
    v6(r"roles/" + ID.format("role_id"), accounts.RoleDetailView, "role-detail"),
    v6(r"permissions", accounts.PermissionListView, "permissions"),
    v6(r"agents", agents.AgentListView, "agents"),
    v6(r"agents/" + ID.format("agent_id"), agents.AgentDetailView, "agent-detail"),
    v6(r"tests", tests.TestListView, "tests"),
    v6(r"tests/" + ID.format("test_id"), tests.TestDetailView, "test-detail"),
    v6(r"tests/" + TYPE, tests.TestListByTypeView, "tests-by-type"),
    v6(r"tests/" + TYPE + r"/new", tests.TestCreateView, "test-create"),
    v6(r"tests/" + TYPE + "/" + ID.format("test_id") + r"/update", tests.TestUpdateView, "test-update"),
    v6(r"tests/" + TYPE + "/" + ID.format("test_id") + r"/delete", tests.TestDeleteView, "test-delete"),
    v6(r"net/metrics/" + ID.format("test_id"), data.NetMetricsView, "net-metrics"),
    v6(r"web/http-server/" + ID.format("test_id"), data.HttpServerView, "http-server-data"),
    v6(r"dns/server/" + ID.format("test_id"), data.DnsServerView, "dns-server-data"),
    v6(r"net/path-vis/" + ID.format("test_id"), pathvis.PathVisView, "path-vis"),
    v6(
        r"net/path-vis/" + ID.format("test_id") + "/" + ID.format("agent_id") + "/" + ID.format("round_id"),
        pathvis.PathVisDetailView,
        "path-vis-detail",
    ),
    # live shares and dashboards (issue 6)
    v6(r"live-shares", liveshares.LiveShareListView, "live-shares"),
    v6(r"live-shares/new", liveshares.LiveShareCreateView, "live-share-create"),
    v6(r"live-shares/" + ID.format("share_id") + r"/accept", liveshares.LiveShareAcceptView, "live-share-accept"),
    v6(r"live-shares/" + ID.format("share_id") + r"/decline", liveshares.LiveShareDeclineView, "live-share-decline"),
    v6(r"live-shares/" + ID.format("share_id") + r"/drop", liveshares.LiveShareDropView, "live-share-drop"),
    v6(r"live-shares/" + ID.format("share_id") + r"/delete", liveshares.LiveShareDeleteView, "live-share-delete"),
    v6(
        r"live-shares/" + ID.format("share_id") + r"/snapshots/" + ID.format("snapshot_id") + r"/delete",
        liveshares.LiveShareSnapshotDeleteView,
        "live-share-snapshot-delete",
    ),
    v6(r"dashboards", dashboards.DashboardListView, "dashboards"),
    v6(r"dashboards/" + ID.format("dashboard_id"), dashboards.DashboardDetailView, "dashboard-detail"),
    v6(r"dashboards/" + ID.format("dashboard_id") + r"/data", dashboards.DashboardDataView, "dashboard-data"),
    v6(r"dashboards/" + ID.format("dashboard_id") + r"/delete", dashboards.DashboardDeleteView, "dashboard-delete"),
    v6(r"dashboard-snapshots", dashboard_snapshots.DashboardSnapshotListView, "dashboard-snapshots"),
    v6(r"dashboard-snapshots/" + LINK, dashboard_snapshots.DashboardSnapshotDetailView, "dashboard-snapshot-detail"),
    v6(
        r"dashboard-snapshots/" + LINK + r"/data",
        dashboard_snapshots.DashboardSnapshotDataView,
        "dashboard-snapshot-data",
    ),
    v6(
        r"dashboard-snapshots/" + LINK + r"/delete",
        dashboard_snapshots.DashboardSnapshotDeleteView,
        "dashboard-snapshot-delete",
    ),
    v6(r"snapshot", snapshots.SnapshotCreateView, "snapshot-create"),
    v6(r"snapshots", snapshots.SnapshotListView, "snapshots"),
    v6(r"snapshots/" + LINK, snapshots.SnapshotDetailView, "snapshot-detail"),
    v6(r"snapshots/" + LINK + r"/update", snapshots.SnapshotUpdateView, "snapshot-update"),
    v6(r"snapshots/" + LINK + r"/delete", snapshots.SnapshotDeleteView, "snapshot-delete"),
]
