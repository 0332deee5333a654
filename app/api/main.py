"""`tpcap api`: run the signals api until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging

from prometheus_client import REGISTRY

from app.api.app import make_app
from app.api.config import ApiConfig
from app.config import token_preview
from app.db import create_pool
from app.logs import register_secret, setup_logging
from app.parsing import lexicon
from app.web.server import graceful_shutdown, listen, wait_for_stop_signal

log = logging.getLogger("app.api")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default="", help="address to bind (default: all)")


async def serve(config: ApiConfig, address: str) -> None:
    # The pool connects lazily (minsize=0): the api starts, and answers 503 on
    # /health, while the database is still coming up.
    pool = await create_pool(config.db, minsize=0, maxsize=config.db_pool_max)
    app = make_app(config, pool=pool, registry=REGISTRY)
    server = listen(app, config.port, address, xheaders=config.trust_proxy)
    log.info(
        "api listening",
        extra={
            "port": config.port,
            "database": config.db.describe(),
            "gateway_token": token_preview(config.gateway_token),
            "writes": "enabled" if config.api_key else "disabled (TP_CAPITAL_API_KEY unset)",
        },
    )
    reason = await wait_for_stop_signal()
    log.info("api stopping", extra={"signal": reason})

    async def close_pool() -> None:
        pool.close()
        await pool.wait_closed()
        app.settings["ctx"].parse_pool.close()

    await graceful_shutdown(server, [close_pool])
    log.info("api stopped")


def run(args: argparse.Namespace) -> int:
    config = ApiConfig.from_env()
    lexicon.install(config.parser_lexicon_path)
    setup_logging(config.log_level)
    register_secret(config.gateway_token)
    register_secret(config.api_key)
    asyncio.run(serve(config, args.address))
    return 0
