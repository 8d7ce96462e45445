"""The built-in roles and permissions, and the one question everything asks: what may this user do here?"""

from dataclasses import dataclass

VIEW_TESTS = "View tests"
EDIT_TESTS = "Edit tests"
CREATE_SNAPSHOTS = "Create snapshot shares"
VIEW_ALL_SNAPSHOTS = "View snapshots shared by all users in account group"
EDIT_ALL_SNAPSHOTS = "Edit snapshots shared by all users in account group"
ACCEPT_LIVE_SHARES = "Accept inbound live shares"
LIVE_SHARE_INSIDE = "Create live shares for inside the organization"
LIVE_SHARE_OUTSIDE = "Create live shares for outside the organization"
VIEW_AGENTS = "View agents"
EDIT_AGENTS = "Edit agents"
VIEW_USERS = "View users"
EDIT_USERS = "Edit users"

# (label, is a management permission)
PERMISSIONS = [
    (VIEW_TESTS, False),
    (EDIT_TESTS, False),
    (CREATE_SNAPSHOTS, False),
    (VIEW_ALL_SNAPSHOTS, False),
    (EDIT_ALL_SNAPSHOTS, True),
    (ACCEPT_LIVE_SHARES, True),
    (LIVE_SHARE_INSIDE, True),
    (LIVE_SHARE_OUTSIDE, True),
    (VIEW_AGENTS, False),
    (EDIT_AGENTS, True),
    (VIEW_USERS, True),
    (EDIT_USERS, True),
]

ORGANIZATION_ADMIN = "Organization Admin"
ACCOUNT_ADMIN = "Account Admin"
REGULAR_USER = "Regular User"

ALL = [label for label, _ in PERMISSIONS]
BUILTIN_ROLES = {
    ORGANIZATION_ADMIN: ALL,
    ACCOUNT_ADMIN: [p for p in ALL if p != LIVE_SHARE_OUTSIDE],
    REGULAR_USER: [VIEW_TESTS, VIEW_AGENTS, VIEW_ALL_SNAPSHOTS],
}


@dataclass(frozen=True)
class Access:
    """What a user may do in one account group."""

    user: object
    account_group: object
    role: object
    permissions: frozenset

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def read_only(self) -> bool:
        return self.role.read_only

    @property
    def organization_id(self) -> int:
        return self.account_group.organization_id


def access_for(user, account_group_id: int | None) -> Access | None:
    """The user's access in that account group (their default group when None); None when not a member."""
    from .models import Membership

    qs = Membership.objects.select_related("account_group", "role").filter(user=user)
    if account_group_id is None:
        membership = None
        if user.default_account_group_id:
            membership = qs.filter(account_group_id=user.default_account_group_id).first()
        membership = membership or qs.order_by("id").first()
    else:
        membership = qs.filter(account_group_id=account_group_id).first()
    if membership is None:
        return None
    perms = frozenset(membership.role.permissions.values_list("label", flat=True))
    return Access(user, membership.account_group, membership.role, perms)
