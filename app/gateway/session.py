"""The Telethon session: the account credential, so it is guarded like one.

A string session comes from TELEGRAM_SESSION; otherwise the session is a
SQLite file in SESSION_DIR, which must be 0700 with files 0600 (anything
group- or world-readable is refused). A file Telethon cannot load is moved
aside as `*.corrupt-<timestamp>` and the gateway stops with EXIT_SESSION_CORRUPT,
so systemd does not restart-loop on it and an operator runs `tpcap gateway login`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import stat
from pathlib import Path

from telethon.sessions import Session, SQLiteSession, StringSession

log = logging.getLogger("app.gateway.session")

EXIT_SESSION_CORRUPT = 78  # EX_CONFIG: an operator must log in again
EXIT_SESSION_UNSAFE = 77  # EX_NOPERM: the session directory or file is readable by others


class SessionError(Exception):
    exit_code = EXIT_SESSION_CORRUPT


class SessionCorrupt(SessionError):
    exit_code = EXIT_SESSION_CORRUPT


class SessionUnsafe(SessionError):
    exit_code = EXIT_SESSION_UNSAFE


def _readable_by_others(mode: int) -> bool:
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def prepare_session_dir(directory: Path, *, create: bool) -> None:
    """Create the directory 0700 if asked; refuse one others can read."""
    if not directory.exists():
        if not create:
            return
        directory.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
    mode = directory.stat().st_mode
    if _readable_by_others(mode):
        raise SessionUnsafe(
            f"SESSION_DIR {directory} is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run `chmod 700 {directory}`"
        )


def check_session_file(path: Path) -> None:
    if path.exists() and _readable_by_others(path.stat().st_mode):
        raise SessionUnsafe(
            f"session file {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(path.stat().st_mode):04o}); run `chmod 600 {path}`"
        )


def quarantine(path: Path, now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(target)
    return target


def open_file_session(path: Path, *, create: bool = False) -> SQLiteSession | None:
    """The session in `path` (full name, ending in .session); None when there is none.

    `create` is for login, which writes a new file (0600: the umask is tightened
    while Telethon creates it).
    """
    prepare_session_dir(path.parent, create=create)
    if not path.exists() and not create:
        return None
    check_session_file(path)
    old_umask = os.umask(0o077)
    try:
        session = SQLiteSession(str(path))
        # Telethon opens lazily in places; touching the tables proves the file is sound.
        session.auth_key  # noqa: B018
    except (sqlite3.DatabaseError, ValueError, KeyError, TypeError) as exc:
        moved = quarantine(path)
        raise SessionCorrupt(
            f"session file {path} cannot be loaded ({type(exc).__name__}: {exc}); "
            f"moved to {moved.name}. Run `tpcap gateway login` to create a new session."
        ) from None
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    return session


def open_string_session(value: str) -> StringSession:
    try:
        return StringSession(value)
    except Exception as exc:
        raise SessionCorrupt(
            f"TELEGRAM_SESSION cannot be loaded ({type(exc).__name__}); replace it with a "
            "new string session or unset it and run `tpcap gateway login`"
        ) from None


def secure_session_file(session: Session) -> None:
    """After a login or a save: the file stays 0600 whatever the process umask was."""
    filename = getattr(session, "filename", None)
    if filename and Path(filename).exists():
        os.chmod(filename, 0o600)
