#!/usr/bin/env python3
"""Back up the gateway's Telethon session directory.

Each `*.session` file (SQLite) is copied with SQLite's online backup API, so a
session the gateway is writing is copied consistently; the copies are checked
with `PRAGMA integrity_check`, packed with a MANIFEST.json into
`session-<UTC time>.tar.gz` (mode 0600) in the backup directory, and all but the
newest `--keep` archives are removed. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from pathlib import Path

PREFIX = "session-"
SUFFIX = ".tar.gz"


def backup_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            result = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if result != "ok":
        raise RuntimeError(f"{source}: integrity check of the copy failed: {result}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_archive(source: Path, dest: Path, now: dt.datetime) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    archive = dest / f"{PREFIX}{stamp}{SUFFIX}"
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=dest))
    try:
        files = []
        for path in sorted(source.glob("*.session")):
            if path.is_file():
                backup_sqlite(path, work / path.name)
                files.append({"name": path.name, "sha256": sha256(work / path.name)})
        manifest = {"created": now.isoformat(), "source": str(source), "files": files}
        (work / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
        partial = dest / f".{archive.name}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for entry in sorted(work.iterdir()):
                info = tar.gettarinfo(str(entry), arcname=entry.name)
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                with entry.open("rb") as handle:
                    tar.addfile(info, handle)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, archive)
        dir_fd = os.open(dest, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        print(f"session-backup: wrote {archive} ({len(files)} session file(s))")
        if not files:
            print(f"session-backup: note: no *.session file in {source} (not logged in yet)")
        return archive
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prune(dest: Path, keep: int) -> list[Path]:
    archives = sorted(p for p in dest.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())
    removed = archives[:-keep] if len(archives) > keep else []
    for path in removed:
        path.unlink()
        print(f"session-backup: removed old {path.name}")
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the session directory")
    parser.add_argument("--dest", type=Path, required=True, help="the backup directory")
    parser.add_argument("--keep", type=int, default=30, help="archives to keep (default 30)")
    args = parser.parse_args(argv)
    if args.keep < 1:
        parser.error("--keep must be at least 1")
    os.umask(0o077)
    if not args.source.is_dir():
        print(f"session-backup: {args.source} is not a directory", file=sys.stderr)
        return 1
    args.dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        make_archive(args.source, args.dest, dt.datetime.now(dt.UTC))
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        print(f"session-backup: failed: {exc}", file=sys.stderr)
        return 1
    prune(args.dest, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
