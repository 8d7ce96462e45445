"""`spyglass agent`: the agent process (no Django: it may run far from the server)."""

import logging
import signal
import socket
from urllib.parse import urlsplit

from rich.console import Console
from rich.logging import RichHandler

err = Console(stderr=True)


def run(args) -> int:
    from spyglass.agent.runtime import AgentRuntime

    parts = urlsplit(args.server or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        err.print(
            f"[red]error:[/red] --server must be an http(s) URL such as https://spyglass.example.com, got {args.server!r}"
        )
        return 2
    if not args.token:
        err.print(
            "[red]error:[/red] --token is needed (or set SPYGLASS_AGENT_TOKEN); create one with `spyglass agent-token create`"
        )
        return 2
    name = (args.name or socket.gethostname() or "agent").strip()
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=err, show_path=False)])
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the agent's own news
    runtime = AgentRuntime(args.server, args.token, name, args.kind, args.spool or "./.spyglass-agent")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: runtime.stop.set())
    err.print(f"agent {name!r} ({args.kind}) reporting to {args.server}")
    return runtime.run()
