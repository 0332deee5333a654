#!/usr/bin/env bash
# Makes sure this machine has the tools of tests/nix and tests/vagrant:
# Debian's nix-bin (nix-instantiate, to parse and evaluate the flake's files
# offline) and vagrant (with ruby, for `vagrant validate`). Idempotent: when
# both are there it returns at once.
set -euo pipefail

_sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v nix-instantiate >/dev/null || missing+=(nix-bin)
command -v vagrant >/dev/null || missing+=(vagrant)
[ ${#missing[@]} -eq 0 ] && exit 0

echo ">> ensure-nix-vagrant: installing ${missing[*]}" >&2
_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
