"""The Telegram side: connecting, listening to the channels, reconnecting, catching up.

Connection epochs make catch-up race-free: each (re)connection starts a new
epoch, and a live message only moves a channel's "nothing missing up to here"
mark once that channel's history has been read in the current epoch. A live
message that arrives right after a reconnection, before the history read,
therefore cannot hide the posts made while the connection was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telethon import errors, events, utils
from telethon.sessions import Session

from app.gateway.catchup import Channel, catch_up_channel
from app.gateway.clients import ClientFactory
from app.gateway.config import GatewayConfig
from app.gateway.metrics import GatewayMetrics
from app.gateway.outbox import Outbox
from app.gateway.receiver import Incoming, Receiver

log = logging.getLogger("app.gateway.telegram")

SUPERVISE_INTERVAL_S = 1.0
MAX_CONNECT_BACKOFF_S = 60.0

# Connection states reported by /health.
CONNECTING = "connecting"
CONNECTED = "connected"
DISCONNECTED = "disconnected"
NOT_LOGGED_IN = "not logged in"
STOPPED = "stopped"


class TelegramSide:
    def __init__(
        self,
        config: GatewayConfig,
        factory: ClientFactory,
        outbox: Outbox,
        metrics: GatewayMetrics,
        *,
        user_session: Session | None,
        bot_session: Session | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.factory = factory
        self.outbox = outbox
        self.metrics = metrics
        self.user_session = user_session
        self.bot_session = bot_session
        self._sleep = sleep
        self.state = CONNECTING if user_session is not None else NOT_LOGGED_IN
        self.bot_state = "not configured" if config.bot_token is None else CONNECTING
        self.client: Any = None
        self.bot: Any = None
        self.channels: dict[int, Channel] = {}
        self.unresolved: list[str] = []
        self.destination: Any = None
        self.epoch = 0
        self._caught_up: dict[int, int] = {}  # channel id -> epoch of its last full history read
        self._catchup_wanted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.receiver = Receiver(outbox, metrics, forward=self._forward, sleep=sleep)
        if config.destination_channel is None:
            self.receiver.forward = None

    # -- life cycle -----------------------------------------------------------
    def start(self) -> None:
        if self.user_session is not None:
            self._tasks.append(asyncio.create_task(self._run_user(), name="telegram-user"))
            self._tasks.append(asyncio.create_task(self._catchup_loop(), name="catch-up"))
        elif not self.config.telegram_configured:
            log.error(
                "telegram: not configured (TELEGRAM_API_ID, TELEGRAM_API_HASH and "
                "TELEGRAM_CHANNELS are unset); the gateway delivers its outbox and reports "
                "503 'telegram: not logged in' on /health"
            )
        else:
            log.error(
                "telegram: not logged in (no session); run `tpcap gateway login`. "
                "The gateway keeps delivering its outbox and reports 503 on /health."
            )
        if self.config.bot_token is not None and self.config.telegram_configured:
            self._tasks.append(asyncio.create_task(self._run_bot(), name="telegram-bot"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for client in (self.client, self.bot):
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.disconnect(), 10)
        self.state = STOPPED
        self.metrics.connection_status.set(0)

    @property
    def connected(self) -> bool:
        return self.state == CONNECTED

    def request_catch_up(self) -> None:
        self._catchup_wanted.set()

    # -- the user client ------------------------------------------------------
    async def _run_user(self) -> None:
        client = self.factory(self.config, self.user_session, bot=False)
        self.client = client
        listeners = getattr(client, "reconnect_listeners", None)
        if listeners is not None:
            listeners.append(self._on_auto_reconnect)
        while True:
            try:
                await self._connect(client, "user")
                if not await client.is_user_authorized():
                    self.state = NOT_LOGGED_IN
                    log.error(
                        "telegram: not logged in (the session is not authorised); "
                        "run `tpcap gateway login`"
                    )
                    return
                await self._resolve_channels(client)
                if self.config.destination_channel is not None:
                    self.destination = await self._with_flood_wait(
                        client.get_entity, self.config.destination_channel
                    )
                break
            except (OSError, ConnectionError) as exc:
                log.warning("telegram: start-up interrupted; retrying", extra={"error": str(exc)})
                await self._sleep(5.0)
        self._listen(client, "user")
        self._new_epoch("connected")
        await self._supervise(client)

    async def _supervise(self, client: Any) -> None:
        while True:
            await self._sleep(SUPERVISE_INTERVAL_S)
            if client.is_connected():
                continue
            self.state = DISCONNECTED
            self.metrics.connection_status.set(0)
            log.warning("telegram: disconnected; reconnecting")
            await self._connect(client, "user")
            self._new_epoch("reconnected")

    def _on_auto_reconnect(self) -> None:
        log.info("telegram: Telethon reconnected by itself; catching up")
        self._new_epoch("auto-reconnected")

    def _new_epoch(self, why: str) -> None:
        self.epoch += 1
        self.state = CONNECTED
        self.metrics.connection_status.set(1)
        log.info("telegram: %s", why, extra={"epoch": self.epoch, "channels": len(self.channels)})
        self._catchup_wanted.set()

    async def _connect(self, client: Any, who: str) -> None:
        delay = 1.0
        while True:
            try:
                await client.connect()
                if client.is_connected():
                    return
            except (OSError, ConnectionError, errors.RPCError) as exc:
                log.warning(
                    "telegram: connection failed",
                    extra={
                        "client": who,
                        "error": f"{type(exc).__name__}: {exc}",
                        "retry_s": delay,
                    },
                )
            await self._sleep(delay)
            delay = min(delay * 2, MAX_CONNECT_BACKOFF_S)

    async def _with_flood_wait(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        while True:
            try:
                return await fn(*args)
            except errors.FloodWaitError as exc:
                self.metrics.flood_waits.inc()
                log.warning("telegram: flood wait; waiting as told", extra={"seconds": exc.seconds})
                await self._sleep(exc.seconds)

    async def _resolve_channels(self, client: Any) -> None:
        self.channels.clear()
        self.unresolved.clear()
        for wanted in self.config.channels:
            try:
                entity = await self._with_flood_wait(client.get_entity, wanted)
            except (ValueError, errors.RPCError) as exc:
                self.unresolved.append(str(wanted))
                log.error(
                    "telegram: channel cannot be resolved; not listening to it",
                    extra={"channel": str(wanted), "error": f"{type(exc).__name__}: {exc}"},
                )
                continue
            channel_id = utils.get_peer_id(entity)
            name = getattr(entity, "title", None) or getattr(entity, "username", None)
            self.channels[channel_id] = Channel(channel_id, name, entity)
        log.info(
            "telegram: listening",
            extra={"channels": {str(c.id): c.name for c in self.channels.values()}},
        )

    def _listen(self, client: Any, source: str) -> None:
        ids = list(self.channels) or [c for c in self.config.channels if isinstance(c, int)]

        async def on_message(event: Any) -> None:
            await self._on_event(event, source)

        client.on(events.NewMessage(chats=ids))(on_message)
        client.on(events.MessageEdited(chats=ids))(on_message)

    async def _on_event(self, event: Any, source: str) -> None:
        channel_id = event.chat_id
        channel = self.channels.get(channel_id)
        advances = source == "user" and self._caught_up.get(channel_id) == self.epoch
        item = Incoming(
            event.message,
            channel.name if channel else None,
            "bot" if source == "bot" else "user",
            advances_sync=advances,
            is_edit=isinstance(event, events.MessageEdited.Event),
        )
        await self.receiver.accept([item])

    async def _forward(self, message: Any) -> Any:
        if self.destination is None or self.client is None:
            return None
        return await self.client.forward_messages(self.destination, message)

    # -- catch-up -------------------------------------------------------------
    async def _catchup_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._catchup_wanted.wait(), self.config.catchup_interval_s)
            self._catchup_wanted.clear()
            if self.state != CONNECTED:
                continue
            epoch = self.epoch
            for channel in list(self.channels.values()):
                try:
                    await catch_up_channel(
                        self.client,
                        channel,
                        self.outbox,
                        self.receiver,
                        self.metrics,
                        sleep=self._sleep,
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning(
                        "catch-up failed; will retry",
                        extra={"channel_id": channel.id, "error": f"{type(exc).__name__}: {exc}"},
                    )
                    await self._sleep(1.0)
                    self._catchup_wanted.set()
                    continue
                self._caught_up[channel.id] = epoch

    # -- the bot client -------------------------------------------------------
    async def _run_bot(self) -> None:
        bot = self.factory(self.config, self.bot_session, bot=True)
        self.bot = bot
        while True:
            try:
                await bot.start(bot_token=self.config.bot_token)
                break
            except (OSError, ConnectionError) as exc:
                self.bot_state = DISCONNECTED
                log.warning("telegram bot: connection failed", extra={"error": str(exc)})
                await self._sleep(5.0)
            except errors.RPCError as exc:
                self.bot_state = f"login failed: {type(exc).__name__}"
                log.error("telegram bot: login failed", extra={"error": str(exc)})
                return
        if not self.channels and self.user_session is None:
            await self._resolve_channels(bot)
        self._listen(bot, "bot")
        self.bot_state = CONNECTED
        while True:
            await self._sleep(SUPERVISE_INTERVAL_S)
            if not bot.is_connected():
                self.bot_state = DISCONNECTED
                await self._connect(bot, "bot")
                self.bot_state = CONNECTED

    # -- reporting ------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "bot": self.bot_state,
            "epoch": self.epoch,
            "channels": [
                {
                    "id": c.id,
                    "name": c.name,
                    "caughtUp": self._caught_up.get(c.id) == self.epoch,
                }
                for c in self.channels.values()
            ],
            "unresolved": self.unresolved,
        }
