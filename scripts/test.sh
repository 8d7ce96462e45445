#!/usr/bin/env bash
# The whole test suite: lint, migrations check, then every test on SQLite and on a real PostgreSQL server.
# PostgreSQL: $SPYGLASS_TEST_DATABASE_URL, else a server on 127.0.0.1:5432, else the Debian package is installed and
# started here. If none can be had this fails; it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh

export SPYGLASS_DATA_DIR="$(mktemp -d /tmp/spyglass-test.XXXXXX)"
trap 'rm -rf "$SPYGLASS_DATA_DIR"' EXIT

echo "== ruff"
ruff check spyglass tests
ruff format --check spyglass tests

echo "== migrations are up to date"
python manage.py makemigrations --check --dry-run

echo "== system packages the tests use"
# Debian's Chromium, driven by Playwright (never Playwright's own browser download, which cannot work here);
# nginx as the load balancer of the multi-process tests.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
# iputils ping: the accuracy tests compare the agent's measurements with ping's over the same emulated link.
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v ip >/dev/null 2>&1 || need+=(iproute2)   # network namespaces for the emulated link
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
mkdir -p artifacts

echo "== PostgreSQL"
PG_URL="$(bash scripts/postgres.sh)"
echo "using ${PG_URL%%@*}@… for PostgreSQL tests"

echo "== tests on SQLite"
env -u DATABASE_URL python -m pytest "$@"

echo "== tests on PostgreSQL"
DATABASE_URL="$PG_URL" python -m pytest "$@"
