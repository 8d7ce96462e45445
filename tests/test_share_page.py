"""The share link page /s/<linkId>/: what a stranger with the link sees, visits, comments, downloads, refusals."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.db.models import Avg
from django.test import Client
from django.utils import timezone

from spyglass.mail.models import OutboxMessage
from spyglass.monitoring.models import NetResult
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot, SnapshotVisit
from tests.conftest import make_snapshot, make_test

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC


def page(client, snapshot, suffix=""):
    return client.get(f"/s/{snapshot.link_id}/{suffix}", REMOTE_ADDR="198.51.100.4")


def shared(cast, **options):
    test = make_test(cast.owner, "http-server", name=options.pop("name", "shop <web>"), interval=60)
    seed(test, agents=3, hours=8, random_seed=11, now=ROUND + 4 * 3600)
    options.setdefault("display_name", "Checkout outage")
    options.setdefault("comments_signed_in_only", False)  # guests comment here (new snapshots default to users only)
    return make_snapshot(cast.owner, test, hours=6, anchor=ROUND, position="around", **options)


def test_a_stranger_sees_the_window_with_snapshot_date_summary_and_safe_headers(cast):
    snapshot = shared(cast)
    response = page(Client(), snapshot)
    assert response.status_code == 200
    html = response.content.decode()
    assert "around 2026-11-22 09:00 UTC" in html
    assert "2026-11-22 06:00:00 to 2026-11-22 12:00:00 UTC" in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Cache-Control"] == "private, no-store"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # No inline script at all: every script element loads a file from our own origin, nothing carries a handler.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(re.search(r' src="/static/', tag) for tag in scripts)
    assert "></script>" in html and not re.search(r"<script[^>]*>[^<]", html)
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html and "<style" not in html
    expected = NetResult.objects.filter(
        test=snapshot.source_test, round_id__gte=snapshot.start_round, round_id__lte=snapshot.end_round
    ).aggregate(loss=Avg("loss"), latency=Avg("avg_latency"))
    summary = f"avg loss {expected['loss']:.1f}%, avg latency {expected['latency']:.1f} ms"
    assert '<meta property="og:title" content="Checkout outage — shop &lt;web&gt;">' in html
    assert summary in html and 'property="og:description"' in html
    assert "(3 agents)" in html
    assert f'data-round-id="{ROUND}"' in html and 'data-position="around"' in html


def test_every_view_is_counted_with_time_ip_and_signed_in_user(cast):
    snapshot = shared(cast)
    anonymous = Client()
    for _ in range(3):
        assert page(anonymous, snapshot).status_code == 200
    member = Client()
    member.force_login(cast.teammate.user)
    page(member, snapshot)
    assert SnapshotVisit.objects.filter(snapshot=snapshot).count() == 4
    detail = cast.owner.client.get(f"/v6/snapshots/{snapshot.link_id}.json").json()["snapshot"][0]
    assert detail["visits"] == 4
    assert detail["recentVisits"][0]["user"] == "Tom Mate (mate@acme.test)"
    assert detail["recentVisits"][0]["ip"] == "198.51.100.4" and detail["recentVisits"][-1]["user"] is None
    page(anonymous, snapshot, "download.json")  # downloads are not page views
    assert cast.owner.client.get("/v6/snapshots.json").json()["snapshot"][0]["visits"] == 4


SAFE_HEADERS = ("Referrer-Policy", "X-Robots-Tag", "Cache-Control", "Content-Security-Policy")


def test_head_is_answered_as_get_with_the_same_safe_headers_and_counts_no_visit(cast):
    snapshot = shared(cast)
    client = Client()
    for suffix in ("", "results"):
        got = page(client, snapshot, suffix)
        head = client.head(f"/s/{snapshot.link_id}/{suffix}", REMOTE_ADDR="198.51.100.4")
        assert (head.status_code, got.status_code) == (200, 200)
        assert {h: head.get(h) for h in SAFE_HEADERS} == {h: got.get(h) for h in SAFE_HEADERS}
        assert head["Referrer-Policy"] == "no-referrer" and head["Cache-Control"] == "private, no-store"
        assert "noindex" in head["X-Robots-Tag"] and head.content == b""
    assert SnapshotVisit.objects.filter(snapshot=snapshot).count() == 1  # the GET of the page, not the HEAD
    # Refusals and methods a link does not take carry them too.
    unknown = client.head(f"/s/{'a' * 32}/")
    download = client.head(f"/s/{snapshot.link_id}/download.json")
    Snapshot.objects.filter(id=snapshot.id).update(expires_date=timezone.now() - timedelta(minutes=1))
    expired = client.head(f"/s/{snapshot.link_id}/")
    for response, status in ((unknown, 404), (download, 405), (expired, 410)):
        assert response.status_code == status
        assert response["Referrer-Policy"] == "no-referrer" and response["Cache-Control"] == "private, no-store"
        assert "noindex" in response["X-Robots-Tag"]


def test_a_revoked_link_is_404_at_once(cast):
    snapshot = shared(cast)
    client = Client()
    assert page(client, snapshot).status_code == 200
    assert cast.owner.client.post(f"/v6/snapshots/{snapshot.link_id}/delete.json").status_code == 204
    for suffix in ("", "download.json", "download.csv"):
        assert page(client, snapshot, suffix).status_code == 404


def test_an_expired_link_is_410_with_a_page_saying_so(cast):
    snapshot = shared(cast)
    Snapshot.objects.filter(id=snapshot.id).update(expires_date=timezone.now() - timedelta(minutes=1))
    response = page(Client(), snapshot)
    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert page(Client(), snapshot, "download.json").status_code == 410
    assert not SnapshotVisit.objects.filter(snapshot=snapshot).exists()  # a page not shown is not a visit


def test_a_saved_event_is_only_for_signed_in_members_of_the_account_group(cast):
    snapshot = shared(cast, is_public=False)
    assert page(Client(), snapshot).status_code == 404
    for person, status in ((cast.other_org, 404), (cast.other_group, 404), (cast.regular, 200), (cast.owner, 200)):
        client = Client()
        client.force_login(person.user)
        assert page(client, snapshot).status_code == status, person.user.email
    # Only the views that were served count, each with its member (the refusals are not visits).
    visitors = SnapshotVisit.objects.filter(snapshot=snapshot).values_list("user_id", flat=True)
    assert sorted(visitors) == sorted([cast.regular.user.id, cast.owner.user.id])


def test_visitors_comment_with_a_name_and_see_it_escaped(cast):
    snapshot = shared(cast)
    client = Client()
    html = page(client, snapshot).content.decode()
    token = html.split('name="token" value="')[1].split('"')[0]
    url = f"/s/{snapshot.link_id}/comments"
    nameless = client.post(url, {"token": token, "body": "hello"}, REMOTE_ADDR="198.51.100.9")
    assert nameless.status_code == 400 and "name: is required" in nameless.content.decode()
    evil = '<script>alert("x")</script>'
    posted = client.post(url, {"token": token, "name": evil, "body": f"Same here {evil}"}, REMOTE_ADDR="198.51.100.9")
    assert posted.status_code == 303 and posted["Location"].endswith(f"/s/{snapshot.link_id}/#comments")
    html = page(client, snapshot).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert OutboxMessage.objects.filter(kind="snapshot-comment", to=["owner@acme.test"]).count() == 1


def test_signed_in_users_comment_as_themselves_and_the_restriction_keeps_visitors_out(cast):
    snapshot = shared(cast, comments_signed_in_only=True)
    visitor = Client()
    html = page(visitor, snapshot).content.decode()
    assert "Only signed-in users may comment" in html and "<textarea" not in html
    token = html.split('name="token" value="')[1].split('"')[0] if 'name="token"' in html else ""
    from django.core import signing

    token = signing.dumps(snapshot.link_id, salt="spyglass.sharing.comment")
    refused = visitor.post(f"/s/{snapshot.link_id}/comments", {"token": token, "name": "Pat", "body": "hi"})
    assert refused.status_code == 403
    member = Client()
    member.force_login(cast.other_org.user)
    assert member.post(f"/s/{snapshot.link_id}/comments", {"token": token, "body": "from Globex"}).status_code == 303
    comments = cast.owner.client.get(f"/v6/snapshots/{snapshot.link_id}.json").json()["snapshot"][0]["comments"]
    assert [(c["author"], c["body"]) for c in comments] == [("Orla Other", "from Globex")]


def test_comment_posting_is_limited_per_ip_and_needs_the_page_token(cast, settings):
    settings.COMMENT_LIMIT_PER_HOUR = 2
    snapshot = shared(cast)
    client = Client()
    url = f"/s/{snapshot.link_id}/comments"
    assert client.post(url, {"token": "forged", "name": "a", "body": "b"}).status_code == 400
    from django.core import signing

    token = signing.dumps(snapshot.link_id, salt="spyglass.sharing.comment")
    codes = [client.post(url, {"token": token, "name": "a", "body": f"b{i}"}).status_code for i in range(3)]
    assert codes == [303, 303, 429]
    assert client.post(url, {"token": token, "name": "a", "body": "c"}, REMOTE_ADDR="203.0.113.1").status_code == 303


def test_downloads_hold_the_window_and_nothing_else(cast):
    test = make_test(cast.owner, "http-server", name="shop", interval=60)
    seed(test, agents=3, hours=8, random_seed=11, now=ROUND + 4 * 3600)
    keep = sorted(test.agents.values_list("id", flat=True))[:2]
    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=ROUND, agent_ids=keep, display_name="s")
    client = Client()
    body = json.loads(b"".join(page(client, snapshot, "download.json").streaming_content))
    net, http = body["net"]["metrics"], body["web"]["httpServer"]
    assert len(net) == len(http) == 61 * 2
    assert {r["agentId"] for r in net + http} == set(keep)
    assert all(ROUND <= r["roundId"] <= ROUND + 3600 for r in net + http)
    assert "permalink" not in net[0]
    response = page(client, snapshot, "download.csv")
    assert response["Content-Type"].startswith("text/csv") and response["Cache-Control"] == "private, no-store"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 61 * 2 and {"roundId", "agentName", "responseCode", "totalTime"} <= set(rows[0])
    net_csv = page(client, snapshot, "download.csv?kind=net")
    assert len(list(csv.DictReader(io.StringIO(b"".join(net_csv.streaming_content).decode())))) == 61 * 2
    assert page(client, snapshot, "download.csv?kind=dns").status_code == 400


def test_malformed_ids_are_404_and_too_many_misses_are_429(cast, settings):
    settings.SHARE_MISS_LIMIT_PER_MINUTE = 5
    client = Client()
    paths = [
        "/s/",
        "/s//",
        "/s/x/",
        "/s/%00/",
        "/s/..%2F/",
        "/s/:key/",
        "/s/" + "é" * 32 + "/",
        "/s/" + "A" * 300 + "/",
    ]
    codes = [client.get(p, REMOTE_ADDR="192.0.2.50").status_code for p in paths]
    assert all(code in (404, 429) for code in codes), codes
    assert codes[:5] == [404] * 5 and codes[-1] == 429
    assert client.get("/s/x/", REMOTE_ADDR="192.0.2.51").status_code == 404  # another address is not affected


def test_a_separate_share_domain_serves_the_link_at_its_root(cast, settings):
    settings.SHARE_URL_TEMPLATE = "https://{linkId}.share.example.com/"
    settings.ALLOWED_HOSTS = [".share.example.com", "testserver"]
    snapshot = shared(cast)
    detail = cast.owner.client.get(f"/v6/snapshots/{snapshot.link_id}.json").json()["snapshot"][0]
    assert detail["viewUrl"] == f"https://{snapshot.link_id}.share.example.com/"
    client = Client()
    response = client.get("/", HTTP_HOST=f"{snapshot.link_id}.share.example.com", secure=True)
    assert response.status_code == 200 and "Checkout outage" in response.content.decode()
    download = client.get("/download.json", HTTP_HOST=f"{snapshot.link_id}.share.example.com", secure=True)
    assert download.status_code == 200


@pytest.mark.slow
def test_ten_thousand_random_and_malformed_ids_never_match_and_never_fail(cast, settings):
    """Every id through the matching function, the share page and the snapshot API: none matches, none is a 5xx."""
    import random
    import string
    from urllib.parse import quote

    from spyglass.sharing import links

    settings.SHARE_MISS_LIMIT_PER_MINUTE = 10**6
    settings.API_RATE_LIMIT_PER_MINUTE = 10**6
    snapshot = shared(cast)
    rng = random.Random(8)
    alphabet = string.ascii_letters + string.digits + "-_.:%/é\u202e\x00 '\"<>\\"
    ids = ["", " ", ":key", "..", "../..", "%2e%2e", "a" * 5000, "é" * 1000, "\U0001f600" * 64]
    ids += [snapshot.link_id.upper(), snapshot.link_id[:-1], snapshot.link_id + "a", f"{snapshot.link_id}:key"]
    ids += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(7500)]
    ids += [links.new_link_id() for _ in range(10_000 - len(ids))]
    assert len(ids) == 10_000
    assert all(links.find_snapshot(i) is None for i in ids)
    client = Client()
    for link_id in ids:
        response = client.get(f"/s/{link_id}/")
        assert response.status_code in (404, 400), (link_id, response.status_code)
    for link_id in ids[::10]:  # a tenth through the API: authentication makes each request dearer
        response = cast.owner.client.get(f"/v6/snapshots/{quote(link_id, safe='')}.json")
        assert response.status_code in (404, 400), (link_id, response.status_code)


def test_the_list_costs_the_same_queries_for_one_or_many_snapshots(cast, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SNAPSHOT_RATE = [(100, 60)]
    test = make_test(cast.owner, name="many")

    def list_queries():
        with CaptureQueriesContext(connection) as captured:
            assert cast.owner.client.get("/v6/snapshots.json").status_code == 200
        return len(captured)

    make_snapshot(cast.owner, test, hours=1, anchor=ROUND)
    one = list_queries()
    for i in range(6):
        make_snapshot(cast.owner, test, hours=1, anchor=ROUND + i * 3600)
    assert list_queries() == one
