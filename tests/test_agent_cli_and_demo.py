"""The command line: `agent-token create`, `agent`, `serve` with its embedded agent, and `spyglass demo`.

These run the real commands as processes on loopback, each with its own SQLite data directory."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.agent_helpers import closed_port, wait_for
from tests.appservers import migrated_sqlite

SPYGLASS = [sys.executable, "-m", "spyglass.cli.main"]


def cli_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SPYGLASS_TEST_DB_NAME")}
    env["SPYGLASS_DATA_DIR"] = str(data_dir)
    return env


def run(args, data_dir, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(SPYGLASS + args, env=cli_env(data_dir), capture_output=True, text=True, timeout=120, **kw)


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return " " + Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def processes(pids: set[int]) -> dict[int, str]:
    """{pid: command line}: what all_gone() checks, so that a pid the system reuses meanwhile is not taken for ours."""
    return {pid: command_line(pid) for pid in pids}


def all_gone(recorded: dict[int, str]) -> bool:
    return not [pid for pid, line in recorded.items() if alive(pid) and command_line(pid) == line]


def wait_until_gone(recorded: dict[int, str]):
    """serve ends its children on its way out, and a child that outlived SIGTERM was killed without being waited
    for; it is gone a moment after serve itself, however loaded the machine (the parent's exit is no barrier)."""
    wait_for(lambda: all_gone(recorded), timeout=60)


def answers(url: str) -> bool:
    """The server answers 200: False while it is still starting (nothing listens yet, or too busy to answer)."""
    try:
        return httpx.get(url, timeout=30).status_code == 200
    except httpx.TransportError:
        return False


class Running:
    """A long-running spyglass command whose stderr goes to a file we can read while it runs."""

    def __init__(self, args, data_dir: Path):
        self.log = data_dir / f"{args[0]}-{time.monotonic_ns()}.log"
        self.handle = open(self.log, "w")
        self.proc = subprocess.Popen(SPYGLASS + args, env=cli_env(data_dir), stdout=self.handle, stderr=self.handle)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.handle.close()


def test_agent_token_create_prints_the_token_alone(tmp_path):
    migrated_sqlite(tmp_path)
    assert (
        run(
            [
                "user",
                "create",
                "--email",
                "a@x.test",
                "--password",
                "pw-123456",
                "--org",
                "X",
                "--account-group",
                "Ops",
                "--role",
                "Account Admin",
            ],
            tmp_path,
        ).returncode
        == 0
    )
    made = run(["agent-token", "create", "--org", "X", "--name", "branch offices"], tmp_path)
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"sga_[A-Za-z0-9_-]{32}\n", made.stdout)
    missing = run(["agent-token", "create", "--org", "Nope", "--name", "n"], tmp_path)
    assert missing.returncode == 2 and made.stdout not in missing.stdout
    assert "no organization named 'Nope'" in missing.stderr


def test_agent_refuses_to_start_without_a_token_or_a_server_url(tmp_path):
    env_free = run(["agent", "--server", "http://127.0.0.1:9"], tmp_path)
    assert env_free.returncode == 2 and "--token" in env_free.stderr
    bad_url = run(["agent", "--server", "ftp://x", "--token", "t"], tmp_path)
    assert bad_url.returncode == 2 and "--server" in bad_url.stderr


def test_agent_stops_when_the_server_refuses_its_token(tmp_path):
    migrated_sqlite(tmp_path)
    serving = Running(
        ["serve", "--addr", f"127.0.0.1:{(port := closed_port())}", "--no-agent", "--no-worker"], tmp_path
    )
    try:
        wait_for(lambda: "listening" in serving.output(), timeout=60)
        refused = run(
            [
                "agent",
                "--server",
                f"http://127.0.0.1:{port}",
                "--token",
                "sga_nope",
                "--spool",
                str(tmp_path / "spool"),
            ],
            tmp_path,
        )
        assert refused.returncode == 2
        assert "registration refused" in refused.stderr
    finally:
        serving.stop()


def demo_get(url, **kw):
    """A read of the demo's server, which shares the machine with its own agent, worker and seeding: a minute's
    patience, as a person would have, rather than httpx's 5 s."""
    return httpx.get(url, timeout=60, **kw)


def agents_of(base: str, email: str, token: str) -> list[dict]:
    return httpx.get(f"{base}/v6/agents.json", auth=(email, token), timeout=60).json()["agents"]


@pytest.mark.slow
def test_serve_runs_an_embedded_agent_named_after_the_host_unless_told_not_to(tmp_path):
    migrated_sqlite(tmp_path)
    run(
        [
            "user",
            "create",
            "--email",
            "a@x.test",
            "--password",
            "pw-123456",
            "--org",
            "X",
            "--account-group",
            "Ops",
            "--role",
            "Account Admin",
        ],
        tmp_path,
    )
    token = run(["token", "create", "--email", "a@x.test"], tmp_path).stdout.strip()
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    quiet = Running(["serve", "--addr", f"127.0.0.1:{port}", "--no-agent", "--no-worker"], tmp_path)
    try:
        wait_for(lambda: "listening" in quiet.output(), timeout=60)
        wait_for(lambda: answers(f"{base}/v6/status"), timeout=120)
        # serve starts its children before it says it is listening: none of them is an agent, so none can register.
        assert not [k for k in children_of(quiet.proc.pid) if " agent " in command_line(k)]
        assert "embedded agent" not in quiet.output()
        assert agents_of(base, "a@x.test", token) == []
        quiet_kids = processes(children_of(quiet.proc.pid))
    finally:
        code = quiet.stop()
    assert code == 0
    wait_until_gone(quiet_kids)  # its gunicorn workers hold the port: the next serve would share it with them
    serving = Running(["serve", "--addr", f"127.0.0.1:{port}"], tmp_path)
    try:
        wait_for(lambda: "listening" in serving.output(), timeout=60)
        wait_for(lambda: answers(f"{base}/v6/status"), timeout=120)
        (agent,) = wait_for(lambda: agents_of(base, "a@x.test", token), timeout=60)
        assert agent["agentName"] == f"{__import__('socket').gethostname()}:{port}"  # the port: not the default
        assert agent["agentState"] == "Online"
        assert agent["agentType"] == "Enterprise"
        assert agent["version"]
        kids = processes(children_of(serving.proc.pid))
        assert len(kids) >= 2  # worker and agent (gunicorn workers too)
        assert [k for k, line in kids.items() if " agent " in line]  # what the first start had none of
    finally:
        code = serving.stop()
    assert code == 0
    wait_until_gone(kids)


@pytest.mark.slow
def test_two_serve_processes_on_one_database_each_keep_their_own_embedded_agent(tmp_path):
    migrated_sqlite(tmp_path)
    person = ["--email", "a@x.test", "--password", "pw-123456", "--org", "X", "--account-group", "Ops"]
    run(["user", "create", *person, "--role", "Account Admin"], tmp_path)
    token = run(["token", "create", "--email", "a@x.test"], tmp_path).stdout.strip()
    ports = [closed_port(), closed_port()]
    servers = []
    try:
        for port in ports:
            servers.append(Running(["serve", "--addr", f"127.0.0.1:{port}", "--no-worker"], tmp_path))
            wait_for(lambda s=servers[-1]: "listening" in s.output(), timeout=60)
            wait_for(lambda p=port: answers(f"http://127.0.0.1:{p}/v6/status"), timeout=120)
        base = f"http://127.0.0.1:{ports[0]}"
        host = __import__("socket").gethostname()
        names = {f"{host}:{port}" for port in ports}
        wait_for(lambda: {a["agentName"] for a in agents_of(base, "a@x.test", token)} == names, timeout=90)
        first_seen = {a["agentName"]: a["lastSeen"] for a in agents_of(base, "a@x.test", token)}
        # The first server's agent outlives the second server's start: its next heartbeat (every 30 s) is accepted.
        wait_for(
            lambda: all(
                a["lastSeen"] != first_seen[a["agentName"]] and a["agentState"] == "Online"
                for a in agents_of(base, "a@x.test", token)
            ),
            timeout=75,
            step=1,
        )
        assert all("refused" not in server.output() for server in servers)
    finally:
        for server in servers:
            server.stop()


@pytest.mark.slow
def test_demo_runs_live_stops_cleanly_and_reuses_its_data_when_run_again(tmp_path):
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    demo = Running(["demo", "--addr", f"127.0.0.1:{port}"], tmp_path)
    try:
        wait_for(lambda: "listening" in demo.output(), timeout=120)
        out = demo.output()
        assert f"open http://127.0.0.1:{port}/" in out
        assert "password for every demo user: spyglass-demo" in out
        creds = dict(re.findall(r"(\S+@demo\.spyglass\.test)\s+API token: (\S+)", out))
        assert len(creds) == 3
        roles = re.findall(r"(Organization Admin|Account Admin|Regular User)\s+\S+@demo", out)
        assert sorted(roles) == ["Account Admin", "Organization Admin", "Regular User"]
        admin = "org.admin@demo.spyglass.test"
        auth = (admin, creds[admin])
        wait_for(lambda: answers(f"{base}/v6/status"), timeout=120)
        groups = demo_get(f"{base}/v6/account-groups.json", auth=auth).json()["accountGroups"]
        assert {g["accountGroupName"] for g in groups} == {"Operations", "Engineering"}
        listed = demo_get(f"{base}/v6/tests.json", auth=auth).json()["test"]
        tests = [t for t in listed if not t["savedEvent"]]
        assert not [t for t in listed if t["savedEvent"]]  # the demo's share link is no test of the list
        assert sorted(t["type"] for t in tests) == ["agent-to-server", "dns-server", "http-server"]
        tcp = next(t for t in tests if t["type"] == "agent-to-server")
        history = demo_get(f"{base}/v6/net/metrics/{tcp['testId']}.json?window=2d", auth=auth).json()
        rounds = sorted({m["roundId"] for m in history["net"]["metrics"]})
        assert rounds[0] <= time.time() - 47.9 * 3600  # history reaches 48 h back
        assert rounds[1] - rounds[0] == 60  # a round every minute
        # Path history with depth: traces of every seeded agent, hops from its gateway to the target.
        traced = demo_get(f"{base}/v6/net/path-vis/{tcp['testId']}.json?window=1h", auth=auth).json()
        entry = traced["net"]["pathVis"][0]
        assert len({e["agentId"] for e in traced["net"]["pathVis"]}) >= 4 and len(entry["endpoints"]) == 3
        detail = demo_get(
            f"{base}/v6/net/path-vis/{tcp['testId']}/{entry['agentId']}/{entry['roundId']}.json", auth=auth
        ).json()
        hops = detail["net"]["pathVis"][0]["pathTraces"][0]["hops"]
        assert len(hops) >= 8
        assert "DEMO-TRANSIT (AS 64500)" in {h.get("network") for h in hops}  # the demo's AS table names networks
        host = __import__("socket").gethostname()

        def live_rows():
            rows = demo_get(f"{base}/v6/net/metrics/{tcp['testId']}.json", auth=auth).json()["net"]["metrics"]
            return [r for r in rows if r["agentName"] == host and r["loss"] == 0.0]

        # The embedded agent measures the demo's own TCP service; its first round comes within about a minute.
        share = re.search(r"share link \(anyone can open it, signed out\): (\S+)", out).group(1)
        assert share.startswith(f"{base}/s/")
        page = demo_get(share)  # no credentials: a stranger with the link
        assert page.status_code == 200 and "Demo web page" in page.text
        live = wait_for(live_rows, timeout=100, step=1)

        assert live[0]["serverIp"] == "127.0.0.1"
        kids = processes(children_of(demo.proc.pid))
    finally:
        code = demo.stop()
    assert code == 0
    wait_until_gone(kids)

    again = Running(["demo", "--addr", f"127.0.0.1:{port}"], tmp_path)
    try:
        wait_for(lambda: "listening" in again.output(), timeout=120)
        creds = dict(re.findall(r"(\S+@demo\.spyglass\.test)\s+API token: (\S+)", again.output()))
        # The same share link again, not a second one.
        assert re.search(r"signed out\): (\S+)", again.output()).group(1) == share

        auth = (admin, creds[admin])
        wait_for(lambda: answers(f"{base}/v6/status"), timeout=120)
        tests_again = demo_get(f"{base}/v6/tests.json", auth=auth).json()["test"]
        assert sorted(t["testId"] for t in tests_again) == sorted(t["testId"] for t in listed)
        history_again = demo_get(f"{base}/v6/net/metrics/{tcp['testId']}.json?window=2d", auth=auth).json()
        per_key = {(m["roundId"], m["agentId"]) for m in history_again["net"]["metrics"]}
        assert len(per_key) == len(history_again["net"]["metrics"])  # reused, not seeded twice
    finally:
        code = again.stop()
    assert code == 0
