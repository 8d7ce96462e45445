"""v7 routes (no format suffixes: v7 negotiates JSON by Accept)."""

from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from .views import admin, agents, dashboard_snapshots, dashboards, results, snapshots, streams, tests

ID = r"(?P<{}>[^/]{{1,40}})"  # V7View.str_id decides: a string of digits, else 404


def v7(pattern: str, view, name: str):
    return re_path(r"^v7/" + pattern + r"$", view.as_view(), name=name)


urlpatterns = [
    re_path(
        r"^v7/openapi\.json$",
        SpectacularAPIView.as_view(
            urlconf="spyglass.api.v7.urls",
            custom_settings={
                "TITLE": "spyglass API v7",
                "DESCRIPTION": "The ThousandEyes v7 API as spyglass serves it (docs/api-v7.md).",
                "VERSION": "7",
                "POSTPROCESSING_HOOKS": [
                    "drf_spectacular.hooks.postprocess_schema_enums",
                    "spyglass.api.v7.schema.add_problem_responses",
                ],
            },
        ),
        name="v7-openapi",
    ),
    re_path(
        r"^v7/docs/?$",
        SpectacularRedocView.as_view(url_name="v7-openapi", template_name="api/docs.html"),
        name="v7-api-docs",
    ),
    v7(r"account-groups", admin.AccountGroupListView, "v7-account-groups"),
    v7(r"account-groups/" + ID.format("group_id"), admin.AccountGroupDetailView, "v7-account-group-detail"),
    v7(r"users", admin.UserListView, "v7-users"),
    v7(r"users/current", admin.CurrentUserView, "v7-user-current"),
    v7(r"users/" + ID.format("uid"), admin.UserDetailView, "v7-user-detail"),
    v7(r"roles", admin.RoleListView, "v7-roles"),
    v7(r"roles/" + ID.format("role_id"), admin.RoleDetailView, "v7-role-detail"),
    v7(r"permissions", admin.PermissionListView, "v7-permissions"),
    v7(r"agents", agents.AgentListView, "v7-agents"),
    v7(r"agents/" + ID.format("agent_id"), agents.AgentDetailView, "v7-agent-detail"),
    v7(r"tests", tests.TestListView, "v7-tests"),
    v7(r"dashboard-snapshots", dashboard_snapshots.DashboardSnapshotListView, "v7-dashboard-snapshots"),
    v7(
        r"dashboard-snapshots/" + ID.format("snapshot_id"),
        dashboard_snapshots.DashboardSnapshotDetailView,
        "v7-dashboard-snapshot-detail",
    ),
    v7(
        r"dashboard-snapshots/" + ID.format("snapshot_id") + r"/widgets/" + ID.format("widget_id"),
        dashboard_snapshots.DashboardSnapshotWidgetDataView,
        "v7-dashboard-snapshot-widget",
    ),
    v7(r"dashboards", dashboards.DashboardListView, "v7-dashboards"),
    v7(r"dashboards/" + ID.format("dashboard_id"), dashboards.DashboardDetailView, "v7-dashboard-detail"),
    v7(
        r"dashboards/" + ID.format("dashboard_id") + "/actions/schedule",
        dashboards.DashboardScheduleView,
        "v7-dashboard-schedule",
    ),
    v7(r"streams", streams.StreamListView, "v7-streams"),
    v7(r"streams/" + ID.format("stream_id"), streams.StreamDetailView, "v7-stream-detail"),
    v7(r"tests/" + ID.format("test_id") + "/snapshot", snapshots.SnapshotCreateView, "v7-test-snapshot"),
    v7(r"test-results/" + ID.format("test_id") + "/network", results.NetworkResultsView, "v7-results-network"),
    v7(
        r"test-results/" + ID.format("test_id") + "/http-server",
        results.HttpServerResultsView,
        "v7-results-http-server",
    ),
    v7(r"test-results/" + ID.format("test_id") + "/dns-server", results.DnsServerResultsView, "v7-results-dns-server"),
    v7(
        r"test-results/" + ID.format("test_id") + "/dns-server/" + ID.format("server_id"),
        results.DnsServerResultsView,
        "v7-results-dns-server-one",
    ),
    v7(r"test-results/" + ID.format("test_id") + "/path-vis", results.PathVisResultsView, "v7-results-path-vis"),
    v7(
        r"test-results/"
        + ID.format("test_id")
        + "/path-vis/agent/"
        + ID.format("agent_id")
        + "/round/"
        + ID.format("round_id"),
        results.PathVisResultsView,
        "v7-results-path-vis-detail",
    ),
]
for _type, (_list, _detail) in tests.TYPED.items():
    urlpatterns += [
        v7(f"tests/{_type}", _list, f"v7-tests-{_type}"),
        v7(f"tests/{_type}/" + ID.format("test_id"), _detail, f"v7-test-{_type}"),
    ]
