"""`GET /v6/tests` kept rendered in the database, as share pages are (sharing/stored.py), so that every app process
serves what any of them rendered. A stored list is read only while what it was made from holds:

- the release (lib/release.py: the package, the renderers, the settings written into answers and a digest of every
  file of the rooms the list's views reach), and the base URL its links are made of, in its key;
- the account group's content version (TestListVersion), which database triggers bump in the same transaction as
  any write that changes what the group's list shows (api migration 0001: its tests and the live-shared ones it
  sees, their creators' and editors' names, live shares, share links) — whichever path writes, with no signal to miss.

A stored list is the list of one account group, in one format, of all its tests or of one type: nothing else of
the caller shapes it (tests_service.listed_by_group; when something does, nothing is stored). A request it answers
costs one statement besides authentication and the rate counter."""

import functools
import hashlib

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from rest_framework.response import Response

from spyglass.lib import release
from spyglass.monitoring import tests_service

from .models import StoredTestList, TestListVersion

# What answers the lists (all tests, one type), whose views' code makes their release, and what renders them.
LIST_PATHS = ("/v6/tests", "/v6/tests/agent-to-server")
RENDERERS = ("djangorestframework", "djangorestframework-xml", "orjson")

_VERSIONS = TestListVersion._meta.db_table
_LISTS = StoredTestList._meta.db_table
# The stored answer with the version check, and the group's version, in one statement: (version, body or NULL,
# content type), no row when the group has no version yet.
_LOOKUP = (
    f"SELECT v.version, s.body, s.content_type FROM {_VERSIONS} v LEFT JOIN {_LISTS} s "
    "ON s.account_group_id = v.account_group_id AND s.key = %s AND s.version = v.version "
    "WHERE v.account_group_id = %s"
)
_MAKE_VERSION = (
    f"INSERT INTO {_VERSIONS} (account_group_id, version) VALUES (%s, 1) ON CONFLICT (account_group_id) DO NOTHING"
)
_READ_VERSION = f"SELECT version FROM {_VERSIONS} WHERE account_group_id = %s"
# Replaces the group's answer under that key, unless another request stored it at a later version meanwhile.
_STORE = (
    f"INSERT INTO {_LISTS} (account_group_id, key, version, content_type, body) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (account_group_id, key) DO UPDATE SET version = excluded.version, "
    f"content_type = excluded.content_type, body = excluded.body WHERE {_LISTS}.version <= excluded.version"
)
# What another release or base URL stored for the group is never read again.
_DROP_OTHERS = f"DELETE FROM {_LISTS} WHERE account_group_id = %s AND key NOT LIKE %s"


@functools.cache
def list_release() -> str:
    """The lists' release in this process, computed once (spyglass/wsgi.py computes it before serving)."""
    return release.of(LIST_PATHS, RENDERERS)


@functools.cache
def _prefix(base_url: str) -> str:
    """The start of every key this process stores under: the release and the base URL (its digest)."""
    return f"{list_release()}|{hashlib.sha256(base_url.encode()).hexdigest()[:12]}|"


def list_key(request, test_type: str | None) -> str:
    """The key of the answer `request` asks for: release, base URL, the negotiated format, the type (or all)."""
    renderer = request.accepted_renderer
    return f"{_prefix(settings.BASE_URL)}{renderer.format}:{request.accepted_media_type}|{test_type or '*'}"


def _rendered(view, request, data) -> Response:
    """`data` as DRF renders it for this request, rendered now: what finalize_response and Django then do to it
    leaves its content as it is."""
    response = Response(data)
    response.accepted_renderer = request.accepted_renderer
    response.accepted_media_type = request.accepted_media_type
    response.renderer_context = view.get_renderer_context()
    response.content = response.rendered_content  # sets Content-Type; marks it rendered
    return response


def test_list(view, request, test_type: str | None, build) -> HttpResponse:
    """The answer to a test list request of `view.access`: stored, or `build()` (its data) rendered and stored."""
    if not tests_service.listed_by_group(test_type):
        return _rendered(view, request, build())
    group = view.access.account_group.id
    key = list_key(request, test_type)
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, [key, group])
        found = cursor.fetchone()
        if found is not None and found[1] is not None:
            return HttpResponse(found[1], content_type=found[2])
        if found is None:  # made before the tests are read, so that a write from now on bumps it
            cursor.execute(_MAKE_VERSION, [group])
            cursor.execute(_READ_VERSION, [group])
            found = cursor.fetchone()
    version = found[0]  # read before the tests: a write after it makes what is stored now stale, never lost
    response = _rendered(view, request, build())
    with connection.cursor() as cursor:
        cursor.execute(_STORE, [group, key, version, response["Content-Type"], response.content.decode()])
        cursor.execute(_DROP_OTHERS, [group, _prefix(settings.BASE_URL) + "%"])  # hex digits and "|" only
    return response
