"""Dashboard snapshots shared as test snapshots are (issue 23): comments by the same rules with the creator e-mailed,
recipients with a note, JSON and CSV per widget, the share pages' headers and Open Graph preview, anonymized
snapshots that name no agent and give no address anywhere, rows rewritten after the freeze, and v6's live data and
deletion of dashboards."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.core import signing
from django.test import Client

from spyglass.dashboards import services as dashboards
from spyglass.lib.timefmt import format_v6_date
from spyglass.mail.models import OutboxMessage
from spyglass.monitoring.models import Agent, NetResult, Test
from spyglass.sharing import dashboard_snapshots, links
from spyglass.sharing.models import DashboardSnapshot, DashboardSnapshotComment, DashboardSnapshotRecipient
from spyglass.sharing.views import FORM_SALT
from tests.dashboard_support import NOW, build_board
from tests.liveshares.conftest import write_net_rounds
from tests.web_support import signed_in

# What an anonymized snapshot must never show: agents' names, hostnames and addresses (internal and public).
SECRETS = {
    "core-fra-01": ("10.20.30.41", "203.0.113.41", "fra01.corp.internal"),
    "core-ams-02": ("10.20.30.42", "203.0.113.42", "ams02.corp.internal"),
    "ops-edge-nyc": ("172.16.5.9", "198.51.100.9", "nyc.ops.internal"),
}


@pytest.fixture
def board(cast, dev, time_machine):
    """Dev's dashboard: its own test's latency (1 h) and loss (24 h) from two agents, and Ops' test, live-shared
    with Dev 10 minutes ago, from one agent of Ops'; every agent with internal and public addresses and a host."""
    latency = {"core-fra-01": 10.0, "core-ams-02": 30.0, "ops-edge-nyc": 50.0}
    specs = [
        (
            "shared" if name.startswith("ops") else "own",
            name,
            latency[name],
            {"ip_addresses": [internal], "public_ip_addresses": [public], "hostname": host, "location": name},
        )
        for name, (internal, public, host) in SECRETS.items()
    ]
    widgets = [("own", "latency", 3600), ("own", "loss", 24 * 3600), ("shared", "latency", 3600)]
    dashboard, own, shared, share = build_board(cast, dev, time_machine, widgets, agents=specs)
    agents = {agent.name: agent for agent in Agent.objects.filter(name__in=SECRETS)}
    return dashboard, own, shared, share, agents


def _values(items):
    return [[(p["roundId"], p["value"]) for p in item["data"]] for item in items]


def _widgets_html(page: str) -> str:
    return page[page.index('<ol class="widgets"') : page.index("</ol>")]


def _field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def _create_in_web(client, **fields):
    data = {"window": "0", "expiry": "7", "idempotency_key": "k" * 20} | fields
    return client.post("/dashboard/snapshots/", data)


# --- comments ------------------------------------------------------------------------------------------------------


def test_comments_are_signed_in_only_by_default_and_the_creator_is_emailed(cast, dev, board):
    dashboard, *_ = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, display_name="Dev weekly")
    url = f"/s/d/{snapshot.link_id}/"
    guest = Client()
    html = guest.get(url).content.decode()
    assert "Only signed-in users may comment on this snapshot." in html and 'name="body"' not in html
    token = signing.dumps(snapshot.link_id, salt=FORM_SALT)  # what an open form would carry
    refused = guest.post(f"{url}comments", {"token": token, "name": "Eve", "body": "hi"})
    assert refused.status_code == 403 and refused["Referrer-Policy"] == "no-referrer"
    assert not DashboardSnapshotComment.objects.exists()

    visitor = Client(enforce_csrf_checks=True)  # Django's CSRF check runs as for a real browser
    visitor.force_login(cast.owner.user)
    html = visitor.get(url).content.decode()
    form = {"token": _field(html, "token"), "csrfmiddlewaretoken": _field(html, "csrfmiddlewaretoken"), "body": "ok"}
    forged = visitor.post(f"{url}comments", form, HTTP_ORIGIN="http://evil.testserver")
    assert forged.status_code == 403 and not DashboardSnapshotComment.objects.exists()
    posted = visitor.post(f"{url}comments", form, HTTP_ORIGIN="http://testserver")
    assert posted.status_code == 303 and posted["Location"].endswith(f"/s/d/{snapshot.link_id}/#comments")
    comment = DashboardSnapshotComment.objects.get()
    assert comment.user_id == cast.owner.user.id and not comment.by_guest
    page = Client().get(url).content.decode()
    assert re.search(r'<span class="author">[^<]+</span>\s*<span class="comment-badge verified"', page)
    message = OutboxMessage.objects.get(kind="snapshot-comment")
    assert message.to == [cast.other_group.user.email]
    assert message.subject == f"New comment from {comment.author_name} on Dev weekly"
    assert "of the dashboard Dashboard" in message.body_text and f"/s/d/{snapshot.link_id}/" in message.body_text
    detail = cast.other_group.client.get(f"/v6/dashboard-snapshots/{snapshot.link_id}.json").json()
    assert [(c["author"], c["guest"], c["body"]) for c in detail["dashboardSnapshots"][0]["comments"]] == [
        (comment.author_name, 0, "ok")
    ]


def test_guests_comment_where_allowed_marked_as_guests_within_the_per_address_limit(cast, dev, board, settings):
    dashboard, *_ = board
    client = signed_in(cast.other_group)
    assert _create_in_web(client, guest_comments="on").status_code == 200
    snapshot = DashboardSnapshot.objects.get()
    assert snapshot.comments_signed_in_only is False
    url = f"/s/d/{snapshot.link_id}/"
    guest = Client()
    token = _field(guest.get(url).content.decode(), "token")
    settings.COMMENT_LIMIT_PER_HOUR = 2
    for body in ("first", "second"):
        assert guest.post(f"{url}comments", {"token": token, "name": "Olive Owner", "body": body}).status_code == 303
    limited = guest.post(f"{url}comments", {"token": token, "name": "Olive Owner", "body": "third"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Too many comments" in limited.content.decode() and "third" in limited.content.decode()  # kept in form
    assert DashboardSnapshotComment.objects.count() == 2
    page = guest.get(url).content.decode()
    assert re.search(r'<span class="author">Olive Owner</span>\s*<span class="comment-badge guest"', page)
    assert "comment-badge verified" not in page
    message = OutboxMessage.objects.filter(kind="snapshot-comment").first()
    assert message.subject.startswith('New comment from a guest who calls themselves "Olive Owner"')
    # A bad form: the page again with the form's error, nothing stored.
    empty = guest.post(f"{url}comments", {"token": token, "name": "Olive", "body": ""})
    assert empty.status_code in (400, 429) and DashboardSnapshotComment.objects.count() == 2
    expired = guest.post(f"{url}comments", {"token": "forged", "name": "Olive", "body": "x"})
    assert expired.status_code == 400 and "The form has expired" in expired.content.decode()


# --- recipients ----------------------------------------------------------------------------------------------------


def test_recipients_get_the_link_and_the_note_by_email(cast, board):
    client = signed_in(cast.other_group)
    response = _create_in_web(client, recipients="noc@isp.test, Ana@Example.test", note="Latency since 09:00\nsee")
    assert response.status_code == 200
    snapshot = DashboardSnapshot.objects.get()
    assert "e-mailed to ana@example.test, noc@isp.test" in response.content.decode()
    assert sorted(DashboardSnapshotRecipient.objects.values_list("email", flat=True)) == [
        "ana@example.test",
        "noc@isp.test",
    ]
    messages = OutboxMessage.objects.filter(kind="snapshot-share").order_by("id")
    assert [m.to for m in messages] == [["noc@isp.test"], ["ana@example.test"]]  # nobody sees the others
    for message in messages:
        assert f"/s/d/{snapshot.link_id}/" in message.body_text and "Latency since 09:00" in message.body_text
        assert 'a snapshot of the dashboard "Dashboard"' in message.body_text
        assert f"/s/d/{snapshot.link_id}/" in message.body_html
    assert "Latency since 09:00" not in Client().get(f"/s/d/{snapshot.link_id}/").content.decode()

    # A bad address: the form says which, and nothing is made or sent.
    bad = _create_in_web(client, recipients="noc@isp.test not-an-address", idempotency_key="b" * 20)
    assert bad.status_code == 400 and "not-an-address" in bad.content.decode()
    assert DashboardSnapshot.objects.count() == 1 and messages.count() == 2


# --- downloads and headers -----------------------------------------------------------------------------------------


def test_each_widget_downloads_as_json_and_csv_with_the_share_headers(dev, board):
    dashboard, *_ = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard)
    base = f"/s/d/{snapshot.link_id}/"
    stranger = Client()
    page = stranger.get(base).content.decode()
    assert f'href="{base}widgets/0.json"' in page and f'href="{base}widgets/0.csv"' in page
    frozen = dashboard_snapshots.frozen_widget_data(snapshot)
    as_json = stranger.get(f"{base}widgets/0.json")
    assert as_json.json()["data"] == frozen[0]["data"]
    assert as_json.json()["agents"] == ["core-ams-02", "core-fra-01"]
    assert [a["agent"] for a in as_json.json()["byAgent"]] == ["core-ams-02", "core-fra-01"]
    as_csv = stranger.get(f"{base}widgets/0.csv")
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    assert as_csv["Content-Disposition"] == 'attachment; filename="dashboard-snapshot-widget-1.csv"'
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert rows[0] == ["date", "roundId", "agent", "latency (ms)"]
    average = [(int(r[1]), float(r[3])) for r in rows[1:] if r[2] == "All agents (average)"]
    assert average == [(p["roundId"], p["value"]) for p in frozen[0]["data"]]
    fra = [float(r[3]) for r in rows[1:] if r[2] == "core-fra-01"]
    assert len(fra) == len(average) and fra[0] == 10.0
    for response in (as_json, as_csv, stranger.get(f"{base}widgets/7.csv"), stranger.head(base)):
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert "no-store" in response["Cache-Control"]
    assert stranger.get(f"{base}widgets/7.csv").status_code == 404


def test_the_share_page_has_an_open_graph_preview_and_refers_nobody(dev, board):
    dashboard, *_ = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard, display_name="Dev <weekly>")
    html = Client().get(f"/s/d/{snapshot.link_id}/").content.decode()
    assert '<meta property="og:title" content="Dev &lt;weekly&gt; — dashboard snapshot">' in html
    # As a test snapshot's preview: "<window start> to <window end> UTC: <summary>" (here the 24 h widget's window).
    window = f"{format_v6_date(NOW + 30 - 24 * 3600)} to {format_v6_date(NOW + 30)} UTC"
    assert f'<meta property="og:description" content="{window}: 3 widgets on dev api, ops edge">' in html
    assert f'<meta property="og:url" content="{links.view_url(snapshot.link_id, dashboard=True)}">' in html
    assert "og:image" not in html  # neither kind of snapshot renders a preview image
    assert '<meta name="robots" content="noindex, nofollow">' in html
    # Inside the page the referrer is same-origin (the comment form posts with its Origin); outside, none.
    assert '<meta name="referrer" content="same-origin">' in html
    for path in (f"/s/d/{snapshot.link_id}/", "/s/d/" + "a" * 32 + "/", f"/s/d/{snapshot.link_id}/comments"):
        response = Client().get(path)
        assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"], path
        assert response["X-Robots-Tag"] == "noindex, nofollow", path


def test_dashboard_links_follow_the_share_domain_template_as_test_snapshot_links_do(cast, dev, board, settings):
    """One function makes both kinds of links: on a share domain a dashboard snapshot is <linkId>.<domain>/d/, in a
    path template d/<linkId>; the share page, its downloads and comments work there, and the e-mail, the share
    page's preview and Sharing › Snapshots all give that address."""
    dashboard, *_ = board
    settings.ALLOWED_HOSTS = [".share.example.com", "testserver"]
    settings.SHARE_URL_TEMPLATE = "https://share.example.com/s/{linkId}/"
    assert links.view_url("a" * 32) == f"https://share.example.com/s/{'a' * 32}/"
    assert links.view_url("a" * 32, dashboard=True) == f"https://share.example.com/s/d/{'a' * 32}/"
    settings.SHARE_URL_TEMPLATE = "https://{linkId}.share.example.com/"
    snapshot = dashboard_snapshots.create_dashboard_snapshot(
        dev, dashboard, display_name="Dev weekly", recipients=["vendor@example.net"]
    )
    url = f"https://{snapshot.link_id}.share.example.com/d/"
    assert links.view_url(snapshot.link_id, dashboard=True) == url
    assert url in OutboxMessage.objects.get(kind="snapshot-share").body_text
    host = {"HTTP_HOST": f"{snapshot.link_id}.share.example.com", "secure": True}
    stranger = Client()
    page = stranger.get("/d/", **host)
    assert page.status_code == 200 and f'<meta property="og:url" content="{url}">' in page.content.decode()
    assert stranger.get("/d/widgets/0.json", **host).json()["testName"] == "dev api"
    assert stranger.get("/d/widgets/0.csv", **host).status_code == 200
    assert stranger.get("/", **host).status_code == 404  # the root is a test snapshot's: none has this id
    listing = signed_in(cast.other_group).get("/sharing/snapshots/?tab=dashboards").content.decode()
    assert f'href="{url}"' in listing


# --- anonymized ----------------------------------------------------------------------------------------------------


def _shows_no_secret(text: str, where: str) -> None:
    for name, secrets in SECRETS.items():
        for secret in (name, *secrets):
            assert secret not in text, f"{secret} in {where}"


def test_an_anonymized_snapshot_names_no_agent_and_gives_no_address_anywhere(cast, dev, board):
    dashboard, own, shared, share, agents = board
    client = signed_in(cast.other_group)
    assert _create_in_web(client, anonymize="on").status_code == 200
    snapshot = DashboardSnapshot.objects.get()
    assert snapshot.anonymized
    base = f"/s/d/{snapshot.link_id}/"
    stranger = Client()
    page = stranger.get(base).content.decode()
    _shows_no_secret(page, "the page")
    # One numbering over every widget: the two own agents are Agent 1 and 2 in both own widgets, Ops' agent 3.
    assert page.count("Agents: Agent 1, Agent 2</p>") == 2 and "Agents: Agent 3</p>" in page
    texts = {}
    for position in range(3):
        texts[f"widget {position} JSON"] = stranger.get(f"{base}widgets/{position}.json").content.decode()
        texts[f"widget {position} CSV"] = stranger.get(f"{base}widgets/{position}.csv").content.decode()
    assert [a["agent"] for a in stranger.get(f"{base}widgets/1.json").json()["byAgent"]] == ["Agent 1", "Agent 2"]
    assert "Agent 3" in texts["widget 2 CSV"]
    api = cast.other_group.client
    texts["v6 list"] = api.get("/v6/dashboard-snapshots.json").content.decode()
    texts["v6 detail"] = api.get(f"/v6/dashboard-snapshots/{snapshot.link_id}.json").content.decode()
    texts["v6 data"] = api.get(f"/v6/dashboard-snapshots/{snapshot.link_id}/data.json").content.decode()
    v7 = cast.other_group.client
    texts["v7 get"] = v7.get(f"/v7/dashboard-snapshots/{snapshot.link_id}").content.decode()
    for position in range(3):
        answer = v7.get(f"/v7/dashboard-snapshots/{snapshot.link_id}/widgets/{position}")
        assert answer.status_code == 200
        texts[f"v7 widget {position}"] = answer.content.decode()
    groups = v7.get(f"/v7/dashboard-snapshots/{snapshot.link_id}/widgets/0").json()["groupLabels"]
    assert [g["groupLabel"] for g in groups[1]["groupLabels"]] == ["Agent 1", "Agent 2"]
    for where, text in texts.items():
        _shows_no_secret(text, where)
    # The same numbering on every later read, even once a widget's data is gone with its live share.
    assert cast.owner.client.post(f"/v6/live-shares/{share.id}/delete.json").status_code == 204
    again = stranger.get(base).content.decode()
    assert again.count("Agents: Agent 1, Agent 2</p>") == 2 and "Agent 3" not in again
    # The data itself is the same as a named snapshot's.
    named = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard)
    assert (
        _values(dashboard_snapshots.frozen_widget_data(named))[:2]
        == _values(dashboard_snapshots.frozen_widget_data(snapshot))[:2]
    )


def test_v7_creates_an_anonymized_dashboard_snapshot(cast, board):
    dashboard, *_ = board
    v7 = cast.other_group.client
    body = {"dashboardId": str(dashboard.id), "anonymizeData": True}
    made = v7.post("/v7/dashboard-snapshots", body, format="json")
    assert made.status_code == 201
    snapshot = DashboardSnapshot.objects.get(link_id=made.json()["snapshotId"])
    assert snapshot.anonymized
    body = v7.get(f"/v7/dashboard-snapshots/{snapshot.link_id}").json()
    assert body["anonymizeData"] is True
    _shows_no_secret(Client().get(f"/s/d/{snapshot.link_id}/").content.decode(), "the page")


# --- frozen means frozen -------------------------------------------------------------------------------------------


def test_rows_rewritten_after_the_freeze_still_show_as_they_were(cast, dev, board, time_machine):
    dashboard, own, shared, share, agents = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard)
    frozen = _values(dashboard_snapshots.frozen_widget_data(snapshot))
    page = Client().get(f"/s/d/{snapshot.link_id}/").content.decode()
    time_machine.move_to(datetime.fromtimestamp(NOW + 300, UTC), tick=False)
    # Every row of the window written again (an agent's spool sent twice, a re-import), with other values.
    rounds = list(range(NOW - 1800, NOW + 60, 60))
    write_net_rounds(own, agents["core-fra-01"], rounds, latency=900.0)
    write_net_rounds(shared, agents["ops-edge-nyc"], rounds, latency=900.0)
    assert _values(dashboards.widget_data(dev, dashboard)) != frozen  # the dashboard shows the new rows
    assert _values(dashboard_snapshots.frozen_widget_data(snapshot)) == frozen  # the snapshot what it showed
    again = Client().get(f"/s/d/{snapshot.link_id}/").content.decode()
    assert _widgets_html(again) == _widgets_html(page)
    fra = Client().get(f"/s/d/{snapshot.link_id}/widgets/0.json").json()["byAgent"][1]
    assert fra["agent"] == "core-fra-01" and fra["data"][0]["value"] == 10.0
    # The old rows live in the snapshot's copy store, a hidden test nobody lists; revoking takes them away.
    stores = Test.objects.filter(source_test__in=[own, shared], deleted_date__isnull=False)
    assert stores.count() == 2 and NetResult.objects.filter(test__in=stores).exists()
    listed = {t["testId"] for t in cast.other_group.client.get("/v6/tests.json").json()["test"]}
    assert own.id in listed and not listed & set(stores.values_list("id", flat=True))
    dashboard_snapshots.revoke_dashboard_snapshot(dev, snapshot)
    assert not stores.exists() and not NetResult.objects.filter(test__source_test__in=[own, shared]).exists()


# --- v6 dashboards: live data and deletion -------------------------------------------------------------------------


def test_v6_gives_a_dashboards_live_data_in_the_snapshots_shape_and_deletes_it(cast, dev, board):
    dashboard, *_ = board
    snapshot = dashboard_snapshots.create_dashboard_snapshot(dev, dashboard)
    api = cast.other_group.client
    live = api.get(f"/v6/dashboards/{dashboard.id}/data.json").json()["dashboards"][0]
    frozen = api.get(f"/v6/dashboard-snapshots/{snapshot.link_id}/data.json").json()["dashboardSnapshots"][0]
    widget_keys = {"id", "title", "testName", "metric", "period", "state", "data", "startRoundId", "endRoundId"}
    assert widget_keys <= set(live["widgets"][0]) and widget_keys <= set(frozen["widgets"][0])
    assert _values(live["widgets"]) == _values(frozen["widgets"])  # nothing written since the freeze
    assert live["widgets"][0]["endRoundId"] - live["widgets"][0]["startRoundId"] == 3600
    assert cast.owner.client.get(f"/v6/dashboards/{dashboard.id}/data.json").status_code == 404
    assert cast.regular.client.post(f"/v6/dashboards/{dashboard.id}/delete.json").status_code in (403, 404)
    assert cast.owner.client.post(f"/v6/dashboards/{dashboard.id}/delete.json").status_code == 404
    assert api.post(f"/v6/dashboards/{dashboard.id}/delete.json").status_code == 204
    assert api.get(f"/v6/dashboards/{dashboard.id}.json").status_code == 404
    # Its snapshots stay, as frozen.
    assert Client().get(f"/s/d/{snapshot.link_id}/").status_code == 200


def test_e_mail_it_sends_the_snapshot_just_made_to_more_addresses(cast, board):
    client = signed_in(cast.other_group)
    _create_in_web(client, note="Slow since 09:00")
    snapshot = DashboardSnapshot.objects.get()
    email = f"/sharing/dashboard-snapshots/{snapshot.link_id}/email/"
    page = client.get("/dashboard/").content.decode()
    assert 'id="dashboard-snapshot-email-form"' not in page  # only on the result, right after making one
    sent = client.post(email, {"email_to": "noc@isp.test; ops@isp.test"})
    assert sent.status_code == 200 and "e-mailed to noc@isp.test, ops@isp.test" in sent.content.decode()
    assert f'action="{email}"' in sent.content.decode()  # the result stays, for more addresses
    messages = OutboxMessage.objects.filter(kind="snapshot-share")
    assert messages.count() == 2 and all("Slow since 09:00" in m.body_text for m in messages)
    assert DashboardSnapshot.objects.count() == 1  # the same link, no second snapshot
    empty = client.post(email, {"email_to": ""})
    assert empty.status_code == 400 and "add at least one e-mail address" in empty.content.decode()
    assert signed_in(cast.regular).post(email, {"email_to": "x@isp.test"}).status_code in (403, 404)
    assert signed_in(cast.owner).post(email, {"email_to": "x@isp.test"}).status_code == 404
    assert messages.count() == 2
