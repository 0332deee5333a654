"""A private PostgreSQL server in a folder, for the local quick start and the tests.

initdb refuses to run as root, so as root the cluster belongs to the
`postgres` system user and its commands run through runuser.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path


class LocalPgError(Exception):
    pass


def find_bindir() -> Path:
    explicit = os.environ.get("PG_BINDIR")
    if explicit:
        return Path(explicit)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise LocalPgError(
        "PostgreSQL server binaries not found: install them with "
        "`apt-get install -y postgresql` (or set PG_BINDIR)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalPg:
    """initdb + pg_ctl around one data folder; user `postgres`, trust auth on loopback."""

    def __init__(self, datadir: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.datadir = Path(datadir).resolve()
        self.port = port or free_port()
        self.durable = durable
        self.bindir = find_bindir()
        self.host = "127.0.0.1"
        self.user = "postgres"
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise LocalPgError(f"{' '.join(args[:2])} failed: {result.stderr.strip()}")
        return result

    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialized:
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            uid = pwd.getpwnam("postgres")
            os.chown(self.datadir, uid.pw_uid, uid.pw_gid)
        self._allow_traversal()
        os.chmod(self.datadir, 0o700)
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.datadir}'",
            "max_connections = 300",
            "shared_buffers = 256MB",
            "logging_collector = off",
        ]
        if not self.durable:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(self.datadir / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            conf.write("\n".join(settings) + "\n")

    def _allow_traversal(self) -> None:
        """As root the server runs as `postgres`, which must traverse every parent."""
        if not self._as_root:
            return
        for parent in self.datadir.parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)

    def start(self, timeout: float = 30.0) -> None:
        self.init()
        self._allow_traversal()
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir / "server.log"),
            "-o",
            f"-p {self.port}",
            "-w",
            "-t",
            str(int(timeout)),
            "start",
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self._run(
                "pg_isready", "-h", self.host, "-p", str(self.port), "-U", "postgres", check=False
            )
            if result.returncode == 0:
                return
            time.sleep(0.1)
        raise LocalPgError(f"PostgreSQL on port {self.port} not ready after {timeout}s")

    def stop(self, mode: str = "fast") -> None:
        if not self.initialized:
            return
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False)

    def is_running(self) -> bool:
        result = self._run("pg_ctl", "-D", str(self.datadir), "status", check=False)
        return result.returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._run(
            "psql",
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-c",
            sql,
        )
        return result.stdout

    def env(self, database: str) -> dict[str, str]:
        """TIMESCALEDB_* variables pointing at this server."""
        return {
            "TIMESCALEDB_HOST": self.host,
            "TIMESCALEDB_PORT": str(self.port),
            "TIMESCALEDB_DATABASE": database,
            "TIMESCALEDB_USER": "postgres",
        }

    def remove(self) -> None:
        self.stop("immediate")
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.datadir)
