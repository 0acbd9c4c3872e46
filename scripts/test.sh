#!/usr/bin/env bash
# Sets up and runs every check: the Debian packages the tests start (influxdb, mosquitto, and
# chromium for the dashboard test), the virtual environment, ruff, mypy --strict, then pytest
# (arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh test

missing=()
command -v influxd >/dev/null || [ -x /usr/bin/influxd ] || missing+=(influxdb)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v chromium >/dev/null || missing+=(chromium)  # the dashboard's browser test
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

echo "== ruff" && .venv/bin/ruff check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== pytest" && .venv/bin/pytest "$@"
