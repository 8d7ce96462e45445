"""The web app's one tenancy checkpoint. Every view loads the caller's Access and its objects through here, so an
object of another account group or organization answers 404 (never 403: that would reveal it exists)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404

from spyglass.accounts.roles import EDIT_TESTS, access_for
from spyglass.monitoring.models import Test
from spyglass.monitoring.tests_service import visible_tests

SESSION_AID = "aid"


def _requested_aid(request) -> tuple[int | None, bool]:
    """(aid, came from the URL). `?aid=` in the URL wins over the one kept in the session."""
    raw = request.GET.get("aid")
    if raw is not None:
        if not raw.isdigit() or len(raw) > 18:
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


def test_or_404(access, test_id, *, for_edit: bool = False) -> Test:
    """A test the caller's account group can see (and edit, when asked); 404 for anything else."""
    if not str(test_id).isdigit() or int(test_id) > 2**62:
        raise Http404
    test = get_object_or_404(visible_tests(access).select_related("account_group"), id=int(test_id))
    # A live-shared test is read-only for its recipients: there is nothing to edit here.
    if for_edit and (not can_edit_tests(access) or test.saved_event or test.live_share):
        raise Http404
    return test
