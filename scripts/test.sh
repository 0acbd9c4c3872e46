#!/usr/bin/env bash
# Sets up and runs every check: the Debian packages the tests use (influxdb and mosquitto, chromium
# for the dashboard test, docker-compose to validate docker-compose.yml), the virtual environment,
# ruff, mypy --strict, then pytest (arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh test

missing=()
command -v influxd >/dev/null || [ -x /usr/bin/influxd ] || missing+=(influxdb)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v chromium >/dev/null || missing+=(chromium)  # the dashboard's browser test
command -v docker-compose >/dev/null || missing+=(docker-compose)  # validates docker-compose.yml
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

echo "== ruff" && .venv/bin/ruff check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== pytest" && .venv/bin/pytest "$@"
