"""`tpcap api`: run the signals api until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

import uvloop
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

from app.api.app import make_app
from app.api.config import ApiConfig
from app.api.workers import MULTIPROC_DIR, WORKER_INDEX, supervise
from app.config import ConfigError, token_preview
from app.db import create_pool
from app.heap import freeze_startup_heap
from app.logs import register_secret, setup_logging
from app.parsing import lexicon
from app.web.server import graceful_shutdown, listen, wait_for_stop_signal

log = logging.getLogger("app.api")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default="", help="address to bind (default: all)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="api processes sharing the port (SO_REUSEPORT); default API_WORKERS or 1",
    )


def _exposition() -> CollectorRegistry:
    """What /metrics shows: this process's registry, or the sum over `--workers` copies."""
    if not os.environ.get(MULTIPROC_DIR):
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined


async def serve(config: ApiConfig, address: str) -> None:
    # The pool connects lazily (minsize=0): the api starts, and answers 503 on
    # /health, while the database is still coming up.
    pool = await create_pool(config.db, minsize=0, maxsize=config.db_pool_max)
    app = make_app(config, pool=pool, registry=REGISTRY, exposition=_exposition())
    worker = os.environ.get(WORKER_INDEX)
    server = listen(
        app, config.port, address, xheaders=config.trust_proxy, reuse_port=worker is not None
    )
    frozen = freeze_startup_heap()
    log.info(
        "api listening",
        extra={
            "port": config.port,
            "worker": worker,
            "database": config.db.describe(),
            "gateway_token": token_preview(config.gateway_token),
            "writes": "enabled" if config.api_key else "disabled (TP_CAPITAL_API_KEY unset)",
            "frozen_objects": frozen,
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
    workers = args.workers if args.workers is not None else config.workers
    if workers < 1:
        raise ConfigError("--workers", "must be at least 1")
    if workers > 1:
        return supervise(workers, args.address)
    # uvloop: the same asyncio API (Tornado and aiopg run on it unchanged) with
    # its reactor in C, which costs less CPU per request than the standard loop.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(config, args.address))
    return 0
