"""JSON-lines logging on stdout, with a ring buffer for the /logs endpoint.

Secrets registered with `register_secret` are masked in every record, as a
second line of defence behind code that never logs them in the first place.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import sys
import threading
from typing import Any

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    if value and len(value) >= 8:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, secret[:8] + "…")
    return text


def record_to_dict(record: logging.LogRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
            timespec="milliseconds"
        ),
        "level": record.levelname.lower(),
        "logger": record.name,
        "message": redact(record.getMessage()),
    }
    for key, value in record.__dict__.items():
        if key not in _RESERVED and not key.startswith("_"):
            entry[key] = redact(value) if isinstance(value, str) else value
    if record.exc_info:
        entry["exception"] = redact(logging.Formatter().formatException(record.exc_info))
    return entry


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_to_dict(record), default=str, ensure_ascii=False)


class RingBufferHandler(logging.Handler):
    """Keeps the last `capacity` records as dicts for GET /logs."""

    def __init__(self, capacity: int = 500) -> None:
        super().__init__()
        self.records: collections.deque[dict[str, Any]] = collections.deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(json.loads(json.dumps(record_to_dict(record), default=str)))
        except Exception:  # a log handler must never raise
            self.handleError(record)

    def tail(self, limit: int, level: str | None = None) -> list[dict[str, Any]]:
        minimum = logging.getLevelName(level.upper()) if level else 0
        selected = [r for r in self.records if logging.getLevelName(r["level"].upper()) >= minimum]
        return selected[-limit:]


_ring = RingBufferHandler()


def ring_buffer() -> RingBufferHandler:
    return _ring


def setup_logging(level: str = "info", *, stream: Any = None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(stream or sys.stdout)
    console.setFormatter(JsonFormatter())
    root.addHandler(console)
    root.addHandler(_ring)
    root.setLevel(level.upper())
    # Tornado's access log is replaced by our own request log.
    logging.getLogger("tornado.access").setLevel(logging.WARNING)
    logging.getLogger("telethon").setLevel(max(logging.INFO, root.level))
