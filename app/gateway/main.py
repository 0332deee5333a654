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
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import IO

from prometheus_client import REGISTRY
from telethon.sessions import Session

from app.config import ConfigError
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
        choices=["run", "login"],
        default="run",
        help="run the gateway (default) or log in interactively to create the session file",
    )
    parser.add_argument("--address", default="", help="address for the HTTP port (default: all)")


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


async def _ask(prompt: str, *, secret: bool = False) -> str:
    reader = getpass.getpass if secret else input
    return (await asyncio.to_thread(reader, prompt)).strip()


async def login(config: GatewayConfig) -> int:
    factory = factory_from_env(os.environ)
    session = open_file_session(config.session_file, create=True)
    client = factory(config, session, bot=False)
    phone = config.phone_number or await _ask("Phone number (international format): ")

    async def code() -> str:
        return await _ask("Login code sent by Telegram: ")

    async def password() -> str:
        return await _ask("Two-step verification password: ", secret=True)

    await client.start(phone=lambda: phone, code_callback=code, password=password)
    me = await client.get_me()
    await client.disconnect()
    assert session is not None
    secure_session_file(session)
    print(
        f"logged in as {getattr(me, 'username', None) or getattr(me, 'id', '?')}; "
        f"session saved to {config.session_file} (mode 0600)"
    )
    if config.session_string:
        print("note: TELEGRAM_SESSION is set and takes precedence over the session file")
    return 0


def run(args: argparse.Namespace) -> int:
    config = GatewayConfig.from_env()
    setup_logging(config.log_level)
    register_secrets(config)
    lock = None
    try:
        if args.action == "login":
            if not config.telegram_configured:
                raise ConfigError(
                    "TELEGRAM_API_ID",
                    "login needs TELEGRAM_API_ID, TELEGRAM_API_HASH and "
                    "TELEGRAM_CHANNELS (from https://my.telegram.org)",
                )
            return asyncio.run(login(config))
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
