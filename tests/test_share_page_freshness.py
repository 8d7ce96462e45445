"""A stored share page is served only while what it shows is unchanged: every write path that changes something the
page shows (an agent's name or location, the creator's name, the snapshot's or its test's fields — by ORM save,
QuerySet.update or raw SQL) and a new release (code, templates, static files or settings the page is made of) give
a fresh page; what cannot change a frozen page (re-imports, retention, heartbeats, sign-ins) leaves it served from
storage."""

import json
import shutil
import time

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from spyglass.accounts.models import User
from spyglass.lib import release
from spyglass.monitoring.models import Agent, RetentionPin
from spyglass.monitoring.retention import purge_old_results
from spyglass.sharing import stored, views
from spyglass.sharing.models import Snapshot, SnapshotRender
from tests.test_import import run_import
from tests.test_share_page_stored import ROUND, fresh_component, get, snapshot_of

STALE = "<p>stale stored page</p>"


def served(snapshot, query="") -> str:
    return get(Client(), snapshot, query).content.decode()


def stored_then_marked(snapshot) -> None:
    """View the page so that it is stored, then mark the stored copy: a page containing the mark came from storage."""
    served(snapshot)
    assert SnapshotRender.objects.filter(snapshot=snapshot).update(html=STALE) == 1
    assert served(snapshot) == STALE


def first_agent(snapshot) -> Agent:
    return Agent.objects.filter(tests=snapshot.source_test).order_by("name").first()


def test_an_agent_renamed_or_moved_by_any_write_path_shows_on_the_page(cast):
    snapshot = snapshot_of(cast)
    agent = first_agent(snapshot)

    stored_then_marked(snapshot)
    Agent.objects.filter(id=agent.id).update(name="Renamed by update")  # no signal is sent
    html = served(snapshot)
    assert STALE not in html and "Renamed by update" in html and fresh_component(snapshot) in html

    stored_then_marked(snapshot)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Agent._meta.db_table} SET name = %s WHERE id = %s", ["Renamed in SQL", agent.id])
    assert "Renamed in SQL" in served(snapshot)

    round_panel = f"?roundId={ROUND}"
    served(snapshot, round_panel)
    Agent.objects.filter(id=agent.id).update(location="Moved <city>", country_id="NZ")
    html = served(snapshot, round_panel)
    assert "Moved &lt;city&gt;" in html and "NZ" in html and fresh_component(snapshot, round_panel) in html


def test_a_page_rendered_before_a_change_and_stored_after_it_is_never_served(cast):
    snapshot = snapshot_of(cast)
    read_before = Snapshot.objects.select_related("test").get(id=snapshot.id)  # as a view's lookup read it
    rows = views.results_scope(read_before).rows
    Agent.objects.filter(id=first_agent(snapshot).id).update(name="Renamed meanwhile")
    key = stored.request_key(RequestFactory().get(f"/s/{snapshot.link_id}/"), "page")
    stored.store_component(read_before, key, STALE, rows)  # that view stores what it rendered, after the rename
    html = served(snapshot)
    assert STALE not in html and "Renamed meanwhile" in html


def test_an_agent_deleted_by_queryset_leaves_the_page_rollups_and_summary(cast):
    snapshot = snapshot_of(cast)
    before = served(snapshot)
    assert "(3 agents)" in before
    agent = first_agent(snapshot)
    Agent.objects.filter(id=agent.id).delete()  # its result rows go with it, inside the frozen window too
    html = served(snapshot)
    assert agent.name not in html and "(2 agents)" in html and fresh_component(snapshot) in html


def test_the_creator_renamed_by_queryset_update_shows_on_the_page(cast):
    snapshot = snapshot_of(cast)
    stored_then_marked(snapshot)
    User.objects.filter(id=snapshot.created_by_id).update(name="Renamed <creator>")
    assert '<dd class="creator">Renamed &lt;creator&gt;</dd>' in served(snapshot)


def test_the_snapshot_and_its_test_changed_by_queryset_update_show_on_the_page(cast):
    snapshot = snapshot_of(cast)
    stored_then_marked(snapshot)
    Snapshot.objects.filter(id=snapshot.id).update(display_name="new <name>", note="a note", show_note=True)
    html = served(snapshot)
    assert "new &lt;name&gt;" in html and '<p class="note">a note</p>' in html

    stored_then_marked(snapshot)
    type(snapshot.test).objects.filter(id=snapshot.test_id).update(name="frozen copy <renamed>")
    assert "Snapshot of frozen copy &lt;renamed&gt; (agent-to-server)" in served(snapshot)


def test_what_cannot_change_a_frozen_page_leaves_it_served_from_storage(cast, tmp_path):
    snapshot = snapshot_of(cast)
    stored_then_marked(snapshot)
    # A heartbeat and a sign-in write the agent's and the creator's rows, but nothing the page shows.
    Agent.objects.filter(id=first_agent(snapshot).id).update(last_seen="2026-11-22T09:00:00Z", version="9.9")
    User.objects.filter(id=snapshot.created_by_id).update(last_login="2026-11-22T09:00:00Z")
    # A visit and a comment are put into the stored page per request.
    assert served(snapshot) == STALE

    # Re-importing the window with other values: the snapshot keeps the rows as they were when frozen.
    source = snapshot.source_test
    window = {"from": "2026-11-22 08:00:00", "to": "2026-11-22 10:00:00", "aid": source.account_group_id}
    body = cast.owner.client.get(f"/v6/net/metrics/{source.id}.json", window).json()
    assert body["net"]["metrics"]
    for row in body["net"]["metrics"]:
        row["avgLatency"] = 987.5
        row.pop("permalink", None)
    path = tmp_path / "window.json"
    path.write_text(json.dumps(body))
    assert run_import(source, path) == 0
    assert RetentionPin.objects.filter(copy_to=snapshot.test, has_copies=True).exists()  # rows were replaced
    assert served(snapshot) == STALE

    # Retention purging everything it may: the snapshot's window is pinned.
    assert purge_old_results(now=time.time(), days=1) > 0
    assert served(snapshot) == STALE

    # And what is stored is what a fresh render shows now.
    SnapshotRender.objects.filter(snapshot=snapshot).delete()
    html = served(snapshot)
    assert fresh_component(snapshot) in html and "987.5" not in html


@pytest.fixture
def next_release():
    """Lets a test start "a new release" in this process: release.current is computed again on next use, and again
    after the test (as the process that follows an upgrade or a change of settings would)."""
    release.current.cache_clear()
    yield
    release.current.cache_clear()


def test_a_new_release_renders_the_page_again(cast, settings, next_release):
    snapshot = snapshot_of(cast)
    stored_then_marked(snapshot)
    settings.BASE_URL = "https://spyglass.example.org"  # a restart with another address
    release.current.cache_clear()
    html = served(snapshot)
    assert STALE not in html
    assert f'content="https://spyglass.example.org/s/{snapshot.link_id}/"' in html
    assert SnapshotRender.objects.filter(snapshot=snapshot).count() == 1  # the old release's render is gone


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    copy = tmp_path_factory.mktemp("release") / "spyglass"
    shutil.copytree(release.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


# Files a share page is made of, some that an earlier hand-kept list missed (the page's own context and summary, the
# link's address, the View definitions), and files of rooms the page never reaches.
SHOWN = [
    "sharing/views.py",
    "sharing/summary.py",
    "sharing/links.py",
    "sharing/templates/sharing/share_page.html",
    "sharing/static/sharing/share.css",
    "results_ui/templates/results_ui/_round_panel.html",
    "results_ui/component.py",
    "web/static/web/results.js",
    "web/static/web/app.css",
    "monitoring/timeline.py",
    "lib/timefmt.py",
]
NOT_SHOWN = ["api/views/tests.py", "bench/rows.py", "cli/main.py", "dashboards/services.py"]


@pytest.mark.parametrize("name", SHOWN + NOT_SHOWN)
def test_the_release_digest_covers_every_file_the_page_is_made_of_and_no_other(package_copy, name):
    start = release.share_page_modules()
    before = release.fingerprint(package_copy, start)
    path = package_copy / name
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n")
        changed = release.fingerprint(package_copy, start) != before
    finally:
        path.write_bytes(original)
    assert changed == (name in SHOWN)
