"""When the database cannot be reached — no primary during a failover, a connection dropped mid-request, a server
that turned read-only — every interface answers 503 with Retry-After instead of 500: the request did nothing, and the
same request a few seconds later may well succeed. The one test of "is this the database being away" and the one
exception the APIs answer it with; errors.py gives the answers outside DRF (web pages, share pages, the lean upload).

A connection that failed is closed by Django at the end of the request (errors_occurred) and a kept-alive one that
died meanwhile by the health check at the next request's first query (CONN_HEALTH_CHECKS), so after a promotion every
process reconnects by itself, through libpq's multi-host DATABASE_URL to the server that now takes writes."""

import logging

from django.db import InterfaceError, OperationalError
from rest_framework import exceptions

log = logging.getLogger("spyglass.database")

RETRY_AFTER_SECONDS = 5
MESSAGE = "The database is unavailable for the moment (a failover may be under way); try again in a few seconds"
READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction: a write reached a standby


class DatabaseUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = MESSAGE
    default_code = "database_unavailable"


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True for an error that says the database is away, not that the request or the code is wrong: Django's
    OperationalError (connection refused or lost, no server taking writes, server shutting down) and InterfaceError
    (a connection already closed), and a write refused by a read-only server. IntegrityError, DataError and
    ProgrammingError stay what they are (400s and bugs)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None) == READ_ONLY_SQLSTATE


def as_unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The 503 for a database error (logged, one line: an outage is the operator's news, not a bug), else None."""
    if not is_database_unavailable(exc):
        return None
    log.warning("database unavailable, answering 503: %s", str(exc).strip().replace("\n", " ") or type(exc).__name__)
    return DatabaseUnavailable()


def retry_headers() -> dict:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}
