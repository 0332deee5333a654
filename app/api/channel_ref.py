"""A channel as an operator names it: its id, or its name (`@name` too)."""

from __future__ import annotations

from typing import Any

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def channel_filter(channel: str) -> dict[str, Any]:
    """`{"channel_id": int}` or `{"channel_name": str}`, as `GET /signals?channel=` reads it.

    Raises ValueError, with a message for the user, for an id out of bigint range or no name.
    """
    channel = channel.strip()
    if channel.lstrip("-").isdigit():
        channel_id = int(channel)
        if not INT64_MIN <= channel_id <= INT64_MAX:
            raise ValueError(f"channel id {channel} is out of range")
        return {"channel_id": channel_id}
    if not channel.lstrip("@"):
        raise ValueError("channel name is empty")
    return {"channel_name": channel.lstrip("@")}
