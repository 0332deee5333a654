#!/usr/bin/env bash
# Sets up and runs the whole appliance on this machine: a private PostgreSQL,
# migrations, the api (4005), the workspace (3200) and the gateway (4006),
# then a demo signal through the real ingest path. Ctrl-C stops everything.
# Usage: ./scripts/run-local.sh [tpcap local options, see --help]
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
ensure_system_packages
ensure_venv
cd "$ROOT"
exec "$VENV/bin/tpcap" local "$@"
