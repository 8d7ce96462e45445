"""Implementations of the `spyglass` subcommands: thin wrappers over the domain modules."""

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

err = Console(stderr=True, soft_wrap=True)  # never wrap messages that scripts and tests read


def _fail(message: str) -> int:
    err.print(f"[red]error:[/red] {message}")
    return 2


def migrate(args=None) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return 0


def _progress(description: str, show: bool):
    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not show,
    )


def user_create(args) -> int:
    from spyglass.accounts.services import UserInputError, create_user

    migrate()
    try:
        user = create_user(args.email, args.password, args.name, args.org, args.account_groups, args.role)
    except UserInputError as exc:
        return _fail(str(exc))
    groups = ", ".join(args.account_groups)
    err.print(f"user {user.email} is {args.role} in {groups} ({args.org})")
    return 0


def token_create(args) -> int:
    from spyglass.accounts.models import ApiToken, User

    migrate()
    user = User.objects.filter(email=args.email.strip().lower()).first()
    if user is None:
        return _fail(f"no user with e-mail {args.email}")
    print(ApiToken.issue(user))
    return 0


def _test(test_id: int):
    from spyglass.monitoring.models import Test

    return Test.objects.select_related("account_group").filter(id=test_id).first()


def import_files(args) -> int:
    from spyglass.monitoring.importer import ImportFileError, import_file

    migrate()
    test = _test(args.test_id)
    if test is None:
        return _fail(f"no test with id {args.test_id}")
    failures = 0
    for name in args.files:
        path = Path(name)
        big = path.exists() and path.stat().st_size > 1_000_000
        with _progress(f"importing {path.name}", big) as bar:
            task = bar.add_task("import", total=None)
            try:
                count = import_file(
                    path, test, progress=lambda done, total, t=task: bar.update(t, completed=done, total=total)
                )
            except ImportFileError as exc:
                failures += 1
                err.print(f"[red]rejected:[/red] {exc} (nothing imported from this file)")
                continue
        err.print(f"imported {count} rows from {path}")
    return 1 if failures else 0


def _text_lines(path: Path):
    """The lines of a text file, gzip-compressed or not (RouteViews publishes .pfx2as.gz)."""
    import gzip

    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8", errors="strict") as text:
        yield from text


def asn_import(args) -> int:
    from spyglass.monitoring import asn

    migrate()
    try:
        prefixes = asn.parse_prefixes(_text_lines(Path(args.file)), args.file)
        names = asn.parse_names(_text_lines(Path(args.names)), args.names) if args.names else None
    except asn.AsnFileError as exc:
        return _fail(f"{exc} (the table is unchanged)")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        return _fail(
            f"cannot read {exc.filename if isinstance(exc, OSError) else 'the file'}: {exc} (the table is unchanged)"
        )
    count = asn.load(prefixes, names, args.file)
    named = f" and {len(names)} AS names" if names is not None else ""
    err.print(f"loaded {count} prefixes{named} from {args.file}")
    return 0


def asn_lookup(args) -> int:
    from spyglass.monitoring import asn

    migrate()
    found = asn.lookup(args.addresses)
    for address in args.addresses:
        network = found.get(address)
        print(f"{address}\t{network.prefix}\t{network.label}" if network else f"{address}\t\t")
    return 0


def seed(args) -> int:
    from spyglass.monitoring.seed import seed as run_seed

    migrate()
    test = _test(args.test_id)
    if test is None:
        return _fail(f"no test with id {args.test_id}")
    if args.agents < 1 or args.agents > 1000:
        return _fail("--agents must be from 1 to 1000")
    if not 0 < args.hours <= 24 * 90:
        return _fail("--hours must be more than 0 and at most 2160 (90 days)")
    with _progress(f"seeding test {test.id}", sys.stderr.isatty()) as bar:
        task = bar.add_task("seed", total=None)
        count = run_seed(
            test,
            args.agents,
            args.hours,
            args.random_seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    err.print(f"seeded {count} rows into test {test.id} ({args.agents} agents, {args.hours:g} h)")
    return 0


def serve(args) -> int:
    from spyglass.lib.replicas import unreachable_replica

    from .serve import run

    migrate()
    problem = unreachable_replica()
    if problem:
        err.print(f"[red]configuration error:[/red] {problem}")
        return 2
    return run(args)


def worker(args) -> int:
    from spyglass.worker import run_forever, run_once

    migrate()
    if args.once:
        run_once()
        return 0
    return run_forever()


def agent(args) -> int:
    from .agent import run

    return run(args)


def agent_token_create(args) -> int:
    from spyglass.accounts.models import Organization
    from spyglass.monitoring.agent_service import issue_agent_token

    migrate()
    organization = Organization.objects.filter(name=args.org.strip()).first()
    if organization is None:
        return _fail(f"no organization named {args.org!r}")
    name = args.name.strip()
    if not name or len(name) > 200:
        return _fail("--name must be 1 to 200 characters")
    print(issue_agent_token(organization.id, name))
    return 0


def demo(args) -> int:
    from .demo import run

    migrate()
    return run(args)


def bench(args) -> int:
    from spyglass.bench.runner import run

    return run(args.quick, args.json_path, args.database_url, args.only)
