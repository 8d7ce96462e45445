"""The production shape: several app processes on one PostgreSQL database. The creation limit is exact under
concurrent requests, revocation through one process is seen by the other at once, no visit is lost, and the worker
started by `spyglass serve` delivers the e-mails."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings

from spyglass.sharing.models import Snapshot, SnapshotCreation, SnapshotVisit
from tests.appservers import AppServer
from tests.conftest import make_test
from tests.smtp import SmtpServer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="several app processes need the PostgreSQL run (scripts/test.sh runs it)",
    ),
]

BODY = {"displayName": "incident", "from": "2026-11-22 08:00:00", "to": "2026-11-22 09:00:00", "isPublic": 1}


@pytest.fixture
def servers(tmp_path):
    started = [AppServer(tmp_path / "a"), AppServer(tmp_path / "b")]
    try:
        yield [server.wait_ready() for server in started]
    finally:
        for server in started:
            server.stop()


def auth(person):
    return (person.user.email, person.token)


def test_exactly_the_limit_succeeds_under_concurrent_requests_on_two_processes(cast, servers):
    test = make_test(cast.owner, name="busy")
    body = {**BODY, "testId": test.id}

    def create(i):
        server = servers[i % 2]
        return httpx.post(f"{server.url}/v6/snapshot.json", json=body, auth=auth(cast.owner), timeout=60)

    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(create, range(50)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 5, codes  # 5 per 5 minutes
    assert codes.count(429) == 45
    refused = next(r for r in responses if r.status_code == 429)
    assert "limit" in refused.json()["errorMessage"] and int(refused.headers["Retry-After"]) > 0
    assert Snapshot.objects.count() == SnapshotCreation.objects.count() == 5
    served_by = {r.url.port for r in responses if r.status_code == 201}
    assert served_by  # successes may come from either process; the count is what matters


def test_revocation_through_one_process_is_seen_by_the_other_at_once(cast, servers):
    test = make_test(cast.owner, name="revoked")
    a, b = servers
    created = httpx.post(f"{a.url}/v6/snapshot.json", json={**BODY, "testId": test.id}, auth=auth(cast.owner))
    link_id = created.json()["link"]["linkId"]
    assert httpx.get(f"{b.url}/s/{link_id}/").status_code == 200
    assert httpx.get(f"{b.url}/s/{link_id}/").status_code == 200  # a warm process, if it cached, would keep it
    deleted = httpx.post(f"{a.url}/v6/snapshots/{link_id}/delete.json", auth=auth(cast.owner))
    assert deleted.status_code == 204
    assert httpx.get(f"{b.url}/s/{link_id}/").status_code == 404
    assert httpx.get(f"{b.url}/s/{link_id}/download.json").status_code == 404


def test_no_visit_is_lost_under_concurrent_views_on_two_processes(cast, servers):
    test = make_test(cast.owner, name="popular")
    created = httpx.post(f"{servers[0].url}/v6/snapshot.json", json={**BODY, "testId": test.id}, auth=auth(cast.owner))
    link_id = created.json()["link"]["linkId"]
    views = 300

    def view(i):
        return httpx.get(f"{servers[i % 2].url}/s/{link_id}/", timeout=60).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(view, range(views)))
    assert codes.count(200) == views
    assert SnapshotVisit.objects.filter(snapshot__link_id=link_id).count() == views
    listed = httpx.get(f"{servers[1].url}/v6/snapshots.json", auth=auth(cast.owner)).json()["snapshot"]
    assert listed[0]["visits"] == views


def test_the_worker_started_by_serve_delivers_share_emails(cast, tmp_path):
    smtp = SmtpServer().start()
    server = AppServer(tmp_path / "w", worker=True, extra_env={"SPYGLASS_EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}"})
    try:
        server.wait_ready()
        test = make_test(cast.owner, name="mailed")
        body = {**BODY, "testId": test.id, "recipients": ["noc@provider.test"], "note": "see the loss"}
        created = httpx.post(f"{server.url}/v6/snapshot.json", json=body, auth=auth(cast.owner))
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 30
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.2)
        [message] = smtp.messages
        assert message["To"] == "noc@provider.test"
        assert created.json()["link"]["viewUrl"] in message.get_body(("plain",)).get_content()
    finally:
        server.stop()
        smtp.stop()


def test_a_page_stored_by_one_process_is_served_by_the_other(cast, tmp_path):
    """The stored page lives in the database: what process A rendered, process B serves (same configuration, as
    behind one load balancer), with its own visit counted and revocation still immediate."""
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from spyglass.sharing.models import SnapshotRender, SnapshotRollup

    same = {"SPYGLASS_BASE_URL": "https://spyglass.example.com"}
    started = [AppServer(tmp_path / "a", extra_env=same), AppServer(tmp_path / "b", extra_env=same)]
    try:
        a, b = [server.wait_ready() for server in started]
        test = make_test(cast.owner, name="shared")
        created = httpx.post(f"{a.url}/v6/snapshot.json", json={**BODY, "testId": test.id}, auth=auth(cast.owner))
        link_id = created.json()["link"]["linkId"]
        assert httpx.get(f"{a.url}/s/{link_id}/").status_code == 200
        renders = SnapshotRender.objects.filter(snapshot__link_id=link_id)
        assert renders.count() == 1 and SnapshotRollup.objects.filter(snapshot__link_id=link_id).count() == 1
        renders.update(html=Concat(F("html"), Value("<!--rendered by process a-->")))
        page = httpx.get(f"{b.url}/s/{link_id}/")
        assert page.status_code == 200 and "<!--rendered by process a-->" in page.text
        assert '<dd class="visits">2</dd>' in page.text and renders.count() == 1
        assert SnapshotVisit.objects.filter(snapshot__link_id=link_id).count() == 2
        assert httpx.post(f"{a.url}/v6/snapshots/{link_id}/delete.json", auth=auth(cast.owner)).status_code == 204
        assert httpx.get(f"{b.url}/s/{link_id}/").status_code == 404
    finally:
        for server in started:
            server.stop()


def test_revoking_a_live_share_through_one_process_ends_the_recipients_snapshot_on_the_other(cast, servers):
    """The recipient's snapshot of a live-shared test dies with the share: from the moment the revocation returns on
    one process, the other answers 404 for its page and downloads."""
    from spyglass.accounts.roles import access_for
    from spyglass.liveshares import services as live_shares
    from spyglass.liveshares.models import LiveShare

    test = make_test(cast.owner, name="shared live")
    share = live_shares.create(access_for(cast.teammate.user, None), test.id, email=cast.other_org.user.email)
    LiveShare.objects.filter(id=share.id).update(start_round=0)  # shared long before the window
    a, b = servers
    accepted = httpx.post(f"{b.url}/v6/live-shares/{share.id}/accept.json", auth=auth(cast.other_org))
    assert accepted.status_code == 200, accepted.text
    created = httpx.post(f"{b.url}/v6/snapshot.json", json={**BODY, "testId": test.id}, auth=auth(cast.other_org))
    assert created.status_code == 201, created.text
    link_id = created.json()["link"]["linkId"]
    assert httpx.get(f"{a.url}/s/{link_id}/download.json").status_code == 200
    assert httpx.get(f"{b.url}/s/{link_id}/").status_code == 200  # a warm process, if it cached, would keep it

    assert httpx.post(f"{a.url}/v6/live-shares/{share.id}/delete.json", auth=auth(cast.teammate)).status_code == 204
    for suffix in ("", "download.json", "download.csv"):
        assert httpx.get(f"{b.url}/s/{link_id}/{suffix}").status_code == 404, suffix
    assert httpx.get(f"{b.url}/v6/snapshots/{link_id}.json", auth=auth(cast.other_org)).status_code == 404
