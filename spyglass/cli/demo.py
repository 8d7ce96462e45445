"""`spyglass demo`: start the local targets, prepare the demo data, then serve with the embedded agent."""

import json
import subprocess
import sys

from rich.console import Console

from .serve import parse_addr
from .serve import run as serve

err = Console(stderr=True, soft_wrap=True)


def _start_targets() -> tuple[subprocess.Popen, dict]:
    child = subprocess.Popen([sys.executable, "-m", "spyglass.demo.targets"], stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    try:
        ports = json.loads(line)
    except ValueError:
        child.kill()
        raise RuntimeError("the demo targets did not start") from None
    return child, ports


def run(args) -> int:
    from argparse import Namespace

    from spyglass.demo import setup

    try:
        parse_addr(args.addr)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    from django.conf import settings

    from spyglass.lib.config import env

    if not env("SPYGLASS_BASE_URL"):
        settings.BASE_URL = f"http://{args.addr}"  # so the printed share link points at this server
    targets, ports = _start_targets()
    try:
        with err.status("preparing the demo (48 h of history on first run)…"):
            data = setup.prepare(ports)
        err.print(
            f"\n[bold]spyglass demo[/bold] — organization {setup.ORG!r}, account groups {', '.join(setup.GROUPS)}"
        )
        err.print(f"password for every demo user: {setup.PASSWORD}")
        for email, role, token in data.users:
            err.print(f"  {role:<19} {email}   API token: {token}", soft_wrap=True)
        err.print(
            f"local targets: http://127.0.0.1:{ports['http']}/, TCP 127.0.0.1:{ports['tcp']}, "
            f"DNS 127.0.0.1:{ports['dns']}; tests: {', '.join(t.name for t in data.tests)}"
        )
        err.print(f"embedded agent {data.agent_name!r} runs them every minute. Ctrl-C stops everything.")
        err.print(f"share link (anyone can open it, signed out): {data.share_url}")
        err.print(
            f"\nopen http://{args.addr}/ and sign in as a user above "
            f"(API docs: http://{args.addr}/v6/docs and /v7/docs; "
            f"curl -u {data.users[0][0]}:TOKEN http://{args.addr}/v6/tests.json)\n"
        )
        options = Namespace(addr=args.addr, no_agent=False, no_worker=False, workers=2)
        return serve(options, agent_org=setup.ORG, agent_name=data.agent_name)
    finally:
        targets.terminate()
        try:
            targets.wait(timeout=10)
        except subprocess.TimeoutExpired:
            targets.kill()
