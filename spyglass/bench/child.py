"""The benchmark's own process: a fresh database, seeded data, then every row measured."""

import argparse
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", type=int, action="append")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spyglass.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    # uploads, paths and streams register the rows that upload through the agent API, that measure path trace
    # storage and that drain a stream's backlog.
    from . import paths, rows, streams, uploads  # noqa: F401
    from .data import build

    data = build(quick=args.quick)
    settle()
    results = []
    for row in rows.ROWS:
        if args.only and row.id not in args.only:
            continue
        print(f"bench row {row.id}: {row.what} …", file=sys.stderr, flush=True)
        value, detail = row.measure(data)
        if row.missed and not row.met(value):
            detail += f"; missed: {row.missed}"
        results.append(
            {
                "id": row.id,
                "what": row.what,
                "value": round(value, 4),
                "target": row.target,
                "met": row.met(value),
                "detail": detail,
            }
        )
    with open(args.out, "w") as fh:
        json.dump({"results": results}, fh)


def settle():
    """After seeding: fold SQLite's write-ahead log into the database and refresh planner statistics, so the
    first measurements do not pay for the seeding."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("ANALYZE")


if __name__ == "__main__":
    main()
