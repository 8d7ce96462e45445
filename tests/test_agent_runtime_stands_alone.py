"""The agent runtime runs on machines without the server: it must never import Django or the server's models."""

import subprocess
import sys

MODULES = [
    "spyglass.agent.runtime",
    "spyglass.agent.scheduler",
    "spyglass.agent.measure",
    "spyglass.agent.spool",
    "spyglass.agent.client",
    "spyglass.agent.probes.tcp",
    "spyglass.agent.probes.http",
    "spyglass.agent.probes.dns",
    "spyglass.agent.probes.icmp",
    "spyglass.cli.agent",
]


def test_the_agent_imports_nothing_of_django():
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] == 'django' or m.startswith('spyglass.monitoring'))\n"
        "print(leaked)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": "/usr/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
