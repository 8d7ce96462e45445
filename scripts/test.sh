#!/usr/bin/env bash
# The whole test suite: lint, migrations check, then every test on SQLite and on a real PostgreSQL server, the two
# passes side by side, each spread over pytest-xdist workers (one test file per worker at a time).
# PostgreSQL: $SPYGLASS_TEST_DATABASE_URL, else a server on 127.0.0.1:5432, else the Debian package is installed and
# started here. If none can be had this fails; it never skips.
#
#   bash scripts/test.sh                  everything (what CI runs)
#   bash scripts/test.sh --fast           the inner loop: SQLite only, without the tests marked `slow`
#   bash scripts/test.sh -k tenancy -x    extra arguments go to pytest, in both passes
# SPYGLASS_TEST_DB_NAME names the PostgreSQL test databases (workers add _gw0, _gw1, …); the SQLite pass keeps its
# databases in memory. SPYGLASS_TEST_WORKERS sets the workers per pass (default 2; 0 runs each pass in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh

fast=0
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
fi

export SPYGLASS_DATA_DIR="$(mktemp -d /tmp/spyglass-test.XXXXXX)"
trap 'rm -rf "$SPYGLASS_DATA_DIR"' EXIT

echo "== ruff"
ruff check spyglass tests
ruff format --check spyglass tests

echo "== migrations are up to date"
# Also makes the data dir's secret key once, before the test processes read it all at the same time.
python manage.py makemigrations --check --dry-run

echo "== static files collected once (the test processes and the app processes they start all serve these)"
python -c 'import django, os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spyglass.settings"); django.setup()
from spyglass.web.staticfiles import ensure_collected; ensure_collected()'

echo "== types (mypy)"
mypy

echo "== system packages the tests use"
# Debian's Chromium, driven by Playwright (never Playwright's own browser download, which cannot work here);
# nginx as the load balancer of the multi-process tests.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
# iputils ping: the accuracy tests compare the agent's measurements with ping's over the same emulated link.
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v ip >/dev/null 2>&1 || need+=(iproute2)   # network namespaces for the emulated link
# The path-trace tests compare the agent's traces with Debian's traceroute and mtr on a multi-hop network of
# namespaces, whose silent router drops its ICMP with iptables.
command -v traceroute >/dev/null 2>&1 || need+=(traceroute)
command -v mtr >/dev/null 2>&1 || need+=(mtr-tiny)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)   # runs the agent without CAP_NET_RAW
# The failover test makes a primary and a replica of its own with the server binaries (initdb, pg_ctl, pg_basebackup),
# whatever server the PostgreSQL pass uses.
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)   # scrapes /metrics in tests/test_prometheus_metrics.py
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
mkdir -p artifacts

workers="${SPYGLASS_TEST_WORKERS:-2}"
# Files in collection order (tests/conftest.py puts the slow ones first), not xdist's largest-file-first.
pytest_args=(-n "$workers" --dist loadfile --no-loadscope-reorder --durations 15)
if [ "$fast" = 1 ]; then
  echo "== tests on SQLite, without the slow ones"
  env -u DATABASE_URL -u SPYGLASS_TEST_DB_NAME python -m pytest "${pytest_args[@]}" -m "not slow" "$@"
  exit 0
fi

echo "== PostgreSQL"
PG_URL="$(bash scripts/postgres.sh)"
echo "using ${PG_URL%%@*}@… for PostgreSQL tests"

# The SQLite pass runs in the background into a log printed when both are done; the PostgreSQL pass, the longer
# one, prints as it goes. The tests that hold real-time measurements to an emulated network (marked `netns`; they
# need no database) run once, afterwards, alone on a quiet machine: beside four busy workers a 2-core machine's
# scheduling adds milliseconds to every crossing of the emulated link, and that is the machine, not the product.
sqlite_log="$SPYGLASS_DATA_DIR/sqlite-pass.log"
echo "== tests on SQLite (in the background; its output follows the PostgreSQL pass)"
env -u DATABASE_URL -u SPYGLASS_TEST_DB_NAME python -m pytest "${pytest_args[@]}" -m "not netns" "$@" >"$sqlite_log" 2>&1 &
sqlite_pid=$!

echo "== tests on PostgreSQL"
pg_status=0
DATABASE_URL="$PG_URL" python -m pytest "${pytest_args[@]}" -m "not netns" "$@" || pg_status=$?

sqlite_status=0
wait "$sqlite_pid" || sqlite_status=$?
echo "== tests on SQLite: output"
cat "$sqlite_log"

echo "== measurements on emulated networks, alone on the machine"
netns_status=0
env -u DATABASE_URL -u SPYGLASS_TEST_DB_NAME python -m pytest --durations 5 -m netns "$@" || netns_status=$?
[ "$netns_status" = 5 ] && netns_status=0   # extra arguments selected none of them

echo "== SQLite pass: exit $sqlite_status; PostgreSQL pass: exit $pg_status; emulated networks: exit $netns_status"
[ "$sqlite_status" = 0 ] && [ "$pg_status" = 0 ] && [ "$netns_status" = 0 ]
