"""A private PostgreSQL server in a folder, for the local quick start and the tests.

initdb refuses to run as root, so as root the cluster belongs to the
`postgres` system user and its commands run through runuser.

With a password file (what `tpcap local` uses) every connection, socket or
TCP, authenticates with scram-sha-256 and a generated password kept in that
file (0600); a cluster made by an earlier version with `trust` is migrated on
start. Without one (the test harness's throw-away servers), loopback is trusted.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import hashlib
import hmac
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path


class LocalPgError(Exception):
    pass


PG_HBA = """\
# Written by tpcap: password (scram-sha-256) authentication for every connection.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 scram-sha-256
host    all          all   127.0.0.1/32  scram-sha-256
host    all          all   ::1/128       scram-sha-256
local   replication  all                 scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
host    replication  all   ::1/128       scram-sha-256
"""


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """What PostgreSQL stores for a scram-sha-256 password, so the password itself
    is never sent in a statement (which a server log could record)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
        f"${b64(hashlib.sha256(client_key).digest()).decode()}:{b64(server_key).decode()}"
    )


def read_or_create_secret(path: Path) -> str:
    """A generated secret kept in `path`, mode 0600 (tightened if an older run left it looser)."""
    if path.exists():
        os.chmod(path, 0o600)
        return path.read_text().strip()
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


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
    """initdb + pg_ctl around one data folder; user `postgres`; password auth with a
    password file, else trust on loopback."""

    def __init__(
        self,
        datadir: Path,
        port: int | None = None,
        *,
        durable: bool = True,
        password_file: Path | None = None,
    ) -> None:
        self.datadir = Path(datadir).resolve()
        self.port = port or free_port()
        self.durable = durable
        self.bindir = find_bindir()
        self.host = "127.0.0.1"
        self.user = "postgres"
        self.password_file = password_file
        self.password: str | None = None
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        env = {**os.environ, "PGPASSWORD": self.password} if self.password else None
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
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
        auth = ["--auth=trust"]
        pwfile: Path | None = None
        if self.password is not None:
            # initdb reads the superuser's password from a file the server user can read;
            # a copy inside the (0700) data folder's parent lives only for this call.
            pwfile = self.datadir.parent / f".initdb-pw-{secrets.token_hex(4)}"
            fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(self.password + "\n")
            if self._as_root:
                uid = pwd.getpwnam("postgres")
                os.chown(pwfile, uid.pw_uid, uid.pw_gid)
            auth = ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        try:
            self._run(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                *auth,
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            if pwfile is not None:
                pwfile.unlink(missing_ok=True)
        if self.password is not None:
            (self.datadir / "pg_hba.conf").write_text(PG_HBA)
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
            if not parent.exists():
                continue
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)

    def trusts_anyone(self) -> bool:
        """Whether pg_hba.conf lets some connection in without a password."""
        hba = self.datadir / "pg_hba.conf"
        lines = hba.read_text().splitlines() if hba.exists() else []
        return any(
            line.split()[-1] == "trust"
            for line in lines
            if line.strip() and not line.lstrip().startswith("#")
        )

    def _require_password(self) -> None:
        """A cluster made by an earlier version (trust for everyone): set the password,
        then switch pg_hba.conf to scram-sha-256. Runs on a started server."""
        if self.password is None or not self.trusts_anyone():
            return
        self.psql(
            "SET password_encryption = 'scram-sha-256'; "
            f"ALTER ROLE postgres PASSWORD '{scram_verifier(self.password)}'"
        )
        (self.datadir / "pg_hba.conf").write_text(PG_HBA)
        self._run("pg_ctl", "-D", str(self.datadir), "reload")

    def start(self, timeout: float = 30.0) -> None:
        if self.password_file is not None:
            existing = self.password_file.exists()
            self.password = read_or_create_secret(self.password_file)
            if self.initialized and not existing and not self.trusts_anyone():
                raise LocalPgError(
                    f"{self.password_file} is missing but the database in {self.datadir} "
                    "requires a password; restore the file, or remove the folder to start afresh"
                )
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
        self._require_password()
        with contextlib.suppress(OSError):
            os.chmod(self.datadir / "server.log", 0o600)

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
        # Something (pytest, for one) may have closed a parent folder since the start.
        self._allow_traversal()
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False)

    def is_running(self) -> bool:
        self._allow_traversal()
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
        env = {
            "TIMESCALEDB_HOST": self.host,
            "TIMESCALEDB_PORT": str(self.port),
            "TIMESCALEDB_DATABASE": database,
            "TIMESCALEDB_USER": "postgres",
        }
        if self.password:
            env["TIMESCALEDB_PASSWORD"] = self.password
        return env

    def remove(self) -> None:
        self.stop("immediate")
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.datadir)
