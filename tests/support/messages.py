"""Ingest payloads for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

CHANNEL = -1001234567890
TP_SIGNAL = """🟢Swing Trade

Ativo: BOVAW32
Compra: 1,04 a 1,06
Alvo 1: 1,15
Alvo 2: 2,15
Alvo final: 3,00
Stop: 0,80"""

BASE_TS = dt.datetime(2026, 11, 20, 13, 0, tzinfo=dt.UTC)


def message(
    message_id: int,
    text: str = TP_SIGNAL,
    *,
    channel_id: int = CHANNEL,
    ts: dt.datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channelId": channel_id,
        "messageId": message_id,
        "timestamp": (ts or BASE_TS + dt.timedelta(minutes=message_id)).isoformat(),
        "text": text,
        "channelName": "TP Capital",
    }
    body.update(extra)
    return body


def signal_text(asset: str, low: str = "1,04", high: str = "1,06", stop: str = "0,80") -> str:
    return (
        f"🟢Swing Trade\n\nAtivo: {asset}\nCompra: {low} a {high}\n"
        f"Alvo 1: 1,15\nAlvo 2: 2,15\nAlvo final: 3,00\nStop: {stop}"
    )
