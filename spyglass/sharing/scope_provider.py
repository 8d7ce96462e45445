"""Registers the snapshot read scope: a snapshot's Test row reads its source test's rows, inside the frozen window,
for its included agents, as they were when it was frozen (plus rows copied on write since) — and, for an anonymized
snapshot, with its agents in the order their pseudonyms number them."""

from spyglass.monitoring.models import RetentionPin, Test
from spyglass.monitoring.scope import ReadScope, register

from .models import Snapshot


@register
def snapshot_scope(access, test):
    if not test.saved_event:
        return None
    snapshot = Snapshot.objects.filter(test_id=test.id).first()
    if snapshot is None:  # a saved event row without its snapshot (being revoked): show nothing
        return ReadScope(source_test_id=test.id, start_round=1, end_round=0)
    return scope_of(snapshot)


def scope_of(snapshot: Snapshot) -> ReadScope:
    has_copies = RetentionPin.objects.filter(
        test_id=snapshot.source_test_id, copy_to_id=snapshot.test_id, has_copies=True
    ).exists()
    return ReadScope(
        source_test_id=snapshot.source_test_id,
        start_round=snapshot.start_round,
        end_round=snapshot.end_round,
        agent_ids=frozenset(snapshot.agent_ids) if snapshot.agent_ids is not None else None,
        frozen_at=snapshot.frozen_at,
        copies_test_id=snapshot.test_id if has_copies else None,
        agent_order=agent_order(snapshot) if snapshot.anonymized else None,
    )


def anonymized_agent_order(test) -> tuple[int, ...] | None:
    """For the own test row of an anonymized snapshot, its agent order (agent_order); None for any other test."""
    if not test.saved_event:
        return None
    snapshot = Snapshot.objects.filter(test_id=test.id, anonymized=True).first()
    return None if snapshot is None else agent_order(snapshot)


def agent_order(snapshot: Snapshot) -> tuple[int, ...]:
    """The snapshot's agents by id — those it was made with (its own test row's, set when it was frozen): "Agent 1"
    is the first. The same on every read, whichever page, download or API call asks."""
    ids = set(Test.agents.through.objects.filter(test_id=snapshot.test_id).values_list("agent_id", flat=True))
    ids.update(snapshot.agent_ids or ())
    return tuple(sorted(ids))
