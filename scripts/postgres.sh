#!/usr/bin/env bash
# Prints a DATABASE_URL for a PostgreSQL server the tests may use, installing and starting one when needed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh >&2

can_connect() {
  python - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
PY
}

if [ -n "${SPYGLASS_TEST_DATABASE_URL:-}" ]; then
  can_connect "$SPYGLASS_TEST_DATABASE_URL" || { echo "cannot connect to SPYGLASS_TEST_DATABASE_URL" >&2; exit 1; }
  echo "$SPYGLASS_TEST_DATABASE_URL"; exit 0
fi
for url in "postgres://postgres@127.0.0.1:5432/postgres" "postgres://spyglass:spyglass@127.0.0.1:5432/postgres"; do
  if can_connect "$url"; then echo "$url"; exit 0; fi
done

# Nothing reachable: install (Debian package) and start a cluster, then make a password role for TCP access.
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing PostgreSQL (Debian package)…" >&2
  apt_install postgresql >&2 || { echo "PostgreSQL cannot be installed here" >&2; exit 1; }
fi
version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)"
if [ -z "$version" ]; then echo "no PostgreSQL cluster found after install" >&2; exit 1; fi
pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>/dev/null || pg_ctlcluster "$version" main start >&2 || true
for _ in $(seq 1 30); do
  runuser -u postgres -- psql -qtAc "select 1" >/dev/null 2>&1 && break
  sleep 1
done
runuser -u postgres -- psql -qtAc \
  "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='spyglass') THEN CREATE ROLE spyglass LOGIN SUPERUSER PASSWORD 'spyglass'; END IF; END\$\$;" >&2
url="postgres://spyglass:spyglass@127.0.0.1:5432/postgres"
can_connect "$url" || { echo "PostgreSQL started but refuses $url" >&2; exit 1; }
echo "$url"
