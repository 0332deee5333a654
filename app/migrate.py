"""`tpcap migrate`: apply the numbered SQL files of sql/<target>/ in order.

Each file runs in its own transaction under an advisory lock, so several
copies starting at once apply it exactly once. Applied versions are recorded
with a checksum; an applied file that changed afterwards is an error.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from app.config import DbConfig

log = logging.getLogger(__name__)

_FILE_PATTERN = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x7C_A917A1  # arbitrary, constant per project


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def sql_root() -> Path:
    return Path(__file__).resolve().parent / "sql"


def discover(directory: Path) -> list[Migration]:
    if not directory.is_dir():
        raise MigrationError(f"{directory}: migrations folder not found")
    migrations = []
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path}: name must look like 001_description.sql")
        migrations.append(Migration(match.group(1), match.group(2), path))
    versions = [m.version for m in migrations]
    if len(versions) != len(set(versions)):
        raise MigrationError(f"{directory}: two migrations share a version number")
    return migrations


def ensure_database(config: DbConfig) -> bool:
    """Create the database if it does not exist yet. Returns True when created."""
    try:
        psycopg2.connect(config.dsn(with_search_path=False)).close()
        return False
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    maintenance = DbConfig(
        config.host, config.port, "postgres", config.user, config.password, config.schema
    )
    conn = psycopg2.connect(maintenance.dsn(with_search_path=False))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            try:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config.database)))
            except psycopg2.errors.DuplicateDatabase:
                return False
    finally:
        conn.close()
    log.info("database created", extra={"database": config.database})
    return True


def migrate(config: DbConfig, target: str = "signals", directory: Path | None = None) -> list[str]:
    """Apply pending migrations; return the versions applied by this call."""
    migrations = discover(directory or sql_root() / target)
    ensure_database(config)
    conn = psycopg2.connect(config.dsn(with_search_path=False))
    applied_now: list[str] = []
    schema = sql.Identifier(config.schema)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            try:
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
                cur.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {}.schema_migrations ("
                        " target text NOT NULL, version text NOT NULL, name text NOT NULL,"
                        " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
                        " PRIMARY KEY (target, version))"
                    ).format(schema)
                )
                cur.execute(
                    sql.SQL(
                        "SELECT version, checksum FROM {}.schema_migrations WHERE target = %s"
                    ).format(schema),
                    (target,),
                )
                done = dict(cur.fetchall())
                for migration in migrations:
                    if migration.version in done:
                        if done[migration.version] != migration.checksum:
                            raise MigrationError(
                                f"{migration.path}: already applied but its content changed; "
                                "add a new migration instead of editing an applied one"
                            )
                        continue
                    _apply(cur, config.schema, target, migration)
                    applied_now.append(migration.version)
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    finally:
        conn.close()
    return applied_now


def _apply(cur: psycopg2.extensions.cursor, schema: str, target: str, migration: Migration) -> None:
    body = migration.path.read_text(encoding="utf-8")
    cur.execute("BEGIN")
    try:
        cur.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema)))
        cur.execute(body)
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.schema_migrations (target, version, name, checksum)"
                " VALUES (%s, %s, %s, %s)"
            ).format(sql.Identifier(schema)),
            (target, migration.version, migration.name, migration.checksum),
        )
    except psycopg2.Error as exc:
        cur.execute("ROLLBACK")
        raise MigrationError(f"{migration.path}: {exc.pgerror or exc}".strip()) from exc
    cur.execute("COMMIT")
    log.info(
        "migration applied",
        extra={"target": target, "version": migration.version, "migration": migration.name},
    )
