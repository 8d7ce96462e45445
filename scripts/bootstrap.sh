# Sourced by run.sh and test.sh: makes .venv with the project and its test tools installed.
# Works on a fresh Debian machine that has only Python 3 (installs python3-venv when missing and we are root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

apt_install() {
  if [ "$(id -u)" != "0" ]; then
    echo "bootstrap: need root to apt-get install $*; install them and run again" >&2
    return 1
  fi
  if [ ! -f /tmp/.spyglass-apt-updated ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && touch /tmp/.spyglass-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    apt_install python3-venv
    "$PY" -m venv "$VENV"
  fi
fi

# Reinstall only when the dependency list changed.
stamp="$VENV/.spyglass-deps"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
  echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"

# Browser libraries of the web app (uPlot) from the npm registry, exactly as package-lock.json pins them.
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
npm_stamp="$ROOT/node_modules/.spyglass-lock"
npm_want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$npm_want" > "$npm_stamp"
fi
