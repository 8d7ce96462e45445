"""The read-replica router's rules (spyglass/lib/replicas.py), without a replica: reads go to one only inside a block
that asked for it and never inside a transaction on the primary; writes always go to the primary; with no replica
configured every block reads the primary without asking anything. The real replica: tests/test_read_replica.py."""

import pytest
from django.db import DEFAULT_DB_ALIAS, transaction

from spyglass.lib import replicas
from spyglass.monitoring.models import NetResult, Test

ROUTER = replicas.ReplicaRouter()


def test_reads_go_to_the_blocks_replica_only_inside_it_and_writes_to_the_primary():
    assert ROUTER.db_for_read(NetResult) == DEFAULT_DB_ALIAS
    with replicas.reading_from("replica"):
        assert ROUTER.db_for_read(NetResult) == "replica"
        assert ROUTER.db_for_write(NetResult) == DEFAULT_DB_ALIAS
        with replicas.reading_from(DEFAULT_DB_ALIAS):
            assert ROUTER.db_for_read(Test) == DEFAULT_DB_ALIAS
        assert ROUTER.db_for_read(Test) == "replica"
    assert ROUTER.db_for_read(NetResult) == DEFAULT_DB_ALIAS
    assert ROUTER.allow_migrate("replica", "monitoring") is False
    assert ROUTER.allow_migrate(DEFAULT_DB_ALIAS, "monitoring") is True


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_on_the_primary_reads_the_primary():
    with replicas.reading_from("replica"):
        with transaction.atomic():
            assert ROUTER.db_for_read(NetResult) == DEFAULT_DB_ALIAS
            assert replicas.read_connection().alias == DEFAULT_DB_ALIAS
        assert ROUTER.db_for_read(NetResult) == "replica"


def test_a_streamed_body_reads_where_its_view_decided():
    seen = []

    def body():
        for _ in range(2):
            seen.append(ROUTER.db_for_read(NetResult))
            yield b"x"

    stream = replicas.iterate_from("replica", body())
    assert ROUTER.db_for_read(NetResult) == DEFAULT_DB_ALIAS  # the view has returned
    assert b"".join(stream) == b"xx" and seen == ["replica", "replica"]
    assert ROUTER.db_for_read(NetResult) == DEFAULT_DB_ALIAS


def test_without_replicas_every_block_reads_the_primary_and_asks_nothing():
    asked = []
    assert replicas.replica_aliases() == []
    with replicas.reading_from_replica(lambda cursor: asked.append(cursor) or True) as alias:
        assert alias == DEFAULT_DB_ALIAS and ROUTER.db_for_read(NetResult) == DEFAULT_DB_ALIAS
    assert asked == []
