"""The `spyglass` command. Each subcommand lives in its own module; this file only parses and dispatches."""

import argparse
import os
import sys

from rich.console import Console

err = Console(stderr=True, soft_wrap=True)  # never wrap messages that scripts and tests read


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spyglass.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    from . import commands

    parser = argparse.ArgumentParser(prog="spyglass", description="Self-hosted network tests, shared.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the web app and API (migrates first)")
    p.add_argument("--addr", default="127.0.0.1:8000", help="host:port to listen on")
    p.add_argument("--no-agent", action="store_true", help="do not run the embedded agent")
    p.add_argument("--no-worker", action="store_true", help="do not run the background worker")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    p.set_defaults(func=commands.serve)

    p = sub.add_parser("worker", help="run the background worker alone (retention, housekeeping)")
    p.add_argument("--once", action="store_true", help="run one pass and exit")
    p.set_defaults(func=commands.worker)

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.set_defaults(func=commands.migrate)

    p = sub.add_parser("user", help="manage users")
    usub = p.add_subparsers(dest="user_command", required=True)
    u = usub.add_parser("create", help="create a user (and the organization and account groups when missing)")
    u.add_argument("--email", required=True)
    u.add_argument("--password")
    u.add_argument("--name", default="")
    u.add_argument("--org", required=True)
    u.add_argument("--account-group", action="append", required=True, dest="account_groups")
    u.add_argument("--role", required=True, help="Organization Admin, Account Admin or Regular User")
    u.set_defaults(func=commands.user_create)

    p = sub.add_parser("token", help="manage API tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    t = tsub.add_parser("create", help="create (or replace) a user's API token and print it")
    t.add_argument("--email", required=True)
    t.set_defaults(func=commands.token_create)

    p = sub.add_parser("import", help="import ThousandEyes v6 data JSON into a test")
    p.add_argument("--test", type=int, required=True, dest="test_id")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=commands.import_files)

    p = sub.add_parser("asn", help="the prefix-to-AS table that names hops' prefixes and networks")
    asub = p.add_subparsers(dest="asn_command", required=True)
    a = asub.add_parser("import", help="replace the table from a RouteViews prefix2as file (nothing is fetched)")
    a.add_argument("file", help="prefix<TAB>length<TAB>AS lines (CAIDA routeviews-rv2-*.pfx2as, or .gz)")
    a.add_argument("--names", help="AS names: 'ASN NAME' lines (RIPE asn.txt), optional")
    a.set_defaults(func=commands.asn_import)
    a = asub.add_parser("lookup", help="print the longest stored prefix and network of addresses")
    a.add_argument("addresses", nargs="+")
    a.set_defaults(func=commands.asn_lookup)

    p = sub.add_parser("bench", help="measure the hot paths as ratios against their baselines (a report)")
    p.add_argument("--quick", action="store_true", help="smaller data, every row, under 2 minutes")
    p.add_argument("--json", dest="json_path", help="also write the figures as JSON to this file")
    p.add_argument("--database-url", help="run on PostgreSQL: a temp database is created on this server")
    p.add_argument("--only", type=int, action="append", help="run only this row (repeatable)")
    p.set_defaults(func=commands.bench)

    p = sub.add_parser("seed", help="write realistic synthetic history into a test")

    p.add_argument("--test", type=int, required=True, dest="test_id")
    p.add_argument("--agents", type=int, required=True)
    p.add_argument("--hours", type=float, required=True)
    p.add_argument("--random-seed", type=int, default=None)
    p.set_defaults(func=commands.seed)

    p = sub.add_parser("agent", help="run an agent that runs its assigned tests and posts results to a server")
    p.add_argument("--server", required=True, help="the spyglass server's URL, such as https://spyglass.example.com")
    p.add_argument(
        "--token", default=os.environ.get("SPYGLASS_AGENT_TOKEN"), help="agent token (or $SPYGLASS_AGENT_TOKEN)"
    )
    p.add_argument("--name", default=None, help="agent name (default: this host's name)")
    p.add_argument("--kind", choices=["enterprise", "endpoint"], default="enterprise")
    p.add_argument("--spool", default=None, help="spool directory for unsent results (default: ./.spyglass-agent)")
    p.set_defaults(func=commands.agent, django=False)

    p = sub.add_parser("agent-token", help="manage agent tokens")
    asub = p.add_subparsers(dest="agent_token_command", required=True)
    a = asub.add_parser("create", help="create an agent token for an organization and print it")
    a.add_argument("--org", required=True)
    a.add_argument("--name", required=True)
    a.set_defaults(func=commands.agent_token_create)

    p = sub.add_parser("demo", help="run a demo: demo organization, local targets, tests with history, live agent")
    p.add_argument("--addr", default="127.0.0.1:8000", help="host:port to listen on")
    p.set_defaults(func=commands.demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "django", True):
        _setup_django()  # the agent runs on machines without a server configuration
    code = args.func(args)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
