"""JSON encoding of database values: Decimal as numbers, datetimes as ISO 8601."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def dumps_bytes(value: Any) -> bytes:
    """dumps() as UTF-8, through orjson (several times faster on answers of many rows).

    orjson refuses some values the standard encoder takes (integers beyond 64
    bits, non-string keys); those answers fall back to dumps().
    """
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_NAIVE_UTC)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return dumps(value).encode()
