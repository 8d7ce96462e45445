"""Routes of the web app."""

from django.urls import path, re_path

from .views import account, agents, results, sharing, snapshots, tests

app_name = "web"
ID = r"(?P<test_id>[0-9]{1,18})"

urlpatterns = [
    path("", account.home, name="home"),
    path("login/", account.SignInView.as_view(), name="login"),
    path("logout/", account.SignOutView.as_view(), name="logout"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password-change"),
    path("account/profile/", account.profile, name="profile"),
    path("account/switch/", account.switch_account_group, name="switch-account-group"),
    path("tests/", tests.test_list, name="tests"),
    re_path(r"^tests/new/(?P<test_type>[a-z-]{1,20})/$", tests.test_create, name="test-create"),
    re_path(r"^tests/" + ID + r"/$", results.test_results, name="test-results"),
    re_path(r"^tests/" + ID + r"/snapshots/$", snapshots.snapshot_create, name="snapshot-create"),
    re_path(r"^tests/" + ID + r"/edit/$", tests.test_edit, name="test-edit"),
    re_path(r"^tests/" + ID + r"/toggle/$", tests.test_toggle, name="test-toggle"),
    re_path(r"^tests/" + ID + r"/delete/$", tests.test_delete, name="test-delete"),
    path("sharing/snapshots/", sharing.snapshot_list, name="snapshots"),
    re_path(r"^sharing/snapshots/(?P<link_id>[a-z2-7]{32})/$", sharing.snapshot_in_app, name="snapshot-in-app"),
    re_path(r"^sharing/snapshots/(?P<link_id>[a-z2-7]{32})/update/$", sharing.snapshot_update, name="snapshot-update"),
    re_path(r"^sharing/snapshots/(?P<link_id>[a-z2-7]{32})/revoke/$", sharing.snapshot_revoke, name="snapshot-revoke"),
    path("agents/", agents.agent_list, name="agents"),
    path("agents/tokens/", agents.agent_token_create, name="agent-token-create"),
    path("agents/tokens/<int:token_id>/revoke/", agents.agent_token_revoke, name="agent-token-revoke"),
]
