#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: a virtual environment in .venv with
# SaltWatch installed (with the test extra when the first argument is "test").
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  echo "setup: installing Debian packages: $*" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "setup: SaltWatch needs Python 3.11 or newer as $PYTHON" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  "$PYTHON" -m venv .venv
fi
# the bulletin's PDF (WeasyPrint) lays out its text with Pango
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || apt_install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
extra=""
[ "${1:-}" = test ] && extra="[test]"
# within the versions the checks last passed with (constraints.txt)
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".${extra}"
