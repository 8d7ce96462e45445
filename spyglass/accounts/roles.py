"""The built-in roles and permissions, and the one question everything asks: what may this user do here?"""

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Aggregate, OuterRef, Subquery, TextField
from django.db.models.functions import Coalesce

from spyglass.lib.compiled import CompiledQuery

if TYPE_CHECKING:
    from .models import AccountGroup, Role, User

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

    user: "User"
    account_group: "AccountGroup"
    role: "Role"
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
    if account_group_id is None:
        # Their default group's membership when they have one, else their first (-1 matches no group).
        query = _queries()["preferred"]
        rows = query.rows(user=user.id, preferred=user.default_account_group_id or -1)
    else:
        query = _queries()["in_group"]
        rows = query.rows(user=user.id, group=account_group_id)
    return access_from_rows(query, rows, user) if rows else None


def access_from_rows(query, rows: list, user=None) -> Access:
    """The Access of a compiled query's membership row, its role's permission labels annotated as `permissions`
    (permission_labels). `user`: the membership's own (select_related) when not given."""
    membership = query.instance(rows[0])
    labels = rows[0][query.annotations["permissions"]]
    return Access(user or membership.user, membership.account_group, membership.role, _labels(labels))


def permission_labels() -> Subquery:
    """The membership's role's permission labels as one text, newline-separated (no label has one): one row per
    membership rather than one per permission, each repeating the user, group and role (a dozen rows to convert)."""
    from .models import Permission

    of_role = Permission.objects.filter(role=OuterRef("role_id")).order_by().values("role")
    return Subquery(of_role.annotate(labels=_JoinedLabels("label")).values("labels"))


class _JoinedLabels(Aggregate):
    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, chr(10))"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        template = "%(function)s(%(expressions)s, char(10))"
        return self.as_sql(compiler, connection, function="GROUP_CONCAT", template=template, **extra_context)


def _labels(joined: str | None) -> frozenset:
    return frozenset(joined.split("\n")) if joined else frozenset()


def chosen_membership(mine, preferred_group):
    """The id of the membership of `mine` (one user's memberships) in `preferred_group` when there is one, else of
    the first: the one a user acts in when no account group is asked for (their default group's). The one SQL form
    of that choice, for access_for and the API's token statement (api/auth.py)."""
    ordered = mine.order_by("id").values("id")
    return Coalesce(Subquery(ordered.filter(account_group_id=preferred_group)[:1]), Subquery(ordered[:1]))


@functools.cache
def _queries() -> dict:
    # The web and the API's fallback ask access_for (an API request's token statement reads access itself,
    # api/auth.py): one query, compiled once per process (spyglass/lib/compiled.py).
    from .models import Membership

    def with_permissions(chosen):
        return (
            Membership.objects.select_related("account_group", "role")
            .filter(id=chosen)
            .annotate(permissions=permission_labels())
        )

    mine = Membership.objects.filter(user_id=-1001)
    in_group = Subquery(mine.filter(account_group_id=-1003).order_by("id").values("id")[:1])
    return {
        "preferred": CompiledQuery(with_permissions(chosen_membership(mine, -1002)), user=-1001, preferred=-1002),
        "in_group": CompiledQuery(with_permissions(in_group), user=-1001, group=-1003),
    }
