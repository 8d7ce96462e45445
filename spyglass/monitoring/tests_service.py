"""Creating, updating and deleting tests: one place for the API and the web UI."""

import functools
from collections import namedtuple
from collections.abc import Callable
from types import SimpleNamespace as Person

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied, ValidationError

from spyglass.accounts.models import display_of
from spyglass.lib.compiled import Compiled, CompiledQuery, converter

from .models import Agent, RetentionPin, Test

# v6 field name → model attribute, for the simple fields.
FIELD_MAP = {
    "testName": "name",
    "interval": "interval",
    "description": "description",
    "enabled": "enabled",
    "alertsEnabled": "alerts_enabled",
    "networkMeasurements": "network_measurements",
    "numPathTraces": "num_path_traces",
    "server": "server",
    "port": "port",
    "protocol": "protocol",
    "probeCount": "probe_count",
    "probeSpacing": "probe_spacing_ms",
    "url": "url",
    "httpTimeLimit": "http_time_limit",
    "httpTargetTime": "http_target_time",
    "followRedirects": "follow_redirects",
    "maxRedirects": "max_redirects",
    "verifyCertificate": "verify_certificate",
    "desiredStatusCode": "desired_status_code",
    "contentRegex": "content_regex",
    "domain": "domain",
    "dnsTransportProtocol": "dns_transport_protocol",
    "recursiveQueries": "recursive_queries",
}


# Sharing apps add the tests other account groups share with the caller: functions (access) -> a queryset of test
# ids (spyglass.liveshares registers accepted live shares). Registered at app start, so every process agrees.
_SHARED_TEST_SOURCES: list[Callable] = []
# Tests a list never shows though they are visible (share links' frozen tests): functions () -> id subquery.
_UNLISTED_SOURCES: list[Callable] = []

# What a sharing app plugs in for the test settings: functions (access, test, aids: list[int]) that make the test's
# inside-the-organization shares match `sharedWithAccounts`, and (test) -> [{aid, name}] that reads them back.
_SHARED_WITH_WRITERS: list[Callable] = []
_SHARED_WITH_READERS: list[Callable] = []

# Functions (test) called when a test is deleted, before anything else happens to it (spyglass.liveshares ends the
# test's shares, and with them what recipients derived from it).
_ON_DELETE: list[Callable] = []


def register_shared_tests(source):
    _SHARED_TEST_SOURCES.append(source)
    return source


def register_shared_with(reader, writer):
    _SHARED_WITH_READERS.append(reader)
    _SHARED_WITH_WRITERS.append(writer)


def register_unlisted_tests(source):
    """source() -> a subquery of test ids that lists of tests leave out though they stay readable by id."""
    _UNLISTED_SOURCES.append(source)
    return source


def register_on_delete(callback):
    _ON_DELETE.append(callback)
    return callback


def visible_tests(access):
    """Every test the caller's account group may read. The one place that answers that question.

    Each test carries `live_share`: True when it is another group's test shared with the caller (read-only)."""
    visible = Q(account_group=access.account_group)
    for source in _SHARED_TEST_SOURCES:
        visible |= Q(id__in=source(access))
    # A deleted test that snapshots still show keeps its rows but is hidden everywhere.
    return Test.objects.filter(visible, deleted_date__isnull=True).annotate(
        live_share=ExpressionWrapper(~Q(account_group_id=access.account_group.id), output_field=BooleanField())
    )


# What a list of tests shows of each (the v6 list's representation reads these and nothing else): the test's own
# columns but its account group, agents, headers and provenance, and its creator's and last editor's names.
LISTED_COLUMNS = tuple(
    f.attname
    for f in Test._meta.concrete_fields
    if f.name not in {"account_group", "headers", "source_test", "deleted_date", "created_by", "modified_by"}
)


_PEOPLE = tuple(f"{role}__{part}" for role in ("created_by", "modified_by") for part in ("name", "email"))
_LISTED_NAMES = (*LISTED_COLUMNS, "live_share", *_PEOPLE)


def listed_queryset(access):
    """visible_tests(access) as lists show them: without the tests a registered source keeps out of lists."""
    tests = visible_tests(access)
    for source in _UNLISTED_SOURCES:
        tests = tests.exclude(id__in=source())
    return tests


def _listed(access, test_type: str | None):
    tests = listed_queryset(access).order_by("id")
    if test_type is not None:
        tests = tests.filter(type=test_type)
    return tests.values_list(*_LISTED_NAMES)


@functools.cache
def _listed_query(typed: bool) -> tuple[Compiled, list] | None:
    """listed_tests' statement built once per process, and what converts its columns, as visible_test's is: None
    when the access shapes the SQL beyond its ids (then it is built for each call)."""
    try:
        first, second = [
            Compiled(
                _listed(access, Test.AGENT_TO_SERVER if typed else None),
                group=ids["group"],
                organization=ids["organization"],
                **({"type": Test.AGENT_TO_SERVER} if typed else {}),
            )
            for access, ids in _stand_ins()
        ]
    except ValueError:
        return None
    same_ids = {"group": 0, "organization": 0, "type": ""}
    if first.sql != second.sql or first.params(**same_ids) != second.params(**same_ids):
        return None
    fields = [Test._meta.get_field(name) for name in LISTED_COLUMNS]
    converters = [(i, c) for i, f in enumerate(fields) if (c := converter(f, connection)) is not None]
    return first, converters


def listed_by_group(test_type: str | None = None) -> bool:
    """Whether nothing of an access but its account group (and the group's organization) shapes
    listed_tests(access, test_type), so that what it lists for one access it lists for every access to that group
    (the API keeps the rendered list per group: api/stored_lists.py). False when a registered source reads more of
    the access: then each list is its caller's own."""
    return _listed_query(test_type is not None) is not None


# A listed test: a tuple with names, which costs a list of 50 tests less to make than an object with a __dict__
# each. (mypy reads only literal field names.) A person named in it is a namespace with `display`, made in C.
_LISTED_FIELDS = (*LISTED_COLUMNS, "live_share", "created_by", "modified_by")
ListedTest = namedtuple("ListedTest", _LISTED_FIELDS)  # type: ignore[misc]


def listed_tests(access, test_type: str | None = None) -> list[ListedTest]:
    """visible_tests(access) in id order (of one type when given) as a list shows them: the listed columns read as
    values, the people's names through the join, the SQL built once per process — where model instances of every
    test and of both its users (every column, the password hash included) and compiling the query cost most of a
    list request. Each has the Test attributes of LISTED_COLUMNS, `live_share`, and `created_by` / `modified_by`
    with the person's `display` (None: nobody)."""
    compiled = _listed_query(test_type is not None)
    if compiled is None:
        rows = list(_listed(access, test_type))
    else:
        query, converters = compiled
        values = {"group": access.account_group.id, "organization": access.organization_id, "type": test_type}
        with connection.cursor() as cursor:
            cursor.execute(query.sql, query.params(**values))
            rows = []
            for row in cursor.fetchall():
                row = list(row)
                for i, convert in converters:
                    if row[i] is not None:
                        row[i] = convert(row[i])
                rows.append(row)
    width = len(LISTED_COLUMNS) + 1
    make = ListedTest._make
    return [
        make(
            (
                *row[:width],
                None if row[width + 1] is None else Person(display=display_of(row[width], row[width + 1])),
                None if row[width + 3] is None else Person(display=display_of(row[width + 2], row[width + 3])),
            )
        )
        for row in rows
    ]


def visible_test(access, test_id: int, *related: str) -> Test | None:
    """visible_tests(access) with this id and the models of `related` attached, or None: the same query, its SQL
    built once per process when it can be (every data request asks it; spyglass/lib/compiled.py)."""
    query = _visible_test_query(related)
    if query is None:
        found = list(visible_tests(access).select_related(*related).filter(id=test_id))
    else:
        found = query.fetch(group=access.account_group.id, organization=access.organization_id, test=test_id)
    return found[0] if found else None


@functools.cache
def _visible_test_query(related: tuple[str, ...]) -> CompiledQuery | None:
    """The query built for two unlike stand-in accesses; None when its SQL differs between them other than in the
    group's, the organization's and the test's ids: a sharing source then reads something else of the access, which
    must never be frozen into SQL every tenant runs, and visible_test builds the query for each call instead."""
    try:
        first, second = [
            CompiledQuery(visible_tests(access).filter(id=-2003), related, {"live_share": bool}, **ids)
            for access, ids in _stand_ins()
        ]
    except ValueError:  # a stand-in's id is not a parameter of its SQL: the SQL's shape depends on the access
        return None
    same_ids = {"group": 0, "organization": 0, "test": 0}
    if first.sql != second.sql or first.params(**same_ids) != second.params(**same_ids):
        return None
    return first


def _stand_ins() -> list:
    """Two accesses that differ in everything: their ids (the placeholders), user, role and permissions."""
    from spyglass.accounts.models import AccountGroup, Role, User
    from spyglass.accounts.roles import ALL, Access

    out = []
    for n, (read_only, permissions) in enumerate([(True, frozenset()), (False, frozenset(ALL))]):
        group, organization = -2001 - 10 * n, -2002 - 10 * n
        access = Access(
            User(id=-2004 - 10 * n),
            AccountGroup(id=group, organization_id=organization),
            Role(id=-2005 - 10 * n, read_only=read_only),
            permissions,
        )
        out.append((access, {"group": group, "organization": organization, "test": -2003}))
    return out


def check_owner(access, test) -> None:
    """Only the test's own account group may change, delete or share it; recipients of a live share read only."""
    if test.account_group_id != access.account_group.id:
        raise PermissionDenied("This test is live-shared with your account group: it is read-only here")


def shared_with_accounts(test) -> list[dict]:
    """The account groups of the organization this test is live-shared with (`sharedWithAccounts`)."""
    out = []
    for reader in _SHARED_WITH_READERS:
        out.extend(reader(test))
    return out


def _agents(access, refs) -> list[Agent]:
    ids = [ref["agentId"] for ref in refs]
    agents = list(Agent.objects.filter(organization_id=access.organization_id, id__in=ids))
    missing = sorted(set(ids) - {a.id for a in agents})
    if missing:
        raise ValidationError({"agents": f"unknown agentId {', '.join(map(str, missing))}"})
    return agents


def _check_name(access, name, exclude_id=None):
    qs = Test.objects.filter(account_group=access.account_group, name=name, saved_event=False, deleted_date=None)
    if exclude_id:
        qs = qs.exclude(id=exclude_id)
    if qs.exists():
        raise ValidationError({"testName": f"a test named '{name}' already exists in this account group"})


def _apply(test: Test, attrs: dict):
    for key, attr in FIELD_MAP.items():
        if key in attrs:
            setattr(test, attr, attrs[key])
    if "dnsServers" in attrs:
        test.dns_servers = [
            {"serverId": i + 1, "serverName": ref["serverName"]} for i, ref in enumerate(attrs["dnsServers"])
        ]


@transaction.atomic
def create_test(access, test_type: str, attrs: dict) -> Test:
    _check_name(access, attrs["testName"])
    agents = _agents(access, attrs.get("agents", []))
    now = timezone.now()
    test = Test(
        account_group=access.account_group,
        type=test_type,
        created_by=access.user,
        modified_by=access.user,
        created_date=now,
        modified_date=now,
    )
    _apply(test, attrs)
    test.save()
    test.agents.set(agents)
    _write_shared_with(access, test, attrs)
    return test


@transaction.atomic
def update_test(access, test: Test, attrs: dict) -> Test:
    if "testName" in attrs:
        _check_name(access, attrs["testName"], exclude_id=test.id)
    agents = _agents(access, attrs["agents"]) if "agents" in attrs else None
    _apply(test, attrs)
    test.modified_by = access.user
    test.modified_date = timezone.now()
    test.save()
    if agents is not None:
        test.agents.set(agents)
    _write_shared_with(access, test, attrs)
    return test


def _write_shared_with(access, test, attrs):
    if "sharedWithAccounts" not in attrs:
        return
    aids = [ref["aid"] for ref in attrs["sharedWithAccounts"]]
    for writer in _SHARED_WITH_WRITERS:
        writer(access, test, aids)


@transaction.atomic
def delete_test(test: Test) -> None:
    """Delete a test; one whose results a snapshot still shows is only hidden and stopped, its rows kept."""
    for callback in _ON_DELETE:
        callback(test)
    if RetentionPin.objects.filter(test=test).exists():
        now = timezone.now()
        Test.objects.filter(id=test.id).update(deleted_date=now, enabled=False, modified_date=now)
        return
    test.delete()


def purge_deleted_test(test_id: int) -> None:
    """Remove a soft-deleted test for good once no snapshot pins it any more."""
    if not RetentionPin.objects.filter(test_id=test_id).exists():
        Test.objects.filter(id=test_id, deleted_date__isnull=False).delete()
