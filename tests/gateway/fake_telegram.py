"""A fake Telegram at the network boundary: Telethon's client surface, real Telethon types.

`FakeTelegram` is the "server": channels with their histories, reachability,
flood waits. `FakeClient` offers the part of TelegramClient the gateway uses
(connect, is_connected, disconnect, is_user_authorized, start, get_entity,
iter_messages, forward_messages, on/add_event_handler) and dispatches updates
the way Telethon's `_dispatch_update` does: real `UpdateNewChannelMessage` /
`UpdateEditChannelMessage` around real `types.Message` objects, built into
events by the real `events.NewMessage` / `events.MessageEdited` builders,
resolved, filtered by `chats=`, then handed to the callbacks.

For a gateway running as a child process, `factory` (named in
TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY) builds a server fed by a JSONL file the
test appends to (FAKE_TELEGRAM_FEED): see `FeedWriter`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telethon import errors, functions, utils
from telethon._updates import EntityCache
from telethon.client.auth import AuthMethods
from telethon.tl import types

telethon_log = logging.getLogger("telethon.network.mtprotosender")

EPOCH = dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class FakeAccount:
    """A Telegram account the login flow can sign in to."""

    code: str = "12345"
    password: str | None = None  # two-step verification


@dataclass
class FakeChannel:
    bare_id: int
    title: str
    username: str | None = None
    messages: dict[int, types.Message] = field(default_factory=dict)
    last_id: int = 0
    joined: bool = True  # False: the account must join before it gets the posts

    @property
    def marked_id(self) -> int:
        return utils.get_peer_id(types.PeerChannel(self.bare_id))

    def entity(self) -> types.Channel:
        return types.Channel(
            id=self.bare_id,
            title=self.title,
            photo=types.ChatPhotoEmpty(),
            date=EPOCH,
            broadcast=True,
            access_hash=self.bare_id * 7919,
            username=self.username,
            left=not self.joined,
        )


def make_message(
    channel: FakeChannel, message_id: int, text: str, date: dt.datetime, edit: dt.datetime | None
) -> types.Message:
    return types.Message(
        id=message_id,
        peer_id=types.PeerChannel(channel.bare_id),
        date=date,
        message=text,
        post=True,
        edit_date=edit,
    )


class FakeTelegram:
    def __init__(self, *, id_gaps: bool = True, seed: int = 7) -> None:
        self.channels: dict[int, FakeChannel] = {}
        self.clients: list[FakeClient] = []
        self.reachable = True
        self.authorized = True
        self.flood_waits: list[int] = []  # seconds for the next history requests
        self.flood_waits_midway: list[int] = []  # ... for the next page of a long read
        self.forwarded: list[tuple[int, int]] = []
        self.history_requests = 0
        self.accounts: dict[str, FakeAccount] = {}  # phone (digits only) -> account
        self.bot_tokens: set[str] | None = None  # None: any well-formed token works
        self.codes_sent: list[str] = []
        self.joins: list[int] = []
        self._random = random.Random(seed)
        self._id_gaps = id_gaps

    def add_channel(self, bare_id: int, title: str, username: str | None = None) -> FakeChannel:
        channel = FakeChannel(bare_id, title, username)
        self.channels[channel.marked_id] = channel
        return channel

    def channel(self, ref: Any) -> FakeChannel:
        if isinstance(ref, FakeChannel):
            return ref
        if isinstance(ref, types.Channel | types.InputPeerChannel | types.PeerChannel):
            return self.channels[utils.get_peer_id(ref)]
        if isinstance(ref, int):
            if ref in self.channels:
                return self.channels[ref]
            return self.channels[utils.get_peer_id(types.PeerChannel(ref))]
        if isinstance(ref, str):
            for channel in self.channels.values():
                if channel.username and channel.username.lower() == ref.lstrip("@").lower():
                    return channel
        raise ValueError(f'Cannot find any entity corresponding to "{ref}"')

    # -- what happens in Telegram ---------------------------------------------
    def store(
        self, ref: Any, text: str, *, message_id: int | None = None, date: dt.datetime | None = None
    ) -> types.Message:
        """A post, without telling anyone (posted while nobody listens, or history)."""
        channel = self.channel(ref)
        if message_id is None:
            step = self._random.choice((1, 1, 2, 5)) if self._id_gaps else 1
            message_id = channel.last_id + step
        channel.last_id = max(channel.last_id, message_id)
        date = date or EPOCH + dt.timedelta(seconds=message_id)
        message = make_message(channel, message_id, text, date, None)
        channel.messages[message_id] = message
        return message

    async def post(self, ref: Any, text: str, **kwargs: Any) -> types.Message:
        message = self.store(ref, text, **kwargs)
        channel = self.channel(ref)
        update = types.UpdateNewChannelMessage(message=message, pts=message.id, pts_count=1)
        await self._broadcast(update, channel)
        return message

    def store_edit(
        self, ref: Any, message_id: int, text: str, edit_date: dt.datetime | None = None
    ) -> types.Message:
        channel = self.channel(ref)
        old = channel.messages[message_id]
        edited = make_message(
            channel, message_id, text, old.date, edit_date or old.date + dt.timedelta(minutes=5)
        )
        channel.messages[message_id] = edited
        return edited

    async def edit(self, ref: Any, message_id: int, text: str, **kwargs: Any) -> types.Message:
        edited = self.store_edit(ref, message_id, text, **kwargs)
        update = types.UpdateEditChannelMessage(message=edited, pts=edited.id, pts_count=1)
        await self._broadcast(update, self.channel(ref))
        return edited

    async def delete(self, ref: Any, message_ids: list[int]) -> None:
        channel = self.channel(ref)
        for message_id in message_ids:
            channel.messages.pop(message_id, None)
        update = types.UpdateDeleteChannelMessages(
            channel_id=channel.bare_id, messages=message_ids, pts=channel.last_id, pts_count=1
        )
        await self._broadcast(update, channel)

    async def _broadcast(self, update: Any, channel: FakeChannel) -> None:
        for client in list(self.clients):
            # Telegram only sends a channel's updates to members.
            if client.is_connected() and (channel.joined or client.bot):
                await client._dispatch_update(update, channel)

    def drop_connections(self) -> None:
        """The network goes away under the connected clients (they notice, as Telethon does)."""
        for client in self.clients:
            client._connected = False


class FakeClient:
    """The TelegramClient surface the gateway uses; no network."""

    def __init__(self, server: FakeTelegram, *, bot: bool = False) -> None:
        self.server = server
        self.bot = bot
        self.reconnect_listeners: list[Callable[[], None]] = []
        self._event_builders: list[tuple[Any, Callable[[Any], Awaitable[None]]]] = []
        self._connected = False
        self._authorized = server.authorized
        self._self_id = 424242
        self._mb_entity_cache = EntityCache()
        self.tasks: set[asyncio.Task[None]] = set()
        server.clients.append(self)

    # -- connection -----------------------------------------------------------
    async def connect(self) -> None:
        # As Telethon does: an info line on every connection (the login must hide it).
        telethon_log.info("Connecting to 149.154.167.51:443/TcpFull...")
        if not self.server.reachable:
            raise ConnectionError("Connection to Telegram failed 5 time(s)")
        self._connected = True

    def is_connected(self) -> bool:
        return self._connected

    async def disconnect(self) -> None:
        self._connected = False

    async def is_user_authorized(self) -> bool:
        return self._authorized

    # Telethon's own sign-in flow runs on top of the calls below.
    start = AuthMethods.start
    _start = AuthMethods._start

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    async def get_me(self, input_peer: bool = False) -> Any:
        if not self._authorized:
            return None
        name = "fake_bot" if self.bot else "fake_operator"
        return types.User(id=self._self_id, username=name, bot=self.bot)

    async def send_code_request(self, phone: str, *, force_sms: bool = False) -> Any:
        self._require_connection()
        self.server.codes_sent.append(phone)
        return types.auth.SentCode(
            type=types.auth.SentCodeTypeApp(length=5), phone_code_hash="fakehash"
        )

    async def sign_in(
        self,
        phone: str | None = None,
        code: str | None = None,
        *,
        password: str | None = None,
        bot_token: str | None = None,
        phone_code_hash: str | None = None,
    ) -> Any:
        self._require_connection()
        if bot_token is not None:
            tokens = self.server.bot_tokens
            if tokens is not None and bot_token not in tokens:
                raise errors.AccessTokenInvalidError(request=None)
            self._authorized = True
            return await self.get_me()
        account = self.server.accounts.get(utils.parse_phone(phone or "") or "")
        if account is None:
            # Telethon raises this from sign_in when Telegram answers "sign up required".
            raise errors.PhoneNumberUnoccupiedError(request=None)
        if password is not None:
            if password != account.password:
                raise errors.PasswordHashInvalidError(request=None)
        elif code != account.code:
            raise errors.PhoneCodeInvalidError(request=None)
        elif account.password is not None:
            raise errors.SessionPasswordNeededError(request=None)
        self._authorized = True
        return await self.get_me()

    def auto_reconnected(self) -> None:
        """Telethon reconnected by itself (the connection never looked down to callers)."""
        self._connected = True
        for listener in self.reconnect_listeners:
            listener()

    # -- entities and history -------------------------------------------------
    def _require_connection(self) -> None:
        if not self._connected:
            raise ConnectionError("Cannot send requests while disconnected")

    async def get_entity(self, ref: Any) -> types.Channel:
        self._require_connection()
        return self.server.channel(ref).entity()

    async def __call__(self, request: Any) -> Any:
        """The raw requests the gateway sends: joining a channel."""
        self._require_connection()
        if isinstance(request, functions.channels.JoinChannelRequest):
            self.server.channel(request.channel).joined = True
            self.server.joins.append(utils.get_peer_id(request.channel))
            return types.Updates(updates=[], users=[], chats=[], date=EPOCH, seq=0)
        raise NotImplementedError(type(request).__name__)

    async def get_input_entity(self, ref: Any) -> Any:
        return utils.get_input_peer(await self.get_entity(ref))

    async def iter_messages(
        self,
        entity: Any,
        limit: int | None = None,
        *,
        min_id: int = 0,
        max_id: int = 0,
        offset_date: dt.datetime | None = None,
        add_offset: int = 0,
        reverse: bool = False,
    ) -> AsyncIterator[types.Message]:
        """Telethon's iter_messages over GetHistory: ids above min_id, below max_id;
        `offset_date` starts after the date (reverse) or before it; add_offset skips."""
        self._require_connection()
        self.server.history_requests += 1
        if self.server.flood_waits:
            raise errors.FloodWaitError(request=None, capture=self.server.flood_waits.pop(0))
        channel = self.server.channel(entity)
        ids = sorted((i for i in channel.messages if i > min_id), reverse=not reverse)
        if max_id:
            ids = [i for i in ids if i < max_id]
        if offset_date is not None and not (reverse and min_id):
            if reverse:
                ids = [i for i in ids if channel.messages[i].date >= offset_date]
            else:
                ids = [i for i in ids if channel.messages[i].date < offset_date]
        ids = ids[add_offset:]
        if limit is not None:
            ids = ids[:limit]
        entities = {channel.marked_id: channel.entity()}
        for index, message_id in enumerate(ids):
            if index and index % 100 == 0:
                await asyncio.sleep(0)  # a new page: Telethon would await the network here
                self._require_connection()
                self.server.history_requests += 1
                if self.server.flood_waits_midway:
                    seconds = self.server.flood_waits_midway.pop(0)
                    raise errors.FloodWaitError(request=None, capture=seconds)
            message = channel.messages.get(message_id)
            if message is None:  # deleted while the page was being read
                continue
            message._finish_init(self, entities, None)
            yield message

    async def forward_messages(self, entity: Any, messages: Any, *args: Any) -> types.Message:
        self._require_connection()
        target = self.server.channel(entity)
        source = messages if isinstance(messages, types.Message) else messages[0]
        copy = self.server.store(target, source.message or "")
        self.server.forwarded.append((utils.get_peer_id(source.peer_id), source.id))
        return copy

    # -- events, as TelegramClient.on / add_event_handler / _dispatch_update ----
    def on(self, event: Any) -> Callable[[Any], Any]:
        def decorator(callback: Any) -> Any:
            self.add_event_handler(callback, event)
            return callback

        return decorator

    def add_event_handler(self, callback: Any, event: Any) -> None:
        self._event_builders.append((event, callback))

    async def _dispatch_update(self, update: Any, channel: FakeChannel) -> None:
        update._entities = {channel.marked_id: channel.entity()}
        for builder, callback in self._event_builders:
            event = builder.build(update, None, self._self_id)
            if not event:
                continue
            event.original_update = update
            event._entities = update._entities
            event._set_client(self)
            if not builder.resolved:
                await builder.resolve(self)
            if not builder.filter(event):
                continue
            # Telethon runs each update's handlers in a task of its own.
            task = asyncio.create_task(callback(event))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def idle(self) -> None:
        """Wait until every dispatched handler has finished."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


# -- the child-process mode ---------------------------------------------------
class FeedWriter:
    """The test's side: appends what happens in Telegram to the feed file.

    Message ids are chosen here so they stay the same across gateway restarts.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self.last_ids: dict[int, int] = {}

    def _write(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()

    def record(self, op: str, **fields: Any) -> None:
        """Server state: logged_out, account (phone, code, password), bot_tokens (tokens)."""
        self._write({"op": op, **fields})

    def channel(self, bare_id: int, title: str) -> int:
        self._write({"op": "channel", "id": bare_id, "title": title})
        return utils.get_peer_id(types.PeerChannel(bare_id))

    def post(self, bare_id: int, text: str, gap: int = 1) -> int:
        message_id = self.last_ids.get(bare_id, 0) + gap
        self.last_ids[bare_id] = message_id
        self._write({"op": "post", "channel": bare_id, "id": message_id, "text": text})
        return message_id

    def close(self) -> None:
        self._handle.close()


class FeedReader:
    """The gateway process's side: replays the file as history, then tails it as live posts."""

    def __init__(self, path: Path, server: FakeTelegram) -> None:
        self.path = path
        self.server = server
        self._offset = 0
        self._buffer = b""
        self.task: asyncio.Task[None] | None = None

    def _read_lines(self) -> list[dict[str, Any]]:
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        self._buffer += data
        *complete, self._buffer = self._buffer.split(b"\n")
        return [json.loads(line) for line in complete if line.strip()]

    def load_history(self) -> None:
        for record in self._read_lines():
            self._apply_stored(record)

    def _apply_stored(self, record: dict[str, Any]) -> types.Message | None:
        if record["op"] == "logged_out":
            self.server.authorized = False
            return None
        if record["op"] == "account":
            self.server.accounts[record["phone"].lstrip("+")] = FakeAccount(
                record.get("code", "12345"), record.get("password")
            )
            return None
        if record["op"] == "flood_waits_midway":
            self.server.flood_waits_midway = list(record["seconds"])
            return None
        if record["op"] == "bot_tokens":
            self.server.bot_tokens = set(record["tokens"])
            return None
        if record["op"] == "channel":
            if utils.get_peer_id(types.PeerChannel(record["id"])) not in self.server.channels:
                self.server.add_channel(record["id"], record["title"])
            return None
        if record["op"] == "post":
            return self.server.store(record["channel"], record["text"], message_id=record["id"])
        return None

    async def tail(self) -> None:
        while True:
            for record in self._read_lines():
                if record["op"] == "post":
                    await self.server.post(
                        record["channel"], record["text"], message_id=record["id"]
                    )
                elif record["op"] == "disconnect":
                    self.server.drop_connections()
                else:
                    self._apply_stored(record)
            await asyncio.sleep(0.01)


_process_server: FakeTelegram | None = None


def factory(config: Any, session: Any, *, bot: bool) -> FakeClient:
    """TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY=tests.gateway.fake_telegram:factory"""
    global _process_server
    if _process_server is None:
        _process_server = FakeTelegram()
        reader = FeedReader(Path(os.environ["FAKE_TELEGRAM_FEED"]), _process_server)
        reader.load_history()
        reader.task = asyncio.get_running_loop().create_task(reader.tail())
    return FakeClient(_process_server, bot=bot)
