"""visible_test's SQL, built once per process and run for every tenant, never holds a field of one caller's access:
two callers that differ only in what a sharing source reads of their access get their own answers."""

import pytest

from spyglass.accounts.roles import LIVE_SHARE_OUTSIDE, access_for
from spyglass.monitoring import tests_service
from spyglass.monitoring.models import Test
from tests.conftest import make_test


def _organization_for_org_admins(access):
    """A source reading the role's permissions: who may share outside sees every test of the organization."""
    if not access.can(LIVE_SHARE_OUTSIDE):
        return Test.objects.filter(id=-1).values("id")
    return Test.objects.filter(account_group__organization_id=access.organization_id).values("id")


def _created_by_caller(access):
    """A source reading the access's user: everyone sees the tests they created, in any group."""
    return Test.objects.filter(created_by_id=access.user.id).values("id")


@pytest.fixture(params=[_organization_for_org_admins, _created_by_caller])
def source(request):
    tests_service.register_shared_tests(request.param)
    tests_service._visible_test_query.cache_clear()  # built again with the source, as at a process's start
    yield request.param
    tests_service._SHARED_TEST_SOURCES.remove(request.param)
    tests_service._visible_test_query.cache_clear()


def test_callers_of_one_group_get_their_own_answers_from_a_source_that_reads_their_access(cast, source):
    # The owner (Account Admin) and the teammate (Organization Admin) act in the same group of the same organization:
    # only their user and role tell them apart.
    lab_test = make_test(cast.owner, name="lab edge")
    Test.objects.filter(id=lab_test.id).update(
        account_group=cast.other_group.user.default_account_group, created_by=cast.owner.user
    )
    owner = access_for(cast.owner.user, cast.teammate.aid)
    teammate = access_for(cast.teammate.user, cast.teammate.aid)
    assert (owner.account_group.id, owner.organization_id) == (teammate.account_group.id, teammate.organization_id)

    sees = {
        "owner": tests_service.visible_test(owner, lab_test.id) is not None,
        "teammate": tests_service.visible_test(teammate, lab_test.id) is not None,
    }

    expected = {
        _organization_for_org_admins: {"owner": False, "teammate": True},
        _created_by_caller: {"owner": True, "teammate": False},
    }[source]
    assert sees == expected
    # Each answer is the one the ORM gives for that caller.
    for name, access in (("owner", owner), ("teammate", teammate)):
        assert tests_service.visible_tests(access).filter(id=lab_test.id).exists() == expected[name]
