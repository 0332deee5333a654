"""`tpcap migrate [--target signals|workspace]`."""

from __future__ import annotations

import argparse
import sys

from app.config import DbConfig, Env, log_level
from app.logs import setup_logging
from app.migrate import MigrationError, migrate

TARGETS = {
    # target -> (default database, default schema)
    "signals": ("tp_capital", "tp_capital"),
    "workspace": ("APPS-WORKSPACE", "workspace"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=sorted(TARGETS),
        default="signals",
        help="which service's migrations to apply (default: signals)",
    )


def run(args: argparse.Namespace) -> int:
    env = Env()
    setup_logging(log_level(env), stream=sys.stderr)
    database, schema = TARGETS[args.target]
    config = DbConfig.from_env(env, default_database=database, default_schema=schema)
    try:
        applied = migrate(config, args.target)
    except MigrationError as exc:
        print(f"tpcap migrate: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # connection refused and the like: one line, not a traceback
        print(f"tpcap migrate: cannot migrate {config.describe()}: {exc}".strip(), file=sys.stderr)
        return 1
    if applied:
        print(f"applied {len(applied)} migration(s) to {config.describe()}: {', '.join(applied)}")
    else:
        print(f"{config.describe()}: already up to date")
    return 0
