"""Reads from PostgreSQL streaming replicas (SPYGLASS_READ_DATABASE_URL), asked for explicitly.

Nothing is guessed from the model: a view that may read from a replica says so with `reading_from_replica(ready)`
around the reads it means, after it has done what must be current (authentication, the share link's revocation and
expiry, rate counters, visits — all on the primary). Inside the block the router (`ReplicaRouter`, wired in
settings) sends the ORM's reads, and `read_connection()` the raw ones, to the replica chosen for the block; every
write, and every read made inside a transaction on the primary (it may need to see that transaction's writes), goes
to the primary. Outside a block everything is the primary's, as without replicas.

A replica is chosen at random per block among the configured ones ("replica", "replica_2", …), and used only when
`ready(cursor)`, run on it first, says it holds what the reads need; else — or when it cannot be reached — the block
reads the primary. `caught_up` is the default test: replay not paused and at most MAX_LAG_SECONDS behind what the
replica has received (bounded staleness: rows committed in the last moments may be missing)."""

import contextlib
import logging
import random
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, Error, connections

log = logging.getLogger(__name__)

REPLICA_ALIAS = "replica"
MAX_LAG_SECONDS = 2

_reading: ContextVar[str | None] = ContextVar("spyglass_read_alias", default=None)


def replica_aliases() -> list[str]:
    """The configured replicas' database aliases ("replica", "replica_2", …), none without SPYGLASS_READ_DATABASE_URL."""
    return [alias for alias in settings.DATABASES if alias == REPLICA_ALIAS or alias.startswith(REPLICA_ALIAS + "_")]


def alias_name(index: int) -> str:
    """The alias of the index-th replica URL (0-based)."""
    return REPLICA_ALIAS if index == 0 else f"{REPLICA_ALIAS}_{index + 1}"


def current_read_alias() -> str:
    """Where a read made now goes: the block's replica, unless the primary is inside a transaction."""
    alias = _reading.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


def read_connection():
    """The connection for a raw read (cursor()) that may come from a replica: the ORM's reads of the same code go
    where this does, so what it reads (versions, stored chunks) and the rows agree."""
    return connections[current_read_alias()]


class ReplicaRouter:
    """Django's database router: reads to the block's replica, everything else to the primary."""

    def db_for_read(self, model, **hints):
        return current_read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same database

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # replicas follow the primary's schema through replication


CAUGHT_UP_SQL = (
    "SELECT CASE WHEN pg_is_in_recovery() THEN NOT pg_is_wal_replay_paused() AND ("
    "pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
    "OR now() - pg_last_xact_replay_timestamp() <= make_interval(secs => %s)) ELSE true END"
)


def caught_up(cursor) -> bool:
    """The replica replays what it receives, at most MAX_LAG_SECONDS behind (or it is no standby at all)."""
    cursor.execute(CAUGHT_UP_SQL, [MAX_LAG_SECONDS])
    row = cursor.fetchone()
    return bool(row and row[0])


def choose(ready: Callable = caught_up) -> str:
    """A replica that is `ready`, picked at random, else the primary's alias."""
    aliases = replica_aliases()
    if not aliases:
        return DEFAULT_DB_ALIAS
    alias = random.choice(aliases)  # noqa: S311 - spreading load, not a secret
    try:
        with connections[alias].cursor() as cursor:
            if ready(cursor):
                return alias
    except Error as exc:  # unreachable, or gone away: the primary serves the block
        log.warning("read replica %s unavailable, reading from the primary: %s", alias, exc.__class__.__name__)
        connections[alias].close()
    return DEFAULT_DB_ALIAS


def unreachable_replica() -> str | None:
    """Why a configured replica cannot serve reads (no connection, or a database without spyglass's tables), as a
    message naming SPYGLASS_READ_DATABASE_URL; None when every one can. `spyglass serve` checks it at start; later
    outages of a replica only send its reads to the primary (choose)."""
    for index, alias in enumerate(replica_aliases()):
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
                migrated = cursor.fetchone()[0]
        except Error as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            return f"SPYGLASS_READ_DATABASE_URL: replica {index + 1} cannot be reached: {first_line}"
        finally:
            connections[alias].close()
        if not migrated:
            return (
                f"SPYGLASS_READ_DATABASE_URL: replica {index + 1} holds no spyglass database (is it a streaming "
                "replica of DATABASE_URL's primary, with the same database name?)"
            )
    return None


@contextlib.contextmanager
def reading_from(alias: str) -> Iterator[str]:
    """Reads in the block go to `alias` (a replica from choose(), or the primary's)."""
    previous = _reading.get()
    _reading.set(None if alias == DEFAULT_DB_ALIAS else alias)
    try:
        yield alias
    finally:
        _reading.set(previous)


@contextlib.contextmanager
def reading_from_replica(ready: Callable = caught_up) -> Iterator[str]:
    """The block's reads from a replica that is `ready` (see choose), else from the primary; yields the alias."""
    with reading_from(choose(ready)) as alias:
        yield alias


def iterate_from(alias: str, items: Iterable) -> Iterator:
    """`items` consumed with reads going to `alias`: a streamed response's body runs after its view has returned."""
    with reading_from(alias):
        yield from items
