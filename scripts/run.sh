#!/usr/bin/env bash
# Runs the spyglass demo on the embedded default (SQLite under ./.spyglass/): demo organization and users, local
# targets, three tests with 48 h of history, the server and its embedded agent. Extra arguments go to `spyglass demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
exec spyglass demo "$@"
