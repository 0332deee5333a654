#!/usr/bin/env bash
# Makes sure this machine can run the deployment tests: a Docker engine, the
# docker-compose CLI, promtool, and the locally built base images (Debian
# bookworm from debootstrap, since no container registry may be reachable).
# Idempotent: when everything is there it returns in about a second.
#
# Usage: scripts/ensure-docker.sh            # engine + base images
#        TPCAP_BASE_PREFIX=... to rename the images (default: tpcap-base)
set -euo pipefail

PREFIX="${TPCAP_BASE_PREFIX:-tpcap-base}"
SUITE="${TPCAP_DEBIAN_SUITE:-bookworm}"
MIRROR="${TPCAP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
WORK="${TPCAP_ROOTFS_DIR:-/var/tmp/tpcap-rootfs}"
LOG="${TPCAP_ENSURE_LOG:-/var/tmp/tpcap-ensure-docker.log}"

# name -> packages debootstrap includes (minbase variant)
declare -A IMAGES=(
    [debian-python]="python3,python3-venv,tini,ca-certificates"
    [debian-systemd]="python3,python3-venv,python3-apt,systemd,systemd-sysv,dbus,procps,ca-certificates"
    [debian-postgres]="postgresql-15,tini,ca-certificates"
)

say() { echo ">> ensure-docker: $*" >&2; }

_sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v docker-compose >/dev/null || missing+=(docker-compose)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v promtool >/dev/null || missing+=(prometheus)
    command -v iptables >/dev/null || missing+=(iptables)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        _sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # prometheus only for promtool: keep its service from starting where systemd runs
        _sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1
    fi
}

ensure_engine() {
    if docker info >/dev/null 2>&1; then
        return
    fi
    if [ -d /run/systemd/system ] && _sudo systemctl start docker >/dev/null 2>&1; then
        :
    else
        say "starting dockerd in the background (log: /var/tmp/tpcap-dockerd.log)"
        _sudo sh -c 'nohup setsid dockerd >/var/tmp/tpcap-dockerd.log 2>&1 </dev/null &'
    fi
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return
        sleep 1
    done
    say "dockerd did not come up; last log lines:"
    tail -20 /var/tmp/tpcap-dockerd.log >&2 || true
    exit 1
}

build_base() {
    local name="$1" include="$2" ref="$PREFIX/$1:$SUITE"
    # the include list is part of the image's label: a changed list rebuilds it
    local want
    want="$(echo "$SUITE $include" | sha256sum | cut -c1-16)"
    if [ "$(docker image inspect -f '{{ index .Config.Labels "tpcap.rootfs" }}' "$ref" 2>/dev/null)" = "$want" ]; then
        return
    fi
    local dir="$WORK/$name"
    say "building base image $ref with debootstrap (about a minute)"
    _sudo rm -rf "$dir"
    mkdir -p "$dir"
    _sudo debootstrap --variant=minbase --include="$include" "$SUITE" "$dir" "$MIRROR" >>"$LOG" 2>&1 || {
        say "debootstrap failed; see $LOG"; tail -20 "$LOG" >&2; exit 1; }
    _sudo chroot "$dir" apt-get clean
    _sudo rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
    _sudo tar -C "$dir" -c . | docker import \
        -c "LABEL tpcap.rootfs=$want" -c 'CMD ["/bin/bash"]' - "$ref" >/dev/null
    _sudo rm -rf "$dir"
}

ensure_packages
ensure_engine
for name in "${!IMAGES[@]}"; do
    build_base "$name" "${IMAGES[$name]}" &
done
fail=0
for job in $(jobs -p); do wait "$job" || fail=1; done
[ "$fail" -eq 0 ] || exit 1
say "ready: $(docker version -f '{{.Server.Version}}') with $(docker images --format '{{.Repository}}:{{.Tag}}' "$PREFIX/*" | tr '\n' ' ')"
