"""`tpcap gateway`: run the Telegram gateway until SIGTERM; `tpcap gateway login`: first login.

Exit codes (systemd's RestartPreventExitStatus should list 2, 73, 77 and 78):
  0   stopped by SIGTERM/SIGINT
  2   bad configuration (one line naming the variable)
  73  another gateway already holds the outbox (EX_CANTCREAT)
  74  the outbox cannot be opened (EX_IOERR)
  77  the session directory or file is readable by group or others (EX_NOPERM)
  78  the session cannot be loaded; it was moved aside as *.corrupt-<timestamp> (EX_CONFIG)
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import os
import sys
from pathlib import Path
from typing import IO

from prometheus_client import REGISTRY
from telethon.sessions import Session

from app.config import ConfigError, Env
from app.gateway.clients import factory_from_env
from app.gateway.config import GatewayConfig
from app.gateway.outbox import OutboxError
from app.gateway.session import (
    SessionError,
    open_file_session,
    open_string_session,
    secure_session_file,
)
from app.logs import register_secret, setup_logging
from app.web.server import wait_for_stop_signal

log = logging.getLogger("app.gateway")

EXIT_OUTBOX_LOCKED = 73
EXIT_OUTBOX_UNUSABLE = 74


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=["run", "login", "backfill"],
        default="run",
        help="run the gateway (default), log in interactively to create the session file, "
        "or read a channel's history (backfill)",
    )
    parser.add_argument("--address", default="", help="address for the HTTP port (default: all)")
    parser.add_argument("--bot", action="store_true", help="login: only the bot account")
    parser.add_argument("--channel", help="backfill: the channel (marked id or username)")
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--since", help="backfill: messages posted since DATE (YYYY-MM-DD[THH:MM])")
    window.add_argument("--limit", type=int, help="backfill: the newest N messages")


def register_secrets(config: GatewayConfig) -> None:
    for secret in (config.token, config.api_hash, config.session_string, config.bot_token):
        register_secret(secret)


def user_session(config: GatewayConfig) -> Session | None:
    if config.session_string:
        return open_string_session(config.session_string)
    return open_file_session(config.session_file)


def lock_outbox(path: Path) -> IO[bytes] | None:
    """One gateway per outbox: a second one would race the first one's deliveries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(str(path) + ".lock", "ab")  # noqa: SIM115 (held for the process lifetime)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


async def serve(config: GatewayConfig, address: str) -> int:
    from app.gateway.service import Gateway

    factory = factory_from_env(os.environ)
    session = user_session(config) if config.telegram_configured else None
    bot_session = None
    if config.bot_token is not None and config.telegram_configured:
        bot_session = open_file_session(config.bot_session_file, create=True)
    gateway = Gateway(
        config, factory=factory, registry=REGISTRY, user_session=session, bot_session=bot_session
    )
    await gateway.start(address)
    reason = await wait_for_stop_signal()
    log.info("gateway stopping", extra={"signal": reason})
    await gateway.stop()
    for opened in (session, bot_session):
        if opened is not None:
            secure_session_file(opened)
    return 0


def run_login(args: argparse.Namespace) -> int:
    from app.gateway.login import EXIT_LOGIN_FAILED, LoginFailed, login

    env = Env()
    if not env.raw("TELEGRAM_API_ID"):
        raise ConfigError(
            "TELEGRAM_API_ID", "login needs TELEGRAM_API_ID and TELEGRAM_API_HASH (my.telegram.org)"
        )
    config = GatewayConfig.from_env(env, login=True)
    setup_logging(config.log_level)
    register_secrets(config)
    try:
        lines = asyncio.run(login(config, bot_only=args.bot))
    except LoginFailed as exc:
        print(f"tpcap gateway login: {exc}", file=sys.stderr)
        return EXIT_LOGIN_FAILED
    except SessionError as exc:
        print(f"tpcap gateway login: {exc}", file=sys.stderr)
        return exc.exit_code
    for line in lines:
        print(line)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "login":
        return run_login(args)
    if args.action == "backfill":
        from app.gateway.backfill_cli import run_backfill

        return run_backfill(args)
    config = GatewayConfig.from_env()
    setup_logging(config.log_level)
    register_secrets(config)
    lock = None
    try:
        lock = lock_outbox(config.outbox_path)
        if lock is None:
            print(
                f"tpcap gateway: another gateway is running on {config.outbox_path}",
                file=sys.stderr,
            )
            return EXIT_OUTBOX_LOCKED
        return asyncio.run(serve(config, args.address))
    except SessionError as exc:
        log.error("session unusable: %s", exc)
        print(f"tpcap gateway: {exc}", file=sys.stderr)
        return exc.exit_code
    except OutboxError as exc:
        log.error("outbox unusable: %s", exc)
        print(f"tpcap gateway: {exc}", file=sys.stderr)
        return EXIT_OUTBOX_UNUSABLE
    finally:
        if lock is not None:
            lock.close()
