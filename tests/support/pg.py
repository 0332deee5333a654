"""Databases for tests: one private PostgreSQL server per test session, a
migrated template database per migration target, and a fresh copy per test."""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg2
from psycopg2 import sql

from app.config import DbConfig
from app.localpg import LocalPg
from app.migrate import migrate

_counter = itertools.count()

SCHEMAS = {"signals": "tp_capital", "workspace": "workspace"}


def admin_connect(pg: LocalPg, database: str = "postgres") -> psycopg2.extensions.connection:
    conn = psycopg2.connect(host=pg.host, port=pg.port, user="postgres", dbname=database)
    conn.autocommit = True
    return conn


def db_config(pg: LocalPg, database: str, target: str = "signals") -> DbConfig:
    return DbConfig(pg.host, pg.port, database, "postgres", None, SCHEMAS[target])


def make_template(pg: LocalPg, target: str) -> str:
    name = f"template_{target}"
    migrate(db_config(pg, name, target), target)
    return name


def create_database_from(pg: LocalPg, template: str, prefix: str = "test") -> str:
    name = f"{prefix}_{next(_counter)}"
    conn = admin_connect(pg)
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    finally:
        conn.close()
    return name


def drop_database(pg: LocalPg, name: str) -> None:
    conn = admin_connect(pg)
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        conn.close()


def start_server(directory: Path, *, durable: bool = False) -> LocalPg:
    pg = LocalPg(directory, durable=durable)
    pg.start()
    return pg
