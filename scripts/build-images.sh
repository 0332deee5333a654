#!/usr/bin/env bash
# Builds the app image (api + workspace) and the database image on this
# machine's Docker engine from the work tree, with no registry:
#   app: docker/app/Dockerfile on APP_BASE_IMAGE (default: the local
#        debootstrap image tpcap-base/debian-python:bookworm)
#   db:  docker/db/Dockerfile on DB_BASE_IMAGE (default tpcap-base/debian-postgres:bookworm)
# Prints the wheelhouse directory it used.
#
# Usage: scripts/build-images.sh [WHEELHOUSE_DIR]
#   APP_IMAGE=tp-capital-app:local DB_IMAGE=tp-capital-db:local (tags)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHEELHOUSE="${1:-${TPCAP_WHEELHOUSE:-/tmp/tpcap-wheelhouse}}"
APP_IMAGE="${APP_IMAGE:-tp-capital-app:local}"
DB_IMAGE="${DB_IMAGE:-tp-capital-db:local}"
APP_BASE_IMAGE="${APP_BASE_IMAGE:-tpcap-base/debian-python:bookworm}"
DB_BASE_IMAGE="${DB_BASE_IMAGE:-tpcap-base/debian-postgres:bookworm}"

"$ROOT/scripts/build-wheelhouse.sh" "$WHEELHOUSE" >/dev/null
CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT
cp -r "$ROOT/docker/app/." "$CTX/"
cp -r "$WHEELHOUSE" "$CTX/wheelhouse"
echo ">> build-images: $APP_IMAGE on $APP_BASE_IMAGE" >&2
docker build -q --build-arg "BASE_IMAGE=$APP_BASE_IMAGE" -t "$APP_IMAGE" "$CTX" 2>&1 \
    | { grep -v -e DEPRECATED -e "Install the buildx" -e "docs.docker.com/go/buildx" -e "^ *$" >&2 || true; }
echo ">> build-images: $DB_IMAGE on $DB_BASE_IMAGE" >&2
docker build -q --build-arg "BASE_IMAGE=$DB_BASE_IMAGE" -t "$DB_IMAGE" "$ROOT/docker/db" 2>&1 \
    | { grep -v -e DEPRECATED -e "Install the buildx" -e "docs.docker.com/go/buildx" -e "^ *$" >&2 || true; }
echo "$WHEELHOUSE"
