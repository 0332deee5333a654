"""Making Telethon clients: the one seam where tests put a fake Telegram.

The gateway never constructs a TelegramClient itself; it calls a factory
`(config, session, *, bot) -> client`. Production uses `telethon_client`.
Tests running the gateway as a child process name another factory in
TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY=tests.<module>:<callable>; only modules
under `tests.` are accepted, and that package is not part of the installed
application, so the hook cannot be switched on in production by accident.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import rsa
from telethon import TelegramClient
from telethon.crypto import rsa as telethon_rsa
from telethon.sessions import MemorySession, Session

from app.config import ConfigError
from app.gateway.config import DcOverride, GatewayConfig

log = logging.getLogger("app.gateway.clients")

TEST_FACTORY_VARIABLE = "TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY"


class ClientFactory(Protocol):
    def __call__(self, config: GatewayConfig, session: Session | None, *, bot: bool) -> Any: ...


class GatewayTelegramClient(TelegramClient):
    """TelegramClient that tells listeners when its automatic reconnection succeeded.

    Telethon reconnects on its own and then only calls `get_me()`; updates
    missed meanwhile surface late or never, so the gateway runs its catch-up.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.reconnect_listeners: list[Callable[[], None]] = []
        super().__init__(*args, **kwargs)

    async def _handle_auto_reconnect(self) -> None:
        await super()._handle_auto_reconnect()
        for listener in list(self.reconnect_listeners):
            try:
                listener()
            except Exception:
                log.exception("reconnect listener failed")


def load_public_key(path: Path) -> None:
    """Register a self-hosted server's RSA key with Telethon (PKCS#1 or X.509 PEM)."""
    data = path.read_bytes()
    try:
        if b"BEGIN RSA PUBLIC KEY" in data:
            key = rsa.PublicKey.load_pkcs1(data)
        else:
            key = rsa.PublicKey.load_pkcs1_openssl_pem(data)
    except Exception as exc:
        raise ConfigError(
            "TELEGRAM_SERVER_PUBLIC_KEY", f"{path} is not an RSA public key in PEM ({exc})"
        ) from None
    telethon_rsa.add_key(key.save_pkcs1().decode(), old=False)


def apply_dc(session: Session, dc: DcOverride) -> None:
    current = (session.dc_id, session.server_address, session.port)
    if current != (dc.dc_id, dc.host, dc.port):
        session.set_dc(dc.dc_id, dc.host, dc.port)


def telethon_client(config: GatewayConfig, session: Session | None, *, bot: bool) -> Any:
    session = session if session is not None else MemorySession()
    if config.dc is not None:
        if config.dc.public_key_path is not None:
            load_public_key(config.dc.public_key_path)
        apply_dc(session, config.dc)
    return GatewayTelegramClient(
        session,
        config.api_id,
        config.api_hash,
        # Telethon sleeps through short flood waits itself; longer ones reach us.
        flood_sleep_threshold=60,
        connection_retries=5,
        retry_delay=2,
        auto_reconnect=True,
        request_retries=5,
        device_model="tp-capital-gateway",
        app_version="tp-capital",
    )


def factory_from_env(environ: dict[str, str] | Any) -> ClientFactory:
    spec = (environ.get(TEST_FACTORY_VARIABLE) or "").strip()
    if not spec:
        return telethon_client
    module_name, _, attribute = spec.partition(":")
    if not module_name.startswith("tests.") or not attribute:
        raise ConfigError(
            TEST_FACTORY_VARIABLE, "is a test-only hook and must name tests.<module>:<callable>"
        )
    factory = getattr(importlib.import_module(module_name), attribute)
    log.warning("TEST HOOK: Telegram is replaced by a fake client factory", extra={"factory": spec})
    return factory
