"""`spyglass serve`: gunicorn for the app, plus the background worker and the embedded agent as children."""

import os
import signal
import socket
import subprocess
import sys

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from rich.console import Console

from spyglass.lib.redact import RedactSecrets

err = Console(stderr=True, soft_wrap=True)  # never wrap messages that scripts and tests read


class SpyglassServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from spyglass.wsgi import application

        return application


class RedactingLogger(Logger):
    """gunicorn's logger with the redaction filter on its handlers: gunicorn.error and gunicorn.access do not
    propagate to the root logger that settings.LOGGING filters, and their lines quote request lines and paths."""

    def setup(self, cfg):
        super().setup(cfg)  # (re)creates the handlers, on start and on every configuration reload
        for handler in self.error_log.handlers + self.access_log.handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(RedactSecrets())


def gunicorn_options(host: str, port: int, workers: int) -> dict:
    """The one gunicorn configuration (the benchmark serves with it too). gunicorn logs at SPYGLASS_LOG_LEVEL, and
    at INFO or DEBUG writes an access line per request to stdout."""
    from django.conf import settings

    verbose = settings.LOG_LEVEL in ("DEBUG", "INFO")
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-" if verbose else None,
        "loglevel": settings.LOG_LEVEL.lower(),
        "logger_class": RedactingLogger,
        "post_worker_init": _freeze_loaded_objects,
    }


def _freeze_loaded_objects(worker):
    """Once the app is loaded in a worker, leave what it loaded (modules, classes, templates, compiled queries) out
    of the garbage collector's scans: requests make many short-lived objects, and every full collection walked all of
    them (one took about 100 ms under the agents' uploads, docs/benchmarks.md row 5)."""
    import gc

    gc.collect()
    gc.freeze()


def parse_addr(addr: str) -> tuple[str, int]:

    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--addr must be host:port, such as 127.0.0.1:8000, got {addr!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _local_url(host: str, port: int) -> str:
    """How a process on this machine reaches the server (a wildcard bind is reached over loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _embedded_agent(args, host: str, port: int, agent_org: str | None, agent_name: str | None):
    from django.conf import settings

    from spyglass.monitoring.embedded import embedded_agent_token

    name = agent_name or socket.gethostname() or "spyglass"
    found = embedded_agent_token(agent_org, name)
    if found is None:
        err.print("no organization yet: the embedded agent starts with the next `spyglass serve` after `user create`")
        return None
    organization, token = found
    err.print(f"embedded agent {name!r} runs the tests assigned to it in {organization!r}")
    command = [sys.executable, "-m", "spyglass.cli.main", "agent", "--server", _local_url(host, port), "--name", name]
    command += ["--spool", str(settings.DATA_DIR / "agent-spool")]
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
