#!/usr/bin/env bash
# Makes the deployment tool virtualenv (ansible, molecule with its docker
# driver) and prints its bin/ directory. Kept outside the work tree, keyed by
# the requirements file's hash, so a fresh clone on a warm machine reuses it.
#
# Usage: PATH="$(scripts/ensure-deploy-tools.sh):$PATH"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="$ROOT/ansible/requirements.txt"
BASE="${TPCAP_DEPLOY_VENV_BASE:-${XDG_CACHE_HOME:-$HOME/.cache}/tpcap-deploy}"
KEY="$(sha256sum "$REQ" | cut -c1-16)"
VENV="$BASE/venv-$KEY"
PY="${TPCAP_DEPLOY_PYTHON:-python3}"

if [ ! -f "$VENV/.complete" ]; then
    echo ">> ensure-deploy-tools: installing ansible and molecule into $VENV" >&2
    rm -rf "$VENV"
    mkdir -p "$BASE"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q -r "$REQ" build >&2
    touch "$VENV/.complete"
fi
echo "$VENV/bin"
