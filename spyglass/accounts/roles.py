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
    return _access(query, rows[0], user) if rows else None


def access_for_token(digest: str, account_group_id: int | None) -> Access | None:
    """access_for the user whose API token has this keyed digest, in one statement with the token's lookup (every
    API request asks it first: docs/benchmarks.md, rows 6, 7); None for an unknown token or no membership there.
    The Access's user is the token's, whether active or not (the caller decides)."""
    query = _queries()["token_preferred" if account_group_id is None else "token_in_group"]
    values = {"digest": digest} if account_group_id is None else {"digest": digest, "group": account_group_id}
    rows = query.rows(**values)
    return _access(query, rows[0]) if rows else None


def _access(query, row, user=None) -> Access:
    """The Access of a membership row with its role's permission labels (permission_labels). `user`: the
    membership's own (selected in the row) when not given."""
    membership = query.instance(row)
    labels = _labels(query.annotation(row, "permissions"))
    return Access(user or membership.user, membership.account_group, membership.role, labels)


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


def _chosen_membership(mine, preferred_group):
    """The id of the membership of `mine` (one user's memberships) in `preferred_group` when there is one, else of
    the first: the one a user acts in when no account group is asked for (their default group's)."""
    ordered = mine.order_by("id").values("id")
    return Coalesce(Subquery(ordered.filter(account_group_id=preferred_group)[:1]), Subquery(ordered[:1]))


@functools.cache
def _queries() -> dict:
    # The one decision of (user or API token, aid) -> Access, for the web and the API alike: each form
    # one statement whose SQL is built once per process (spyglass/lib/compiled.py). The stand-in values below are
    # parameters in that SQL, replaced by each call's.
    from .models import Membership

    def with_permissions(chosen, **placeholders):
        rows = Membership.objects.filter(id=chosen)
        related = ("account_group", "role")
        if "digest" in placeholders:  # the token's user, whose memberships `chosen` looks among
            rows, related = rows.filter(user__api_token__digest="digest-placeholder"), (*related, "user")
        rows = rows.annotate(permissions=permission_labels())
        return CompiledQuery(rows, related=related, annotations={"permissions": None}, **placeholders)

    def in_group(mine, group):
        return Subquery(mine.filter(account_group_id=group).order_by("id").values("id")[:1])

    mine = Membership.objects.filter(user_id=-1001)
    the_token_users = Membership.objects.filter(user_id=OuterRef("user_id"))
    return {
        "preferred": with_permissions(_chosen_membership(mine, -1002), user=-1001, preferred=-1002),
        "in_group": with_permissions(in_group(mine, -1003), user=-1001, group=-1003),
        "token_preferred": with_permissions(
            _chosen_membership(the_token_users, OuterRef("user__default_account_group_id")),
            digest="digest-placeholder",
        ),
        "token_in_group": with_permissions(in_group(the_token_users, -1003), digest="digest-placeholder", group=-1003),
    }
