"""An agent whose token is revoked while it runs stops with a clear message instead of retrying for ever."""

import logging
import threading

import pytest

from spyglass.agent.runtime import AgentRuntime
from spyglass.monitoring.agent_service import issue_agent_token
from spyglass.monitoring.models import Agent, AgentToken
from tests.agent_helpers import wait_for, write_beside_live_server


@pytest.mark.django_db(transaction=True)
def test_an_agent_whose_token_is_revoked_stops_and_says_why(cast, live_server, tmp_path, caplog):
    organization = cast.owner.user.default_account_group.organization
    token = issue_agent_token(organization.id, "branch office")
    runtime = AgentRuntime(live_server.url, token, "branch-1", spool_dir=tmp_path, control_seconds=0.2)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(code=runtime.run()), daemon=True)
    with caplog.at_level(logging.INFO, logger="spyglass.agent"):
        thread.start()
        wait_for(lambda: Agent.objects.filter(name="branch-1").exists())
        write_beside_live_server(lambda: AgentToken.objects.filter(name="branch office").update(revoked=True))
        thread.join(timeout=20)
        stopped = not thread.is_alive()
        if not stopped:
            runtime.stop.set()
            thread.join(timeout=20)
    assert stopped, "the agent kept retrying with a revoked token"
    assert outcome["code"] == 2
    refusals = [r.getMessage() for r in caplog.records if "refused this agent's token" in r.getMessage()]
    assert len(refusals) == 1 and "revoked or deleted" in refusals[0] and "agent-token create" in refusals[0]
