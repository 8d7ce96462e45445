"""Plugs live shares into the monitoring hooks: which tests a group sees, which rounds it may read of them, and the
test setting `sharedWithAccounts`, and ending a test's shares when it is deleted. Registered once per process at app start."""

from spyglass.monitoring import scope, tests_service

from . import services

# No round has an id this large: a scope starting here returns nothing.
NOTHING = 2**62


@scope.register
def live_share_scope(access, test):
    """A recipient reads a live-shared test from the share's creation onward, never a round before it."""
    if access is None or test.saved_event or test.account_group_id == access.account_group.id:
        return None  # the owner's own test, or a snapshot (its own provider decides)
    first = services.first_round(access, test)
    # Nothing grants access any more (revoked between two queries): deny rather than fall back to every row.
    return scope.ReadScope(source_test_id=test.id, start_round=NOTHING if first is None else first)


tests_service.register_shared_tests(services.shared_test_ids)
tests_service.register_shared_with(reader=services.shared_with, writer=services.set_shared_with)
tests_service.register_on_delete(services.end_shares_of)
