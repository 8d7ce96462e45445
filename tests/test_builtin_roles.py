"""The built-in roles every user creation relies on: found as they are in a couple of queries, and put back as
roles.BUILTIN_ROLES says whenever one is missing or its permissions were changed."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from spyglass.accounts import roles
from spyglass.accounts.models import Permission, Role
from spyglass.accounts.services import create_user, ensure_builtin_roles


def labels_of(name: str) -> set[str]:
    return set(Role.objects.get(name=name, builtin=True).permissions.values_list("label", flat=True))


def test_as_they_should_be_they_are_read_not_written(db):
    ensure_builtin_roles()
    with CaptureQueriesContext(connection) as queries:
        found = ensure_builtin_roles()
    assert list(found) == list(roles.BUILTIN_ROLES)
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries), [q["sql"] for q in queries]
    assert len(queries) == 2


def test_a_changed_or_missing_role_is_put_back_by_the_next_user_creation(db):
    ensure_builtin_roles()
    Role.objects.get(name=roles.REGULAR_USER, builtin=True).permissions.add(
        Permission.objects.get(label=roles.EDIT_TESTS)
    )
    Role.objects.get(name=roles.ACCOUNT_ADMIN, builtin=True).permissions.remove(
        Permission.objects.get(label=roles.VIEW_TESTS)
    )
    Role.objects.filter(name=roles.ORGANIZATION_ADMIN, builtin=True).delete()
    create_user("new@acme.test", "correct horse battery", "New", "Acme", ["Ops"], roles.REGULAR_USER)
    for name, labels in roles.BUILTIN_ROLES.items():
        assert labels_of(name) == set(labels), name
