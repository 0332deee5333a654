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
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telethon import errors, events, functions, utils
from telethon.sessions import Session
from telethon.tl import types

from app.gateway.catchup import Channel, catch_up_channel
from app.gateway.clients import ClientFactory
from app.gateway.config import Backfill, GatewayConfig
from app.gateway.history import backfill_floor, rescan_edits, run_backfill
from app.gateway.metrics import GatewayMetrics
from app.gateway.outbox import BackfillJob, Outbox
from app.gateway.receiver import Incoming, Receiver

ChannelRef = int | str
RegistryFetch = Callable[[], Awaitable[tuple[ChannelRef, ...]]]
REGISTRY_META_KEY = "registry_channels"
REGISTRY_START_TIMEOUT_S = 5.0


def ref_key(ref: ChannelRef) -> str:
    return str(ref).lower()


def registry_refs(body: Any) -> tuple[ChannelRef, ...]:
    """The channels of a GET /ingest/channels answer: marked ids, else usernames."""
    refs: list[ChannelRef] = []
    for row in (body or {}).get("channels", []):
        channel_id, username = row.get("channelId"), row.get("username")
        if isinstance(channel_id, int):
            # A bare channel id (as some tools show it) becomes the marked -100... id.
            refs.append(
                channel_id if channel_id < 0 else utils.get_peer_id(types.PeerChannel(channel_id))
            )
        elif isinstance(username, str) and username:
            refs.append(username.lstrip("@"))
    return tuple(dict.fromkeys(refs))


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
        flood_sleep: Callable[[float], Awaitable[None]] | None = None,
        fetch_registry: RegistryFetch | None = None,
    ) -> None:
        self.config = config
        self.factory = factory
        self.outbox = outbox
        self.metrics = metrics
        self.user_session = user_session
        self.bot_session = bot_session
        self._sleep = sleep
        self._flood_sleep = flood_sleep or sleep
        self.fetch_registry = fetch_registry
        self.registry_refs: tuple[ChannelRef, ...] = ()
        self.registry_error: str | None = None
        self._resolved: dict[str, int] = {}  # ref key -> marked channel id
        self._sync_lock = asyncio.Lock()
        self._rescanned: dict[int, int] = {}  # channel id -> epoch of its last edit rescan
        self._backfill_wanted = asyncio.Event()
        self.state = CONNECTING if user_session is not None else NOT_LOGGED_IN
        self.bot_state = "not configured" if config.bot_token is None else CONNECTING
        self.client: Any = None
        self.bot: Any = None
        self.channels: dict[int, Channel] = {}
        self.unresolved: dict[str, str] = {}  # ref -> why it cannot be listened to
        self.destination: Any = None
        self.epoch = 0
        self._caught_up: dict[int, int] = {}  # channel id -> epoch of its last full history read
        self._catchup_wanted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.receiver = Receiver(outbox, metrics, forward=self._forward, sleep=sleep)
        if config.destination_channel is None:
            self.receiver.forward = None

    # -- life cycle -----------------------------------------------------------
    async def load_registry_cache(self) -> None:
        """The api may be down at start: listen to what the registry said last time."""
        cached = await self.outbox.run(self.outbox.store.get_meta, REGISTRY_META_KEY)
        if cached:
            self.registry_refs = tuple(json.loads(cached))

    def start(self) -> None:
        if self.user_session is not None:
            self._tasks.append(asyncio.create_task(self._run_user(), name="telegram-user"))
            self._tasks.append(asyncio.create_task(self._catchup_loop(), name="catch-up"))
            self._tasks.append(asyncio.create_task(self._backfill_loop(), name="backfill"))
        if self.fetch_registry is not None and self.config.telegram_configured:
            self._tasks.append(asyncio.create_task(self._registry_loop(), name="registry"))
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
                # Bounded: a hanging api must not hold Telegram back (the cached list serves).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._refresh_registry(), REGISTRY_START_TIMEOUT_S)
                await self._sync_channels(client)
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
        self._backfill_wanted.set()

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
                await self._flood_sleep(exc.seconds)

    # -- the channel list: TELEGRAM_CHANNELS plus the api's registry -------------
    def _wanted(self) -> dict[str, tuple[ChannelRef, str]]:
        wanted: dict[str, tuple[ChannelRef, str]] = {}
        for ref in self.config.channels:
            wanted[ref_key(ref)] = (ref, "config")
        for ref in self.registry_refs:
            key = ref_key(ref)
            wanted[key] = (ref, "config+registry" if key in wanted else "registry")
        return wanted

    async def _refresh_registry(self) -> bool:
        """Re-read the registry's active channels; True when the list changed."""
        if self.fetch_registry is None:
            return False
        try:
            refs = await self.fetch_registry()
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
            if problem != self.registry_error:
                log.warning(
                    "channel registry unreadable; keeping the last known list",
                    extra={"error": problem, "channels": [str(r) for r in self.registry_refs]},
                )
            self.registry_error = problem
            return False
        self.registry_error = None
        if refs == self.registry_refs:
            return False
        self.registry_refs = refs
        await self.outbox.run(self.outbox.store.set_meta, REGISTRY_META_KEY, json.dumps(list(refs)))
        return True

    async def _registry_loop(self) -> None:
        interval = self.config.channel_refresh_s
        if interval <= 0:
            return
        stale = False
        while True:
            await self._sleep(interval)
            try:
                # A change seen while disconnected, or a channel that could not be
                # resolved, is tried again at the next tick.
                stale = await self._refresh_registry() or stale or bool(self.unresolved)
                client = self.client if self.client is not None else self.bot
                ready = self.connected if client is self.client else self.bot_state == CONNECTED
                if stale and client is not None and ready:
                    await self._sync_channels(client)
                    stale = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("channel refresh failed", extra={"error": f"{exc!r}"})

    async def _join(self, client: Any, entity: Any) -> None:
        """A user account only receives a channel's posts once it is a member."""
        if not getattr(entity, "left", False) or client is self.bot:
            return
        await self._with_flood_wait(client, functions.channels.JoinChannelRequest(entity))
        log.info("telegram: joined channel", extra={"channel_id": utils.get_peer_id(entity)})

    async def _sync_channels(self, client: Any) -> set[int]:
        """Resolve (and join) the wanted channels; forget the ones no longer wanted."""
        async with self._sync_lock:
            wanted = self._wanted()
            channels: dict[int, Channel] = {}
            for key, (ref, source) in wanted.items():
                channel_id = self._resolved.get(key)
                channel = self.channels.get(channel_id) if channel_id is not None else None
                if channel is None:
                    try:
                        entity = await self._with_flood_wait(client.get_entity, ref)
                        await self._join(client, entity)
                    except (ValueError, errors.RPCError) as exc:
                        problem = f"{type(exc).__name__}: {exc}"
                        if self.unresolved.get(str(ref)) != problem:
                            log.error(
                                "telegram: channel cannot be resolved; not listening to it",
                                extra={"channel": str(ref), "source": source, "error": problem},
                            )
                        self.unresolved[str(ref)] = problem
                        continue
                    channel_id = utils.get_peer_id(entity)
                    name = getattr(entity, "title", None) or getattr(entity, "username", None)
                    channel = channels.get(channel_id) or Channel(channel_id, name, entity)
                    self._resolved[key] = channel_id
                self.unresolved.pop(str(ref), None)
                channel.source = source
                channels[channel.id] = channel
            for ref in list(self.unresolved):
                if ref_key(ref) not in wanted:
                    del self.unresolved[ref]
            self._resolved = {k: v for k, v in self._resolved.items() if k in wanted}
            added = set(channels) - set(self.channels)
            removed = set(self.channels) - set(channels)
            self.channels = channels
        if added or removed:
            log.info(
                "telegram: listening",
                extra={
                    "channels": {str(c.id): c.name for c in channels.values()},
                    "added": sorted(added),
                    "removed": sorted(removed),
                },
            )
        if added:
            self._catchup_wanted.set()
        return added

    def _listen(self, client: Any, source: str) -> None:
        # No `chats=` filter: the channel list changes while running; _on_event filters.
        async def on_message(event: Any) -> None:
            await self._on_event(event, source)

        async def on_deleted(event: Any) -> None:
            if event.chat_id in self.channels and source == "user":
                await self.receiver.accept_deletions(event.chat_id, list(event.deleted_ids))

        client.on(events.NewMessage())(on_message)
        client.on(events.MessageEdited())(on_message)
        client.on(events.MessageDeleted())(on_deleted)

    async def _on_event(self, event: Any, source: str) -> None:
        channel_id = event.chat_id
        channel = self.channels.get(channel_id)
        if channel is None:
            return  # not (or no longer) one of ours
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
                        sleep=self._flood_sleep,
                        on_first_sight=self._first_sight_hook(channel, epoch),
                    )
                    if self._rescanned.get(channel.id) != epoch:
                        await self._rescan(channel)
                        self._rescanned[channel.id] = epoch
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

    def _first_sight_hook(self, channel: Channel, epoch: int) -> Callable[[int], Awaitable[None]]:
        async def first_sight(baseline: int) -> None:
            self._rescanned[channel.id] = epoch  # nothing delivered yet: nothing to rescan
            if self.config.backfill is not None:
                await self.start_backfill(channel, self.config.backfill, upto=baseline)

        return first_sight

    async def _rescan(self, channel: Channel) -> None:
        window = self.config.edit_rescan_window
        if window is None:
            return
        baseline = await self.outbox.run(self.outbox.store.get_meta, f"baseline:{channel.id}")
        job = await self.outbox.run(self.outbox.store.backfill, channel.id)
        lowest = int(baseline) if baseline is not None else 0
        if job is not None:
            lowest = min(lowest, job.floor)
        await rescan_edits(
            self.client,
            channel,
            self.outbox,
            self.receiver,
            self.metrics,
            window,
            lowest_known=lowest,
            flood_sleep=self._flood_sleep,
        )

    # -- backfills --------------------------------------------------------------
    def find_channel(self, ref: ChannelRef) -> Channel | None:
        if isinstance(ref, int):
            marked = ref if ref < 0 else utils.get_peer_id(types.PeerChannel(ref))
            return self.channels.get(marked)
        wanted = ref.lstrip("@").lower()
        for channel in self.channels.values():
            username = getattr(channel.entity, "username", None)
            if username and username.lower() == wanted:
                return channel
        channel_id = self._resolved.get(wanted)
        return self.channels.get(channel_id) if channel_id is not None else None

    async def start_backfill(
        self, channel: Channel, spec: Backfill, *, upto: int | None = None
    ) -> BackfillJob:
        """Schedule reading the channel's history from `spec` up to `upto` (default: the
        channel's floor, above which catch-up reads); the backfill task does the reading."""
        if self.client is None or not self.connected:
            raise ConnectionError("telegram is not connected")
        now = dt.datetime.now(dt.UTC)
        floor = await self._with_flood_wait(backfill_floor, self.client, channel.entity, spec, now)
        if upto is None:
            upto = await self.outbox.run(self.outbox.store.channel_floor, channel.id) or 0
        job = await self.outbox.run(
            self.outbox.store.start_backfill, channel.id, min(floor, upto), upto, spec.describe()
        )
        log.info("backfill scheduled", extra=job.as_dict())
        self._backfill_wanted.set()
        return job

    async def _backfill_loop(self) -> None:
        while True:
            await self._backfill_wanted.wait()
            self._backfill_wanted.clear()
            if self.state != CONNECTED:
                continue
            jobs = await self.outbox.run(self.outbox.store.backfills)
            for job in jobs:
                channel = self.channels.get(job.channel_id)
                if job.done or channel is None:
                    continue
                try:
                    await run_backfill(
                        self.client,
                        channel,
                        job,
                        self.outbox,
                        self.receiver,
                        self.metrics,
                        flood_sleep=self._flood_sleep,
                        sleep=self._sleep,
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning(
                        "backfill interrupted; will resume",
                        extra={"channel_id": job.channel_id, "error": f"{type(exc).__name__}"},
                    )
                    await self._sleep(1.0)
                    self._backfill_wanted.set()

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
            await self._refresh_registry()
            await self._sync_channels(bot)
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
                    "source": c.source,
                    "state": (
                        "listening" if self._caught_up.get(c.id) == self.epoch else "catching up"
                    ),
                    "caughtUp": self._caught_up.get(c.id) == self.epoch,
                }
                for c in self.channels.values()
            ],
            "unresolved": [
                {"channel": ref, "state": "unresolved", "error": error}
                for ref, error in self.unresolved.items()
            ],
            "registry": {
                "channels": [str(r) for r in self.registry_refs],
                "error": self.registry_error,
                "refreshSeconds": self.config.channel_refresh_s,
            },
        }
