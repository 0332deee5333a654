"""From a Telethon message to the api's ingest object: pure, no I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from telethon import utils
from telethon.tl.custom import Message

Source = Literal["user", "bot"]


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # Telethon gives aware UTC datetimes; be safe with naive ones
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def channel_id_of(message: Message) -> int:
    """The marked id (-100...) of the chat the message was posted in."""
    return utils.get_peer_id(message.peer_id)


def message_payload(
    message: Message,
    *,
    channel_name: str | None,
    source: Source,
    forwarded_to: dict[str, int] | None = None,
) -> dict[str, Any]:
    """`timestamp` is the post date, which an edit never changes (it is part of the
    api's unique key); `editDate` tells versions of the same message apart."""
    return {
        "channelId": channel_id_of(message),
        "messageId": message.id,
        "timestamp": iso(message.date),
        "text": message.message or "",
        "channelName": channel_name,
        "editDate": iso(message.edit_date),
        "source": source,
        "forwardedTo": forwarded_to,
    }


def forwarded_reference(forwarded: Message) -> dict[str, int]:
    return {"channelId": channel_id_of(forwarded), "messageId": forwarded.id}
