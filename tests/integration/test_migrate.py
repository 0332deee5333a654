"""`tpcap migrate` on a real PostgreSQL without TimescaleDB."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest

from app.localpg import LocalPg
from app.migrate import MigrationError, migrate, sql_root
from tests.support import pg as pgsupport
from tests.support.api import REPO


def _tables(db) -> set[str]:
    with psycopg2.connect(db.dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (db.schema,),
        )
        return {r[0] for r in cur.fetchall()}


def test_cli_creates_database_applies_and_is_idempotent(pg_server: LocalPg) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        **pg_server.env("cli_migrate_db"),
    }
    first = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == 0, first.stderr
    count = len(list((sql_root() / "signals").glob("*.sql")))
    assert f"applied {count} migration(s)" in first.stdout
    second = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 0
    assert "already up to date" in second.stdout
    db = pgsupport.db_config(pg_server, "cli_migrate_db")
    assert {
        "telegram_messages",
        "tp_capital_signals",
        "schema_migrations",
        "telegram_channels",
        "telegram_bots",
    } <= _tables(db)
    pgsupport.drop_database(pg_server, "cli_migrate_db")


def test_concurrent_migrators_apply_each_file_once(pg_server: LocalPg) -> None:
    db = pgsupport.db_config(pg_server, "concurrent_migrate")
    from app.migrate import ensure_database

    ensure_database(db)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: migrate(db, "signals"), range(4)))
    count = len(list((sql_root() / "signals").glob("*.sql")))
    assert sorted(len(r) for r in results) == [0, 0, 0, count]
    pgsupport.drop_database(pg_server, "concurrent_migrate")


def test_edited_applied_migration_is_refused(pg_server: LocalPg, tmp_path: Path) -> None:
    folder = tmp_path / "signals"
    shutil.copytree(sql_root() / "signals", folder)
    db = pgsupport.db_config(pg_server, "edited_migrate")
    migrate(db, "signals", folder)
    first = sorted(folder.iterdir())[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="already applied but its content changed"):
        migrate(db, "signals", folder)
    pgsupport.drop_database(pg_server, "edited_migrate")


def test_failing_migration_rolls_back_and_names_the_file(pg_server: LocalPg, tmp_path: Path):
    folder = tmp_path / "signals"
    shutil.copytree(sql_root() / "signals", folder)
    (folder / "999_broken.sql").write_text("CREATE TABLE ok_table (id int);\nSELEC 1;\n")
    db = pgsupport.db_config(pg_server, "broken_migrate")
    with pytest.raises(MigrationError, match=r"999_broken\.sql"):
        migrate(db, "signals", folder)
    assert "ok_table" not in _tables(db)
    pgsupport.drop_database(pg_server, "broken_migrate")


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "TIMESCALEDB_HOST": "127.0.0.1",
        "TIMESCALEDB_PORT": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("tpcap migrate: cannot migrate postgres@127.0.0.1:1/tp_capital")
