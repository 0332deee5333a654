#!/usr/bin/env bash
# Sets up everything the tests need and runs them all.
# Usage: ./scripts/test.sh [pytest arguments]
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ensure_system_packages
ensure_venv
cd "$ROOT"
# Tools some tests drive (each script is idempotent and quick when done already).
"$ROOT/scripts/ensure-nix-vagrant.sh" >&2
echo ">> ruff" >&2
"$VENV/bin/ruff" check app tests setup.py
echo ">> pytest" >&2
exec "$VENV/bin/python" -m pytest "$@"
