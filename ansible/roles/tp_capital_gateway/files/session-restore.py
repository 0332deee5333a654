#!/usr/bin/env python3
"""Restore a session backup made by session-backup.py into a session directory.

Stop the gateway first (docs/runbooks/session-backup-restore.md). Every file
is checked against the archive's MANIFEST.json and with `PRAGMA
integrity_check` before it replaces anything; files are written 0600 and, when
run as root, owned by the session directory's owner. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import tarfile
import tempfile
from pathlib import Path


def restore(archive: Path, dest: Path, *, force: bool) -> list[str]:
    if not dest.is_dir():
        raise RuntimeError(f"{dest} is not a directory")
    with tarfile.open(archive, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        if "MANIFEST.json" not in members:
            raise RuntimeError(f"{archive}: no MANIFEST.json, not a session backup")
        manifest = json.load(tar.extractfile(members["MANIFEST.json"]))  # type: ignore[arg-type]
        work = Path(tempfile.mkdtemp(prefix=".restore-", dir=dest))
        try:
            restored = []
            for entry in manifest["files"]:
                name = entry["name"]
                if "/" in name or not name.endswith(".session") or name not in members:
                    raise RuntimeError(f"{archive}: unexpected entry {name!r}")
                member = members[name]
                if not member.isfile():
                    raise RuntimeError(f"{archive}: {name} is not a regular file")
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                    raise RuntimeError(f"{archive}: {name} does not match its checksum")
                staged = work / name
                fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                db = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
                try:
                    result = db.execute("PRAGMA integrity_check").fetchone()[0]
                finally:
                    db.close()
                if result != "ok":
                    raise RuntimeError(f"{archive}: {name} fails integrity_check: {result}")
                target = dest / name
                if target.exists() and not force:
                    raise RuntimeError(f"{target} exists: pass --force to replace it")
                restored.append(name)
            owner = dest.stat()
            for name in restored:
                staged = work / name
                if os.geteuid() == 0:
                    os.chown(staged, owner.st_uid, owner.st_gid)
                os.replace(staged, dest / name)
                for stale in (f"{name}-journal", f"{name}-wal", f"{name}-shm"):
                    (dest / stale).unlink(missing_ok=True)
            return restored
        finally:
            for leftover in work.iterdir():
                leftover.unlink()
            work.rmdir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="a session-*.tar.gz backup")
    parser.add_argument("--dest", type=Path, required=True, help="the session directory")
    parser.add_argument("--force", action="store_true", help="replace existing session files")
    args = parser.parse_args(argv)
    os.umask(0o077)
    try:
        restored = restore(args.archive, args.dest, force=args.force)
    except (OSError, RuntimeError, tarfile.TarError, sqlite3.Error, KeyError) as exc:
        print(f"session-restore: failed: {exc}", file=sys.stderr)
        return 1
    print(f"session-restore: restored {', '.join(restored) or 'nothing'} into {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
