"""GET /v6/tests is kept rendered per account group (api/stored_lists.py) and served while what it shows is unchanged:
every write path that changes something a list shows (a test by ORM save, QuerySet.update, raw SQL or the API; a
new or deleted test; a creator's or editor's name or e-mail; a live share accepted, revoked or dropped; a share
link made from a saved event; the shared test changed in its own group) and a new release or base URL give a fresh
list; one group's stored list is never another's; JSON and XML are each right."""

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spyglass.accounts.models import AccountGroup, User
from spyglass.accounts.roles import access_for
from spyglass.api import representations as rep
from spyglass.api import stored_lists
from spyglass.api.formats import V6XMLRenderer
from spyglass.api.models import StoredTestList, TestListVersion
from spyglass.liveshares import services as live_shares
from spyglass.monitoring import tests_service
from spyglass.monitoring.models import Test
from spyglass.sharing.models import Snapshot
from tests.conftest import make_snapshot, make_test

STALE = '{"test": ["stale stored list"]}'


def _by_instances(access, **only) -> list[dict]:
    """The list built from the tests' model instances: test_summary of each listed test."""
    tests = tests_service.listed_queryset(access).select_related("created_by", "modified_by").filter(**only)
    return [rep.test_summary(t) for t in tests.order_by("id")]


def _get(person, aid: int, path: str = "tests.json", **headers):
    response = person.client.get(f"/v6/{path}{'&' if '?' in path else '?'}aid={aid}", **headers)
    assert response.status_code == 200, response.content
    return response


def _listed(person, aid: int) -> list[dict]:
    return _get(person, aid).json()["test"]


def _mark_stale(aid: int) -> None:
    """What is stored for the group replaced by a marker: a list served from storage shows it."""
    assert StoredTestList.objects.filter(account_group_id=aid).update(body=STALE) > 0


def _fresh(person, aid: int) -> list[dict]:
    """The list now, asserted to be what a list built from the tests' instances shows."""
    body = _listed(person, aid)
    assert body == _by_instances(access_for(person.user, aid))
    return body


@pytest.fixture
def ops(cast):
    """Ops with three tests, one created by the teammate; its list stored, then marked stale."""
    make_test(cast.owner, "agent-to-server", name="edge")
    make_test(cast.owner, "http-server", name="shop")
    make_test(cast.teammate, "dns-server", name="resolver")
    aid = cast.owner.aid
    _fresh(cast.owner, aid)
    _mark_stale(aid)
    return aid


def test_a_repeated_list_is_served_from_storage_without_reading_the_tests(cast, ops):
    with CaptureQueriesContext(connection) as queries:
        assert _get(cast.owner, ops).content == STALE.encode()
    assert not any("monitoring_test" in q["sql"] for q in queries.captured_queries)
    # The rate limit still counts it, and says so.
    first = int(_get(cast.owner, ops)["X-Organization-Rate-Limit-Remaining"])
    assert int(_get(cast.owner, ops)["X-Organization-Rate-Limit-Remaining"]) == first - 1


def _test(aid, name):
    return Test.objects.get(account_group_id=aid, name=name)


def _orm_save(cast, aid):
    test = _test(aid, "edge")
    test.name = "edge renamed"
    test.save()


def _update(cast, aid):
    Test.objects.filter(account_group_id=aid, name="shop").update(description="by update")


def _raw_sql(cast, aid):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE monitoring_test SET interval = 300 WHERE id = %s", [_test(aid, "edge").id])


def _api_update(cast, aid):
    test = _test(aid, "shop")
    response = cast.owner.client.post(
        f"/v6/tests/http-server/{test.id}/update.json?aid={aid}", {"testName": "shop 2"}, format="json"
    )
    assert response.status_code == 200, response.content


def _new_test(cast, aid):
    make_test(cast.owner, "agent-to-server", name="new one")


def _api_delete(cast, aid):
    test = _test(aid, "edge")
    response = cast.owner.client.post(f"/v6/tests/agent-to-server/{test.id}/delete.json?aid={aid}")
    assert response.status_code == 204, response.content


def _orm_delete(cast, aid):
    _test(aid, "shop").delete()


def _creator_renamed(cast, aid):
    User.objects.filter(id=cast.teammate.user.id).update(name="Tom <Renamed>")


def _creator_email_saved(cast, aid):
    user = User.objects.get(id=cast.teammate.user.id)
    user.email = "tom@acme.test"
    user.save()


def _editor_set(cast, aid):
    Test.objects.filter(account_group_id=aid, name="edge").update(modified_by=cast.teammate.user)


def _made_in(access, name):
    return tests_service.create_test(access, "agent-to-server", {"testName": name, "interval": 60, "server": "x:1"})


def _lab_share(cast, aid):
    lab = AccountGroup.objects.get(organization_id=AccountGroup.objects.get(id=aid).organization_id, name="Lab")
    in_lab = access_for(cast.owner.user, lab.id)
    theirs = _made_in(in_lab, "lab edge")
    return in_lab, theirs, live_shares.create(in_lab, theirs.id, aid=aid)


def _share_accepted(cast, aid):
    _, _, share = _lab_share(cast, aid)
    live_shares.accept(access_for(cast.owner.user, aid), share.id)


def _accepted_share(cast, aid):
    """A Lab test accepted in Ops, Ops's list then stored again and marked stale."""
    in_lab, theirs, share = _lab_share(cast, aid)
    live_shares.accept(access_for(cast.owner.user, aid), share.id)
    assert "lab edge" in [t["testName"] for t in _fresh(cast.owner, aid)]
    _mark_stale(aid)
    return in_lab, theirs, share


def _share_revoked(cast, aid):
    in_lab, _, share = _accepted_share(cast, aid)
    live_shares.revoke(in_lab, share.id)


def _share_dropped(cast, aid):
    _, _, share = _accepted_share(cast, aid)
    live_shares.drop(access_for(cast.owner.user, aid), share.id)


def _shared_test_changed_in_its_group(cast, aid):
    _, theirs, _ = _accepted_share(cast, aid)
    Test.objects.filter(id=theirs.id).update(name="lab edge renamed")


def _saved_event_made_a_link(cast, aid):
    snapshot = make_snapshot(cast.owner, _test(aid, "edge"), hours=1, is_public=False)
    assert any(t["savedEvent"] for t in _fresh(cast.owner, aid))
    _mark_stale(aid)
    Snapshot.objects.filter(id=snapshot.id).update(is_public=True)


def _new_base_url(cast, aid, settings):
    settings.BASE_URL = "https://spyglass.example.org"


def _new_release(cast, aid, monkeypatch):
    monkeypatch.setattr(stored_lists, "list_release", lambda: "0123456789ab")
    stored_lists._prefix.cache_clear()


WRITES = [
    _orm_save,
    _update,
    _raw_sql,
    _api_update,
    _new_test,
    _api_delete,
    _orm_delete,
    _creator_renamed,
    _creator_email_saved,
    _editor_set,
    _share_accepted,
    _share_revoked,
    _share_dropped,
    _shared_test_changed_in_its_group,
    _saved_event_made_a_link,
]


@pytest.mark.parametrize("write", WRITES, ids=[w.__name__.strip("_") for w in WRITES])
def test_each_write_path_gives_a_fresh_list(cast, ops, write):
    before = TestListVersion.objects.get(account_group_id=ops).version
    write(cast, ops)
    assert TestListVersion.objects.get(account_group_id=ops).version > before
    _fresh(cast.owner, ops)
    assert _get(cast.owner, ops).content != STALE.encode()


@pytest.fixture
def fresh_prefix():
    stored_lists._prefix.cache_clear()
    yield
    stored_lists._prefix.cache_clear()


def test_a_new_base_url_gives_fresh_links(cast, ops, settings, fresh_prefix):
    _new_base_url(cast, ops, settings)
    body = _fresh(cast.owner, ops)
    assert body[0]["apiLinks"][0]["href"].startswith("https://spyglass.example.org/v6/tests/")
    assert StoredTestList.objects.filter(account_group_id=ops).count() == 1  # the other base URL's went


def test_a_new_release_gives_a_fresh_list(cast, ops, monkeypatch, fresh_prefix):
    _new_release(cast, ops, monkeypatch)
    _fresh(cast.owner, ops)
    assert StoredTestList.objects.filter(account_group_id=ops, key__startswith="0123456789ab|").count() == 1
    assert StoredTestList.objects.filter(account_group_id=ops).count() == 1  # the old release's went


def test_the_release_is_the_digest_of_the_code_the_lists_views_reach():
    from spyglass.lib import release

    modules = release.view_modules(stored_lists.LIST_PATHS)
    assert modules == ["spyglass.api.views.tests"]
    reached = release.rendering_files(release.PACKAGE_DIR, modules)
    files = {str(p.relative_to(release.PACKAGE_DIR)) for p in reached if p.is_relative_to(release.PACKAGE_DIR)}
    assert {"api/representations.py", "api/formats.py", "api/test_settings.py", "lib/timefmt.py"} <= files
    assert {"monitoring/tests_service.py", "monitoring/catalogue.py", "accounts/models.py"} <= files
    assert "bench/rows.py" not in files and "cli/main.py" not in files


def test_writes_elsewhere_leave_a_list_stored(cast, ops):
    dev = cast.other_group.aid
    make_test(cast.other_group, "agent-to-server", name="dev edge")
    Test.objects.filter(account_group_id=dev).update(description="elsewhere")
    User.objects.filter(id=cast.regular.user.id).update(name="Rita R.")  # created nothing
    assert _get(cast.owner, ops).content == STALE.encode()


def test_two_groups_never_see_each_others_stored_list(cast, ops):
    lab = AccountGroup.objects.get(organization_id=AccountGroup.objects.get(id=ops).organization_id, name="Lab")
    _made_in(access_for(cast.owner.user, lab.id), "only in lab")
    assert [t["testName"] for t in _fresh(cast.owner, lab.id)] == ["only in lab"]
    assert _get(cast.owner, ops).content == STALE.encode()  # Ops's own, still stored
    _mark_stale(lab.id)
    StoredTestList.objects.filter(account_group_id=ops).delete()
    assert "only in lab" not in [t["testName"] for t in _fresh(cast.owner, ops)]
    # Another organization's group, with the same tests' names, has its own.
    make_test(cast.other_org, "agent-to-server", name="edge")
    assert [t["testName"] for t in _fresh(cast.other_org, cast.other_org.aid)] == ["edge"]


def test_json_and_xml_are_each_stored_and_right(cast, ops):
    StoredTestList.objects.filter(account_group_id=ops).delete()
    expected = _by_instances(access_for(cast.owner.user, ops))
    xml = V6XMLRenderer().render({"test": expected}, "text/xml")
    asked = [
        ("tests.json", {}),
        ("tests.xml", {}),
        ("tests", {"HTTP_ACCEPT": "application/xml"}),
        ("tests?format=xml", {}),
        ("tests", {"HTTP_ACCEPT": "application/json"}),
    ]
    answered = {}
    for _ in range(2):  # built, then stored
        for path, headers in asked:
            response = _get(cast.owner, ops, path, **headers)
            # The same headers whether built or stored (but the rate counter's, which counts each request).
            shown = {k: v for k, v in response.headers.items() if not k.startswith("X-Organization-Rate")}
            assert answered.setdefault(path + str(headers), shown) == shown
            if "xml" in path or "xml" in headers.get("HTTP_ACCEPT", ""):
                assert response["Content-Type"] == "text/xml; charset=utf-8"
                assert response.content.decode() == xml
            else:
                assert response["Content-Type"] == "application/json"
                assert response.json()["test"] == expected
    assert StoredTestList.objects.filter(account_group_id=ops).count() == 2
    typed = _get(cast.owner, ops, "tests/http-server.xml")
    assert typed.content.decode() == V6XMLRenderer().render(
        {"test": [t for t in expected if t["type"] == "http-server"]}, "text/xml"
    )


def test_an_outside_share_gives_the_recipient_organizations_groups_a_fresh_list(cast, ops):
    globex = cast.other_org
    make_test(globex, "agent-to-server", name="globex edge")
    _fresh(globex, globex.aid)
    _mark_stale(globex.aid)
    share = live_shares.create(access_for(cast.teammate.user, ops), _test(ops, "edge").id, email=globex.user.email)
    live_shares.accept(access_for(globex.user, globex.aid), share.id)
    assert "edge" in [t["testName"] for t in _fresh(globex, globex.aid)]
    _mark_stale(globex.aid)
    Test.objects.filter(id=share.test_id).update(name="edge, renamed at Acme")  # in the sharer's organization
    assert "edge, renamed at Acme" in [t["testName"] for t in _fresh(globex, globex.aid)]
    _mark_stale(globex.aid)
    # A group that moves to another organization sees what is shared with that one instead.
    acme = AccountGroup.objects.get(id=ops).organization_id
    AccountGroup.objects.filter(id=globex.aid).update(organization_id=acme)
    assert "edge, renamed at Acme" not in [t["testName"] for t in _fresh(globex, globex.aid)]


def test_every_trigger_that_keeps_lists_fresh_is_in_the_migrated_database(db):
    """On SQLite a later migration that rebuilds a table drops the triggers on it without a word (api migration 0001's
    SQLite hazard): the migrated database must still hold every one of them."""
    migration = importlib.import_module("spyglass.api.migrations.0001_stored_test_lists")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'api_list_%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'api_list_%'")
        found = {name for (name,) in cursor.fetchall()}
    assert found == set(migration.SQLITE_TRIGGERS)
