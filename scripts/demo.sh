#!/usr/bin/env bash
# Sets up SaltWatch in .venv and runs `saltwatch demo`: embedded broker, SQLite stores in
# ./saltwatch-demo, the simulator, ingest, alerts, and the dashboard on http://127.0.0.1:8000.
# Arguments go to `saltwatch demo` (e.g. --reset, --speed 600, --bind 0.0.0.0:8000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec .venv/bin/saltwatch demo "$@"
