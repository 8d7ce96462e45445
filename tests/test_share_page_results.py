"""The share link page's results component: the window and included agents only — through the page, its htmx data
requests under /s/<linkId>/ and any query parameter — opened at the creator's round and View; only page views count."""

import json
import re

from django.test import Client

from spyglass.monitoring.models import Agent
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import SnapshotVisit
from tests.conftest import make_snapshot, make_test
from tests.web_support import signed_in

ROUND = 1795338000  # 2026-11-22 09:00:00 UTC


def snapshot_of_one_agent(cast, name="edge", **options):
    test = make_test(cast.owner, name=name, interval=60)
    seed(test, agents=3, hours=12, random_seed=5, now=ROUND + 6 * 3600)
    agents = list(Agent.objects.filter(tests=test).order_by("name"))
    kept, *others = agents
    options.setdefault("view", "latency")
    snapshot = make_snapshot(cast.owner, test, hours=2, anchor=ROUND, position="around", agent_ids=[kept.id], **options)
    return snapshot, kept, others


def chart(html) -> dict:
    raw = re.search(r'data-chart="([^"]+)"', html).group(1)
    return json.loads(raw.replace("&quot;", '"').replace("&amp;", "&"))


def agent_names(html) -> list[str]:
    return re.findall(r'<th scope="row" class="agent-cell">([^<]+)</th>', html)


def addresses(html) -> list[str]:
    """Every address the page can lead to or fetch: links, htmx requests, pushed URLs, forms, scripts, styles."""
    found = re.findall(r'\s(?:href|hx-get|hx-post|hx-push-url|action|src)="([^"]*)"', html)
    return [a.replace("&amp;", "&") for a in found]


def test_the_page_opens_at_the_creators_round_and_view_inside_the_window(cast):
    snapshot, kept, others = snapshot_of_one_agent(cast)
    html = Client().get(f"/s/{snapshot.link_id}/").content.decode()
    assert f'<section id="round-panel" class="card round-panel" data-round-id="{ROUND}"' in html
    assert 'class="active" data-view="latency"' in html
    data = chart(html)
    assert data["rounds"][0] >= snapshot.start_round and data["rounds"][-1] <= snapshot.end_round
    assert len(data["rounds"]) == 121 and set(data["agents"]) == {1}
    assert agent_names(html) == [kept.name]
    assert not any(o.name in html for o in others)
    assert "around 2026-11-22 09:00 UTC" in html
    assert "Share</button>" not in html and 'id="share-panel"' not in html


def test_nothing_on_the_page_leads_outside_the_snapshot(cast):
    snapshot, _, _ = snapshot_of_one_agent(cast)
    base = f"/s/{snapshot.link_id}/"
    for query in ("", f"?roundId={ROUND + 600}&view=jitter", "?view=loss"):
        html = Client().get(base + query).content.decode()
        for address in addresses(html):
            assert address.startswith((base, "/static/", "#")), address  # "#comments": the Messenger link; "#content": the skip link
        assert "/tests/" not in html and "/v6/" not in html
        # The component's data requests go to the share's own partial address; the address bar gets the page's.
        assert re.search(rf'hx-get="{base}results\?roundId=\d+&amp;view=\w+"', html)
        assert chart(html)["roundUrl"].startswith(f"{base}results?") and chart(html)["pageUrl"].startswith(base)


def test_query_parameters_never_reach_outside_the_window_or_the_agents(cast):
    snapshot, kept, others = snapshot_of_one_agent(cast)
    client = Client()
    outside = [snapshot.start_round - 3600, snapshot.end_round + 60, 0, 99999999999, "abc", "-5"]
    for round_id in outside:
        for path in ("", "results"):
            headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "round-panel"} if path else {}
            html = client.get(f"/s/{snapshot.link_id}/{path}?roundId={round_id}&agentId={others[0].id}", **headers)
            assert html.status_code == 200
            body = html.content.decode()
            selected = int(re.search(r'id="round-panel"[^>]*data-round-id="(\d+)"', body).group(1))
            assert snapshot.start_round <= selected <= snapshot.end_round
            assert agent_names(body) == [kept.name]
    # Parameters the live page knows mean nothing here.
    html = client.get(f"/s/{snapshot.link_id}/?period=7d&testId={snapshot.source_test_id}&aid=1").content.decode()
    assert chart(html)["start"] == snapshot.start_round and chart(html)["end"] == snapshot.end_round
    assert agent_names(html) == [kept.name]


def test_the_round_panel_and_view_switch_come_from_the_share_and_are_not_visits(cast):
    snapshot, kept, _ = snapshot_of_one_agent(cast)
    client = Client()
    client.get(f"/s/{snapshot.link_id}/")
    panel = client.get(
        f"/s/{snapshot.link_id}/results?roundId={ROUND + 60}&view=loss",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="round-panel",
    )
    assert panel.status_code == 200 and panel["Cache-Control"] == "private, no-store"
    assert panel["Referrer-Policy"] == "no-referrer" and "noindex" in panel["X-Robots-Tag"]
    body = panel.content.decode()
    assert f'data-round-id="{ROUND + 60}"' in body and "<html" not in body and agent_names(body) == [kept.name]
    switched = client.get(
        f"/s/{snapshot.link_id}/results?roundId={ROUND + 60}&view=jitter",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    ).content.decode()
    assert '<div id="results"' in switched and 'class="active" data-view="jitter"' in switched
    assert SnapshotVisit.objects.filter(snapshot=snapshot).count() == 1
    client.get(f"/s/{snapshot.link_id}/?roundId={ROUND}")
    assert SnapshotVisit.objects.filter(snapshot=snapshot).count() == 2


def test_revoked_expired_and_saved_event_apply_to_the_data_requests_too(cast):
    snapshot, _, _ = snapshot_of_one_agent(cast)
    url = f"/s/{snapshot.link_id}/results?roundId={ROUND}"
    saved, _, _ = snapshot_of_one_agent(cast, name="shop", is_public=False)
    assert Client().get(f"/s/{saved.link_id}/results?roundId={ROUND}").status_code == 404
    assert signed_in(cast.other_org).get(f"/s/{saved.link_id}/results").status_code == 404
    assert signed_in(cast.teammate).get(f"/s/{saved.link_id}/results").status_code == 200
    snapshot.expires_date = snapshot.created_date
    snapshot.save()
    assert Client().get(url).status_code == 410
    snapshot.delete()
    assert Client().get(url).status_code == 404


def test_members_open_a_saved_event_inside_the_app(cast):
    saved, kept, others = snapshot_of_one_agent(cast, is_public=False, display_name="incident <42>")
    html = signed_in(cast.teammate).get(f"/sharing/snapshots/{saved.link_id}/").content.decode()
    assert 'class="topbar"' in html and "Sharing › Snapshots" in html and "incident &lt;42&gt;" in html
    assert agent_names(html) == [kept.name] and chart(html)["start"] == saved.start_round
    assert f'data-round-id="{ROUND}"' in html
    assert SnapshotVisit.objects.count() == 0
    # The snapshot's own test (as /v6/tests lists it) opens there too.
    moved = signed_in(cast.teammate).get(f"/tests/{saved.test_id}/?roundId={ROUND}")
    assert moved.status_code == 302 and moved["Location"] == f"/sharing/snapshots/{saved.link_id}/"
    assert signed_in(cast.other_group).get(f"/sharing/snapshots/{saved.link_id}/").status_code == 404
    assert signed_in(cast.other_org).get(f"/sharing/snapshots/{saved.link_id}/").status_code == 404
