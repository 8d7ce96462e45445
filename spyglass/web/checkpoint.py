"""The web app's one tenancy checkpoint. Every view loads the caller's Access and its objects through here — tests,
snapshots and saved events, live shares, agents and agent tokens, the dashboard and its widgets — so an object of
another account group or organization answers 404 (never 403: that would reveal it exists). A refusal inside one's
own group (a missing permission) is the view's to answer. tests/test_web_checkpoint.py holds views to this."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from spyglass.accounts.roles import EDIT_TESTS, EDIT_USERS, access_for
from spyglass.dashboards import services as dashboards
from spyglass.dashboards.models import Dashboard, Widget
from spyglass.lib.text import is_digits
from spyglass.liveshares import services as liveshares
from spyglass.liveshares.models import LiveShare
from spyglass.monitoring.models import Agent, AgentToken, Test
from spyglass.monitoring.tests_service import visible_tests
from spyglass.sharing import links, reports
from spyglass.sharing.models import DashboardSnapshot, Snapshot
from spyglass.streams import services as streams
from spyglass.streams.models import Stream

SESSION_AID = "aid"
LARGEST_ID = 2**62  # ids in URLs and forms: digits only, and small enough for every database's bigint


def _requested_aid(request) -> tuple[int | None, bool]:
    """(aid, came from the URL). `?aid=` in the URL wins over the one kept in the session."""
    raw = request.GET.get("aid")
    if raw is not None:
        if not is_digits(raw) or len(raw) > 18:
            raise Http404
        return int(raw), True
    aid = request.session.get(SESSION_AID)
    return (aid if isinstance(aid, int) else None), False


def load_access(request):
    """The caller's Access in the chosen account group; 404 for a group they do not belong to."""
    aid, from_url = _requested_aid(request)
    access = access_for(request.user, aid)
    if access is None and aid is not None and not from_url:
        # The session remembers a group the user has since left: fall back to their default one.
        request.session.pop(SESSION_AID, None)
        access = access_for(request.user, None)
    if access is None:
        raise Http404("Not a member of this account group")
    return access


def member_view(view):
    """Sign-in required; sets request.access (the one place it is computed) before the view runs."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        request.access = load_access(request)
        return view(request, *args, **kwargs)

    return wrapper


def can_edit_tests(access) -> bool:
    return access.can(EDIT_TESTS) and not access.read_only


def can_edit_dashboard(access) -> bool:
    """Members who may change things may arrange the dashboard; read-only roles look at it."""
    return not access.read_only


def can_edit_organization(access) -> bool:
    """Account Admins (and Organization Admins) change the organization's settings; others read them."""
    return access.can(EDIT_USERS) and not access.read_only


def can_schedule_reports(access) -> bool:
    """Who may set a dashboard's schedule: who may create its snapshots (sharing.reports.may_schedule)."""
    return reports.may_schedule(access)


def _id_or_404(raw) -> int:
    """An id from a URL or form, or 404 before any lookup: not plain digits, or too large to be one."""
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > LARGEST_ID:
        raise Http404
    return int(text)


def _first_or_404(queryset):
    found = queryset.first()
    if found is None:
        raise Http404
    return found


# --- tests --------------------------------------------------------------------------------------------------------


def test_or_404(access, test_id, *, for_edit: bool = False) -> Test:
    """A test the caller's account group can see (and edit, when asked); 404 for anything else."""
    test_id = _id_or_404(test_id)
    test = _first_or_404(visible_tests(access).select_related("account_group").filter(id=test_id))
    # A live-shared test is read-only for its recipients: there is nothing to edit here.
    if for_edit and (not can_edit_tests(access) or test.saved_event or test.live_share):
        raise Http404
    return test


def own_test_or_404(access, test_id) -> Test:
    """A test of the caller's own account group, what it may share: neither live-shared to it nor a snapshot's row."""
    test = test_or_404(access, test_id)
    if test.live_share or test.saved_event:
        raise Http404
    return test


def organization_agents(access):
    """The agents of the caller's organization, by name (every test of the organization may use them)."""
    return Agent.objects.filter(organization_id=access.organization_id).order_by("name")


# --- snapshots and saved events -----------------------------------------------------------------------------------


def snapshot_or_404(access, link_id) -> Snapshot:
    """A snapshot (share link or saved event) of the caller's account group by its link id; malformed ids are
    refused before the lookup (links.find_snapshot)."""
    found = links.find_snapshot(link_id, Snapshot.objects.filter(account_group=access.account_group))
    if found is None:
        raise Http404
    return found


def snapshot_of_test_or_404(access, test: Test) -> Snapshot:
    """The snapshot of the caller's account group whose frozen copy `test` is (a saved event's own test row)."""
    return _first_or_404(Snapshot.objects.filter(test=test, account_group=access.account_group).order_by("id"))


def derived_snapshot_or_404(access, test: Test, snapshot_id) -> Snapshot:
    """A snapshot a recipient made of `test` through a live share the caller's account group sent."""
    snapshot_id = _id_or_404(snapshot_id)
    found = Snapshot.objects.filter(id=snapshot_id, live_share__test=test, live_share__sharer=access.account_group)
    return _first_or_404(found.select_related("live_share"))


def dashboard_snapshot_or_404(access, link_id) -> DashboardSnapshot:
    """A dashboard snapshot of the caller's account group by its link id; malformed ids refused before the lookup."""
    if not links.is_well_formed(link_id):
        raise Http404
    return _first_or_404(DashboardSnapshot.objects.filter(account_group=access.account_group, link_id=link_id))


# --- live shares --------------------------------------------------------------------------------------------------


def customer_share_or_404(access, test: Test, share_id) -> LiveShare:
    """A live share of `test` the caller's account group sent to another organization (a "customer")."""
    share_id = _id_or_404(share_id)
    return _first_or_404(liveshares.outgoing(access).filter(id=share_id, test=test, recipient_group__isnull=True))


def sent_share_or_404(access, share_id) -> LiveShare:
    """A live share the caller's account group sent, of any of its tests, inside or outside the organization."""
    share_id = _id_or_404(share_id)
    return _first_or_404(liveshares.outgoing(access).filter(id=share_id).select_related("test", "recipient_group"))


def incoming_share_or_404(access, share_id) -> LiveShare:
    """A live share the caller's account group received (inside ones to it, outside ones to its organization)."""
    share_id = _id_or_404(share_id)
    return _first_or_404(liveshares.incoming(access).filter(id=share_id))


# --- agent tokens -------------------------------------------------------------------------------------------------


def organization_agent_tokens(access):
    """The agent tokens of the caller's organization, newest first."""
    return AgentToken.objects.filter(organization_id=access.organization_id).order_by("-created_date")


def agent_token_or_404(access, token_id) -> AgentToken:
    """An agent token of the caller's organization."""
    token_id = _id_or_404(token_id)
    return _first_or_404(organization_agent_tokens(access).filter(id=token_id))


# --- streams ------------------------------------------------------------------------------------------------------


def can_manage_streams(access) -> bool:
    return access.can(streams.MANAGE_STREAMS) and not access.read_only


def account_group_streams(access):
    """The account group's streams, oldest first; 404 to those who may not manage them (a page they have no use
    for, as Agents is)."""
    if not can_manage_streams(access):
        raise Http404
    return streams.streams(access).order_by("created_date", "id")


def stream_or_404(access, stream_id) -> Stream:
    """A stream of the caller's account group, for its administrators."""
    account_group_streams(access)
    stream = streams.get_stream(access, str(stream_id))
    if stream is None:
        raise Http404
    return stream


def own_tests(access):
    """The account group's own tests (what a stream may send), by name."""
    return Test.objects.filter(
        account_group=access.account_group, saved_event=False, deleted_date__isnull=True
    ).order_by("name", "id")


# --- the dashboard ------------------------------------------------------------------------------------------------


def dashboard_or_404(access, *, for_edit: bool = False) -> Dashboard:
    """The account group's dashboard (made on first use); for_edit: 404 to read-only roles, which have no controls."""
    if for_edit and not can_edit_dashboard(access):
        raise Http404
    return dashboards.default_dashboard(access)


def schedule_dashboard_or_404(access) -> Dashboard:
    """The account group's dashboard to set or remove its schedule: 404 to those who may not (they see it read-only)."""
    if not can_schedule_reports(access):
        raise Http404
    return dashboards.default_dashboard(access)


def widget_or_404(access, widget_id, *, for_edit: bool = False) -> Widget:
    """A widget on the account group's dashboard (its `dashboard` set: no second lookup)."""
    board = dashboard_or_404(access, for_edit=for_edit)
    widget = _first_or_404(board.widgets.filter(id=_id_or_404(widget_id)))
    widget.dashboard = board
    return widget


MAX_WIDGETS_LISTED = 500  # far more than a dashboard holds; bounds one query's parameter list


def widgets_or_404(access, widget_ids, *, for_edit: bool = False) -> tuple[Dashboard, list[int]]:
    """The account group's dashboard and these ids, each of a widget on it, in the order given (repeats kept, for
    the caller to refuse); 404 when any is malformed, unknown or another group's."""
    board = dashboard_or_404(access, for_edit=for_edit)
    if len(widget_ids) > MAX_WIDGETS_LISTED:
        raise Http404
    ids = [_id_or_404(raw) for raw in widget_ids]
    if board.widgets.filter(id__in=set(ids)).count() != len(set(ids)):
        raise Http404
    return board, ids
