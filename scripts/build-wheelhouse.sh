#!/usr/bin/env bash
# Builds the project's wheel and every dependency's wheel into one directory
# (the "wheelhouse"), so a host or an image with no index can install the app
# with `pip install --no-index --find-links DIR tp-capital`.
# The wheels are for this interpreter's version and platform: build with the
# Python minor version the targets run (Debian 12: 3.11).
#
# Usage: scripts/build-wheelhouse.sh OUTDIR   (prints OUTDIR)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:?usage: build-wheelhouse.sh OUTDIR}"
PY="${TPCAP_WHEEL_PYTHON:-python3}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# the project wheel is rebuilt every time; dependencies come from pip's cache.
# A fixed timestamp for every zip entry makes the same sources give the same
# wheel, byte for byte, so a second deployment finds nothing changed.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-315532800}"
rm -f "$OUT"/tp_capital-*.whl
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
# build from a copy so the shared work tree gets no build/ or egg-info
tar -C "$ROOT" -c --exclude=.venv --exclude=.git --exclude='*.egg-info' --exclude=build \
    --exclude=__pycache__ --exclude="*.so" pyproject.toml setup.py app sql $( [ -f "$ROOT/README.md" ] && echo README.md ) \
    | tar -C "$BUILD" -x
"$PY" -m pip wheel -q --disable-pip-version-check --wheel-dir "$OUT" "$BUILD" 2> >(grep -v "is ignored: it is neither" >&2)
ls "$OUT"/tp_capital-*.whl >/dev/null
echo "$OUT"
