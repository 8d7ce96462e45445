"""`spyglass serve`: gunicorn for the app, plus the background worker (and later the embedded agent) as children."""

import signal
import subprocess
import sys

from gunicorn.app.base import BaseApplication
from rich.console import Console

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


def gunicorn_options(host: str, port: int, workers: int) -> dict:
    """The one gunicorn configuration (the benchmark serves with it too)."""
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "loglevel": "warning",
    }


def parse_addr(addr: str) -> tuple[str, int]:

    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--addr must be host:port, such as 127.0.0.1:8000, got {addr!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _children(args) -> list[subprocess.Popen]:
    children = []
    if not args.no_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "spyglass.cli.main", "worker"]))
    return children


def run(args) -> int:
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
    children = _children(args)

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
