"""Template context every signed-in page shares: the account-group switcher."""

from spyglass.accounts.models import Membership

from .checkpoint import can_manage_streams


def navigation(request):
    access = getattr(request, "access", None)
    if access is None:
        return {}
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("account_group")
        .order_by("account_group__name")
        .values_list("account_group_id", "account_group__name")
    )
    return {"access": access, "account_groups": list(memberships), "manage_streams": can_manage_streams(access)}
