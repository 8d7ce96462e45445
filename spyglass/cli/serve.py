"""`spyglass serve`: gunicorn for the app, plus the background worker and the embedded agent as children."""

import os
import signal
import socket
import subprocess
import sys

from rich.console import Console

from spyglass.appserver import SpyglassServer, gunicorn_options

err = Console(stderr=True, soft_wrap=True)  # never wrap messages that scripts and tests read


def parse_addr(addr: str) -> tuple[str, int]:

    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--addr must be host:port, such as 127.0.0.1:8000, got {addr!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _local_url(host: str, port: int) -> str:
    """How a process on this machine reaches the server (a wildcard bind is reached over loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


DEFAULT_PORT = 8000


def embedded_agent_name(port: int) -> str:
    """The host's name, and the port unless it is the default: two `serve` processes on one database (one host, two
    ports) then each keep an agent of their own, with its own token and spool, across restarts."""
    host = socket.gethostname() or "spyglass"
    return host if port == DEFAULT_PORT else f"{host}:{port}"


def _embedded_agent(args, host: str, port: int, agent_org: str | None, agent_name: str | None):
    from django.conf import settings

    from spyglass.monitoring.embedded import embedded_agent_token

    name = agent_name or embedded_agent_name(port)
    found = embedded_agent_token(agent_org, name)
    if found is None:
        err.print("no organization yet: the embedded agent starts with the next `spyglass serve` after `user create`")
        return None
    organization, token = found
    err.print(f"embedded agent {name!r} runs the tests assigned to it in {organization!r}")
    command = [sys.executable, "-m", "spyglass.cli.main", "agent", "--server", _local_url(host, port), "--name", name]
    spool = "agent-spool" if port == DEFAULT_PORT else f"agent-spool-{port}"
    command += ["--spool", str(settings.DATA_DIR / spool)]
    # The token goes through the environment, not the command line, so `ps` does not show it.
    return subprocess.Popen(command, env={**os.environ, "SPYGLASS_AGENT_TOKEN": token})


def _children(args, host: str, port: int, agent_org=None, agent_name=None) -> list[subprocess.Popen]:
    children = []
    if not args.no_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "spyglass.cli.main", "worker"]))
    if not args.no_agent:
        agent = _embedded_agent(args, host, port, agent_org, agent_name)
        if agent is not None:
            children.append(agent)
    return children


def run(args, agent_org: str | None = None, agent_name: str | None = None) -> int:
    try:
        host, port = parse_addr(args.addr)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    from django.conf import settings

    from spyglass.lib.config import env

    if not env("SPYGLASS_BASE_URL"):
        # Absolute links (apiLinks, pages.next, share links) point at the address we serve on.
        settings.BASE_URL = f"http://{args.addr}"
    from spyglass.web.staticfiles import ensure_collected

    ensure_collected()  # once, before gunicorn's workers start (each checks again, cheaply)
    children = _children(args, host, port, agent_org, agent_name)

    err.print(f"spyglass listening on http://{args.addr} (data in {settings.DATA_DIR})")
    try:
        SpyglassServer(gunicorn_options(host, port, args.workers)).run()

    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0
