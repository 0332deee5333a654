"""`tpcap gateway login`: the first, interactive login, ending in one clear line.

It needs only the Telegram settings (TELEGRAM_API_ID, TELEGRAM_API_HASH, and
TELEGRAM_PHONE_NUMBER or an answer at the prompt); not TELEGRAM_CHANNELS, not
API_SECRET_TOKEN. Telethon's own sign-in flow (`client.start`) asks for the
code and, with two-step verification, the password. Telethon's log lines are
held back to errors while the prompts are on screen. A login that fails ends
in one line saying what to do, and the session file it created is removed
(a half-made session would only confuse the next start).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from telethon import errors

from app.gateway.clients import factory_from_env
from app.gateway.config import GatewayConfig
from app.gateway.session import open_file_session, secure_session_file

EXIT_LOGIN_FAILED = 1


class LoginFailed(Exception):
    """One line for the operator; the session file this login made is already gone."""


def explain(exc: BaseException, phone: str | None) -> str:
    """What to do, in one line, for each way a login ends badly."""
    if isinstance(exc, errors.PhoneNumberUnoccupiedError):
        return (
            f"{phone} has no Telegram account: sign up with this number in a Telegram app "
            "first (third-party apps cannot create accounts), then run `tpcap gateway login` again"
        )
    if isinstance(exc, errors.PhoneNumberInvalidError):
        return f"{phone!r} is not a valid phone number: use the international format (+55119...)"
    if isinstance(exc, errors.PhoneNumberBannedError):
        return f"{phone} is banned by Telegram: use another number or contact recover@telegram.org"
    if isinstance(exc, errors.ApiIdInvalidError):
        return "TELEGRAM_API_ID / TELEGRAM_API_HASH are not valid: copy them from my.telegram.org"
    if isinstance(exc, errors.PasswordHashInvalidError):
        return "the two-step verification password was wrong; run `tpcap gateway login` again"
    if isinstance(exc, errors.AccessTokenInvalidError | errors.AccessTokenExpiredError):
        return "TELEGRAM_INGESTION_BOT_TOKEN is not valid: get the bot's token from @BotFather"
    if isinstance(exc, errors.FloodWaitError):
        return f"Telegram asks to wait {exc.seconds} s before the next login attempt"
    if isinstance(exc, errors.RPCError):
        return f"Telegram refused the login ({type(exc).__name__}: {exc})"
    if isinstance(exc, RuntimeError) and "attempts failed" in str(exc):
        return "the login code was wrong too many times; run `tpcap gateway login` again"
    if isinstance(exc, EOFError | KeyboardInterrupt):
        return "login cancelled"
    if isinstance(exc, ConnectionError | OSError):
        return f"cannot reach Telegram ({exc}); check the network and try again"
    return f"login failed ({type(exc).__name__}: {exc})"


@contextlib.contextmanager
def quiet_telethon() -> Iterator[None]:
    """Telethon's info/warning lines would land between the prompts: errors only, meanwhile."""
    logger = logging.getLogger("telethon")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(before)


def remove_session_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + "-journal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


async def _ask(prompt: str, *, secret: bool = False) -> str:
    reader = getpass.getpass if secret else input
    return (await asyncio.to_thread(reader, prompt)).strip()


async def _sign_in(client: Any, **kwargs: Any) -> Any:
    try:
        await client.start(**kwargs)
        return await client.get_me()
    finally:
        with contextlib.suppress(Exception):
            await client.disconnect()


async def login_user(config: GatewayConfig) -> str:
    factory = factory_from_env(os.environ)
    path = config.session_file
    existed = path.exists()
    session = open_file_session(path, create=True)
    phone = config.phone_number
    try:
        if phone is None:
            phone = await _ask("Phone number (international format): ")
        client = factory(config, session, bot=False)

        async def code() -> str:
            return await _ask("Login code sent by Telegram: ")

        async def password() -> str:
            return await _ask("Two-step verification password: ", secret=True)

        me = await _sign_in(client, phone=lambda: phone, code_callback=code, password=password)
    except BaseException as exc:
        if not existed:
            remove_session_files(path)
        raise LoginFailed(explain(exc, phone)) from None
    assert session is not None
    secure_session_file(session)
    return (
        f"logged in as {getattr(me, 'username', None) or getattr(me, 'id', '?')}; "
        f"session saved to {path} (mode 0600)"
    )


async def login_bot(config: GatewayConfig) -> str:
    assert config.bot_token is not None
    factory = factory_from_env(os.environ)
    path = config.bot_session_file
    existed = path.exists()
    session = open_file_session(path, create=True)
    try:
        me = await _sign_in(factory(config, session, bot=True), bot_token=config.bot_token)
    except BaseException as exc:
        if not existed:
            remove_session_files(path)
        raise LoginFailed(explain(exc, None)) from None
    assert session is not None
    secure_session_file(session)
    return f"bot logged in as @{getattr(me, 'username', None) or getattr(me, 'id', '?')}"


async def login(config: GatewayConfig, *, bot_only: bool = False) -> list[str]:
    """The lines to print on success; LoginFailed carries the one line on failure."""
    lines = []
    with quiet_telethon():
        if not bot_only:
            lines.append(await login_user(config))
        if config.bot_token is not None:
            lines.append(await login_bot(config))
        elif bot_only:
            raise LoginFailed("--bot needs TELEGRAM_INGESTION_BOT_TOKEN (from @BotFather)")
    if config.session_string and not bot_only:
        lines.append("note: TELEGRAM_SESSION is set and takes precedence over the session file")
    return lines
