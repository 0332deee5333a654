"""JSON in and out: decoding request bodies with one error for every way they
can be bad, and encoding database values (Decimal as numbers, datetimes as ISO 8601)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any

import orjson


class BadJson(ValueError):
    """The body is not a JSON document this service can take; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"number {text[:40]} is out of range")
    return value


def _has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif type(item) is float:
            return True
    return False


def loads(raw: bytes | bytearray | str) -> Any:
    """Decode a request body: orjson when its answer is the standard decoder's.

    orjson reads an integer past 64 bits as a float without an error, so a
    document with any float in it is decoded again by `strict_loads` (ingest
    bodies carry none). Every body orjson refuses (NaN, infinities, lone
    surrogates, bad UTF-8, nesting past its limit, UTF-16, a BOM) goes to
    `strict_loads` too, so a bad body gets exactly the error it got before.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return strict_loads(raw)
    return strict_loads(raw) if _has_float(value) else value


def strict_loads(raw: bytes | bytearray | str) -> Any:
    """Decode a request body. Every failure is BadJson, never another exception.

    json.loads lets several errors escape as plain ValueError (an integer past
    Python's 4,300-digit limit) or RecursionError (deep nesting); they are bad
    input, not server faults. NaN, Infinity and numbers that overflow to
    infinity are refused: no column or JSON answer can hold them.
    """
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson("the document is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadJson(str(exc)) from None
    except UnicodeDecodeError:
        raise BadJson("the document is not valid UTF-8") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise BadJson("an integer in the document has too many digits") from None
        raise BadJson(str(exc)[:200]) from None


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
