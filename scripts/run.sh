#!/usr/bin/env bash
# Runs spyglass on its embedded default (SQLite under ./.spyglass/). Extra arguments go to `spyglass serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
exec spyglass serve "$@"
