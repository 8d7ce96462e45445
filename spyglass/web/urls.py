"""Routes of the web app."""

from django.urls import path, re_path
from django.views.generic import RedirectView

from .views import account, agents, dashboard, live_shares, reports, results, sharing, snapshots, streams, tests

app_name = "web"
ID = r"(?P<test_id>[0-9]{1,18})"
SHARE = r"(?P<share_id>[0-9]{1,18})"
WIDGET = r"(?P<widget_id>[0-9]{1,18})"
SNAPSHOT = r"(?P<snapshot_id>[0-9]{1,18})"

urlpatterns = [
    path("", account.home, name="home"),
    path("login/", account.SignInView.as_view(), name="login"),
    path("logout/", account.SignOutView.as_view(), name="logout"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password-change"),
    path("account/profile/", account.profile, name="profile"),
    path("account/switch/", account.switch_account_group, name="switch-account-group"),
    path("account/organization/", account.organization_settings, name="organization"),
    path("tests/", tests.test_list, name="tests"),
    re_path(r"^tests/new/(?P<test_type>[a-z-]{1,20})/$", tests.test_create, name="test-create"),
    re_path(r"^tests/" + ID + r"/$", results.test_results, name="test-results"),
    re_path(r"^tests/" + ID + r"/snapshots/$", snapshots.snapshot_create, name="snapshot-create"),
    re_path(r"^tests/" + ID + r"/snapshots/window/$", snapshots.snapshot_window, name="snapshot-window"),
    re_path(r"^tests/" + ID + r"/edit/$", tests.test_edit, name="test-edit"),
    re_path(r"^tests/" + ID + r"/toggle/$", tests.test_toggle, name="test-toggle"),
    re_path(r"^tests/" + ID + r"/delete/$", tests.test_delete, name="test-delete"),
    # Live sharing (issue 6): the test settings' panels and Pending Shares on the tests list.
    re_path(r"^tests/" + ID + r"/sharing/groups/$", live_shares.share_groups, name="test-share-groups"),
    re_path(r"^tests/" + ID + r"/sharing/customers/$", live_shares.share_customers, name="test-share-customers"),
    re_path(
        r"^tests/" + ID + r"/sharing/customers/" + SHARE + r"/delete/$",
        live_shares.revoke_customer,
        name="test-share-revoke",
    ),
    re_path(
        r"^tests/" + ID + r"/sharing/snapshots/" + SNAPSHOT + r"/delete/$",
        live_shares.revoke_derived,
        name="test-share-snapshot-revoke",
    ),
    re_path(r"^live-shares/" + SHARE + r"/accept/$", live_shares.accept_share, name="live-share-accept"),
    re_path(r"^live-shares/" + SHARE + r"/decline/$", live_shares.decline_share, name="live-share-decline"),
    re_path(r"^live-shares/" + SHARE + r"/drop/$", live_shares.drop_share, name="live-share-drop"),
    path("sharing/live-shares/", live_shares.live_shares_page, name="live-shares"),
    re_path(r"^sharing/live-shares/" + SHARE + r"/revoke/$", live_shares.revoke_share, name="live-share-revoke"),
    # The invitation e-mail's link (liveshares.notify.PENDING_SHARES_PATH): Test Settings is the tests list here.
    path("settings/tests/", RedirectView.as_view(pattern_name="web:tests"), name="test-settings"),
    path("dashboard/", dashboard.dashboard_page, name="dashboard"),
    path("dashboard/widgets/", dashboard.widget_add, name="widget-add"),
    path("dashboard/snapshots/", dashboard.dashboard_snapshot_create, name="dashboard-snapshot-create"),
    path("dashboard/schedule/", reports.schedule_set, name="dashboard-schedule-set"),
    path("dashboard/schedule/remove/", reports.schedule_remove, name="dashboard-schedule-remove"),
    path("dashboard/widgets/order/", dashboard.widget_order, name="widget-order"),
    re_path(r"^dashboard/widgets/" + WIDGET + r"/move/$", dashboard.widget_move, name="widget-move"),
    re_path(r"^dashboard/widgets/" + WIDGET + r"/remove/$", dashboard.widget_remove, name="widget-remove"),
    path("sharing/snapshots/", sharing.snapshot_list, name="snapshots"),
    re_path(r"^sharing/snapshots/(?P<link_id>[a-z2-7]{32})/$", sharing.snapshot_in_app, name="snapshot-in-app"),
    re_path(r"^sharing/snapshots/(?P<link_id>[a-z2-7]{32})/update/$", sharing.snapshot_update, name="snapshot-update"),
    re_path(r"^sharing/snapshots/(?P<link_id>[a-z2-7]{32})/revoke/$", sharing.snapshot_revoke, name="snapshot-revoke"),
    re_path(r"^sharing/snapshots/(?P<link_id>[a-z2-7]{32})/email/$", snapshots.snapshot_email, name="snapshot-email"),
    re_path(
        r"^sharing/dashboard-snapshots/(?P<link_id>[a-z2-7]{32})/update/$",
        sharing.dashboard_snapshot_update,
        name="dashboard-snapshot-update",
    ),
    re_path(
        r"^sharing/dashboard-snapshots/(?P<link_id>[a-z2-7]{32})/revoke/$",
        sharing.dashboard_snapshot_revoke,
        name="dashboard-snapshot-revoke",
    ),
    re_path(
        r"^sharing/dashboard-snapshots/(?P<link_id>[a-z2-7]{32})/email/$",
        dashboard.dashboard_snapshot_email,
        name="dashboard-snapshot-email",
    ),
    path("agents/", agents.agent_list, name="agents"),
    path("agents/tokens/", agents.agent_token_create, name="agent-token-create"),
    path("agents/tokens/<int:token_id>/revoke/", agents.agent_token_revoke, name="agent-token-revoke"),
    path("integrations/streams/", streams.stream_list, name="streams"),
    path("integrations/streams/new/", streams.stream_save, name="stream-create"),
    path("integrations/streams/<uuid:stream_id>/", streams.stream_edit, name="stream-edit"),
    path("integrations/streams/<uuid:stream_id>/save/", streams.stream_save, name="stream-update"),
    path("integrations/streams/<uuid:stream_id>/toggle/", streams.stream_toggle, name="stream-toggle"),
    path("integrations/streams/<uuid:stream_id>/delete/", streams.stream_delete, name="stream-delete"),
    path("integrations/streams/<uuid:stream_id>/test-round/", streams.stream_test_round, name="stream-test-round"),
]
