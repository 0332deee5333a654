"""`tpcap workspace`: run the workspace service until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging

from prometheus_client import REGISTRY

from app.config import token_preview
from app.db import create_pool
from app.logs import register_secret, setup_logging
from app.web.server import graceful_shutdown, listen, wait_for_stop_signal
from app.workspace.app import make_app
from app.workspace.config import WorkspaceConfig

log = logging.getLogger("app.workspace")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default="", help="address to bind (default: all)")


async def serve(config: WorkspaceConfig, address: str) -> None:
    if config.lowdb_requested:
        log.warning(
            "LIBRARY_DB_STRATEGY=lowdb is no longer supported: items live in the database only."
            " Import an old library.json once with `tpcap import-lowdb PATH`.",
            extra={"database": config.db.describe()},
        )
    # The pool connects lazily (minsize=0): the service starts, and answers 503
    # on /health, while the database is still coming up.
    pool = await create_pool(config.db, minsize=0, maxsize=config.db_pool_max)
    app = make_app(config, pool=pool, registry=REGISTRY)
    server = listen(app, config.port, address, xheaders=config.trust_proxy)
    log.info(
        "workspace listening",
        extra={
            "port": config.port,
            "database": config.db.describe(),
            "api_key": token_preview(config.api_key),
            "writes": "enabled"
            if config.api_key
            else "disabled (WORKSPACE_API_KEY and TP_CAPITAL_API_KEY unset)",
        },
    )
    reason = await wait_for_stop_signal()
    log.info("workspace stopping", extra={"signal": reason})

    async def close_pool() -> None:
        pool.close()
        await pool.wait_closed()

    await graceful_shutdown(server, [close_pool])
    log.info("workspace stopped")


def run(args: argparse.Namespace) -> int:
    config = WorkspaceConfig.from_env()
    setup_logging(config.log_level)
    register_secret(config.api_key)
    asyncio.run(serve(config, args.address))
    return 0
