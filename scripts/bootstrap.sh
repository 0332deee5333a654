# Sourced by the quick-start scripts: makes sure the system packages and the
# project virtualenv (.venv) exist. Safe to run again; does nothing twice.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

_sudo() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

_apt_install() {
    echo ">> installing system packages: $*" >&2
    if [ -z "${_APT_UPDATED:-}" ]; then
        _sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        _APT_UPDATED=1
    fi
    _sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_system_packages() {
    local missing=()
    command -v python3 >/dev/null || missing+=(python3)
    python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
        missing+=(postgresql)
    fi
    # a C compiler and Python's headers: setup.py compiles the signal parser with mypyc
    # (without them the parser is installed as plain Python, slower)
    command -v gcc >/dev/null || missing+=(gcc libc6-dev)
    python3 -c 'import os, sysconfig; assert os.path.exists(sysconfig.get_paths()["include"] + "/Python.h")' \
        2>/dev/null || missing+=(python3-dev)
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        missing+=(postgresql)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        _apt_install "${missing[@]}"
    fi
    # Debian's postgresql package starts a system cluster on 5432; we use our own.
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo ">> creating virtualenv in $VENV" >&2
        python3 -m venv "$VENV"
    fi
    # pyproject.toml, setup.py and the parser's sources: an edited parser module is compiled
    # again (app/parsing/compiled.py runs the sources meanwhile)
    local key
    key="$(cat "$ROOT/pyproject.toml" "$ROOT/setup.py" "$ROOT"/app/parsing/*.py \
        "$ROOT/app/parsing/lexicon/__init__.py" | sha256sum | cut -c1-16)"
    local stamp="$VENV/.installed-$key"
    if [ ! -f "$stamp" ]; then
        echo ">> installing the project and its dependencies" >&2
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
}
