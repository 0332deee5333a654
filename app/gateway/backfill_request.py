"""A backfill request (`tpcap gateway backfill` → POST /backfills): parsing only, no I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.gateway.config import Backfill

MAX_LIMIT = 1_000_000


class BackfillRequestError(ValueError):
    pass


def parse_since(text: str, now: dt.datetime | None = None) -> dt.timedelta:
    """`2024-05-01`, `2024-05-01T12:00` (UTC unless an offset is given) → time since then."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise BackfillRequestError(f"since: {text!r} is not a date (YYYY-MM-DD[THH:MM])") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    if when >= now:
        raise BackfillRequestError(f"since: {text!r} is in the future")
    return now - when


def parse_backfill_request(body: Any) -> tuple[int | str, Backfill]:
    if not isinstance(body, dict):
        raise BackfillRequestError("expected a JSON object")
    unknown = set(body) - {"channel", "since", "limit"}
    if unknown:
        raise BackfillRequestError(f"unknown fields: {', '.join(sorted(unknown))}")
    channel = body.get("channel")
    if isinstance(channel, str) and channel.lstrip("-").isdigit():
        channel = int(channel)
    if not (isinstance(channel, int) and not isinstance(channel, bool)) and not (
        isinstance(channel, str) and channel.strip()
    ):
        raise BackfillRequestError("channel: a marked id (-100…) or a username is required")
    since, limit = body.get("since"), body.get("limit")
    if (since is None) == (limit is None):
        raise BackfillRequestError("exactly one of since and limit is required")
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_LIMIT:
            raise BackfillRequestError(f"limit: a whole number from 1 to {MAX_LIMIT}")
        return channel, Backfill(limit=limit)
    if not isinstance(since, str):
        raise BackfillRequestError("since: a date string is required")
    return channel, Backfill(since=parse_since(since))
