#!/usr/bin/env bash
# Sets up and runs every check: the Debian servers the integration tests start (influxdb,
# mosquitto), the virtual environment, ruff, mypy --strict, then pytest (arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh test

missing=()
command -v influxd >/dev/null || [ -x /usr/bin/influxd ] || missing+=(influxdb)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

echo "== ruff" && .venv/bin/ruff check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== pytest" && .venv/bin/pytest "$@"
