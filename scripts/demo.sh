#!/usr/bin/env bash
# Sets up SaltWatch in .venv and runs the main job on the embedded defaults (SQLite store).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec .venv/bin/saltwatch check "$@"
