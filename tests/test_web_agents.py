"""Agents (online/offline) and agent tokens, shown once and stored as a keyed digest."""

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from spyglass.lib import tokens
from spyglass.monitoring.models import AgentToken
from tests.conftest import make_agent
from tests.web_support import signed_in


def test_it_shows_agents_online_or_offline(cast):
    make_agent(cast.owner, "Frankfurt", last_seen=timezone.now() - timedelta(seconds=30))
    make_agent(cast.owner, "Tokyo", last_seen=timezone.now() - timedelta(hours=2))
    make_agent(cast.owner, "Lima")
    page = signed_in(cast.owner).get("/agents/").content.decode()
    rows = {name: row for name, row in re.findall(r'<td class="strong">([^<]+)</td>(.*?)</tr>', page, re.S)}
    assert "Online" in rows["Frankfurt"]
    assert "Offline" in rows["Tokyo"] and "Offline" in rows["Lima"] and "never" in rows["Lima"]


def test_it_creates_an_agent_token_shown_once_and_stored_as_a_digest(cast):
    client = signed_in(cast.owner)
    page = client.post("/agents/tokens/", {"name": "rack 3"}).content.decode()
    token = re.search(r'<code id="agent-token">([^<]+)</code>', page).group(1)
    stored = AgentToken.objects.get(name="rack 3")
    assert stored.digest == tokens.digest(settings.SECRET_KEY, token) and token not in stored.digest
    assert token not in client.get("/agents/").content.decode()


def test_it_refuses_a_nameless_token_and_revokes(cast):
    client = signed_in(cast.owner)
    response = client.post("/agents/tokens/", {"name": "  "})
    assert response.status_code == 400 and "Give the token a name" in response.content.decode()
    assert not AgentToken.objects.exists()
    client.post("/agents/tokens/", {"name": "old"})
    token = AgentToken.objects.get(name="old")
    assert client.post(f"/agents/tokens/{token.id}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked
