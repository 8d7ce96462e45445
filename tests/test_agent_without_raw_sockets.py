"""An agent without CAP_NET_RAW cannot trace paths: it says so once in its log and in every heartbeat (shown on the
agents page), and every other measurement keeps arriving through its uploads.

The real `spyglass agent` command runs with CAP_NET_RAW taken out of its bounding set (setpriv, util-linux), so it
is root without the capability, as an agent started by an unprivileged user or a locked-down unit would be."""

import os
import subprocess
import sys
import time

import pytest

from spyglass.agent.scheduler import SPREAD_FRACTION, offset_of
from spyglass.monitoring.agent_service import issue_agent_token
from spyglass.monitoring.models import Agent, NetResult
from tests.agent_helpers import TcpService, wait_for
from tests.conftest import make_test
from tests.web_support import signed_in

INTERVAL = 60


def name_due_now(test_id: int) -> str:
    """An agent name whose first round runs as soon as it can, without waiting here for a round to start. The
    scheduler runs a slot that has passed at once while at least a quarter of the round remains (slots are a hash of
    agent and test, in the round's first half; see scheduler.offset_of): up to 35 s into a round, a slot that passed
    in the last 10 s, which leaves the agent 10 s or more to start; later, the first slot of the next round."""
    into = time.time() % INTERVAL
    spread = INTERVAL * SPREAD_FRACTION
    low, high = (max(0.0, into - 10), into - 1) if 2 <= into <= 35 else (0.0, 1.0)
    for i in range(10_000):
        name = f"nocap-{i}"
        if low <= offset_of(name, test_id, spread) <= high:
            return name
    raise AssertionError("no agent name falls due now")


@pytest.mark.django_db(transaction=True)
def test_an_agent_without_raw_sockets_says_why_once_and_keeps_measuring(cast, live_server, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to take CAP_NET_RAW away from a process (setpriv)")
    organization = cast.owner.user.default_account_group.organization
    service = TcpService()
    test = make_test(cast.owner, "agent-to-server", name="tcp", server=f"127.0.0.1:{service.port}")
    name = name_due_now(test.id)
    agent = Agent.objects.create(organization=organization, name=name)
    test.agents.add(agent)
    log = tmp_path / "agent.log"
    command = ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", sys.executable, "-m", "spyglass.cli.main"]
    command += ["agent", "--server", live_server.url, "--name", name, "--spool", str(tmp_path / "spool")]
    env = {**os.environ, "SPYGLASS_AGENT_TOKEN": issue_agent_token(organization.id, "no raw"), "COLUMNS": "500"}
    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=out, env=env)
    try:
        try:
            wait_for(lambda: NetResult.objects.filter(test=test, agent=agent).exists(), timeout=90)
            wait_for(lambda: Agent.objects.get(id=agent.id).path_trace_problem, timeout=30)
        except AssertionError:
            raise AssertionError(f"the agent said:\n{log.read_text()}") from None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        service.close()
    net = NetResult.objects.get(test=test, agent=agent)
    assert net.error_type == "None" and net.loss == 0.0
    problem = Agent.objects.get(id=agent.id).path_trace_problem
    assert problem.startswith("path traces unavailable: raw sockets need CAP_NET_RAW")
    assert "setcap cap_net_raw+ep" in problem and "AmbientCapabilities=CAP_NET_RAW" in problem
    output = log.read_text()
    assert output.count("path traces unavailable") == 1, output
    assert "Traceback" not in output
    page = signed_in(cast.owner).get("/agents/").content.decode()
    assert "raw sockets need CAP_NET_RAW" in page
