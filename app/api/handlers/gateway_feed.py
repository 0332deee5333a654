"""The gateway's side routes, behind X-Gateway-Token like /ingest.

GET /ingest/channels: the registry's active source channels, which the
gateway listens to along with its TELEGRAM_CHANNELS.
POST /ingest/deletions: channel messages deleted in Telegram, recorded on
their raw rows (a deletion time; the row is kept).
"""

from __future__ import annotations

from app.api.handlers.ingest import _IngestBase
from app.api.schemas import DeletionsSchema
from app.api.store import registry
from app.api.store.deletions import mark_deleted

_deletions = DeletionsSchema()


class GatewayChannelsHandler(_IngestBase):
    async def get(self) -> None:
        rows = await registry.list_channels(self.pool, active_only=True)
        self.write_json(
            {
                "channels": [
                    {"id": r["id"], "channelId": r["channel_id"], "username": r["username"]}
                    for r in rows
                ],
                "count": len(rows),
            }
        )


class DeletionsHandler(_IngestBase):
    max_body_bytes = 256 * 1024

    async def post(self) -> None:
        data = self.load(_deletions, self.json_body())
        outcome = await mark_deleted(self.pool, data["deletions"])
        self.write_json(
            {
                "status": "ok",
                "received": len(data["deletions"]),
                "recorded": outcome.recorded,
                "unknown": outcome.unknown,
            }
        )
