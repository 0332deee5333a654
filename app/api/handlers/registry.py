"""Channel and bot registries."""

from __future__ import annotations

from app.api.handlers.base import ApiHandler
from app.api.schemas import BotInSchema, BotSchema, ChannelInSchema, ChannelSchema
from app.api.store import registry
from app.web.handlers import ApiError

_channel_in = ChannelInSchema()
_channel_out = ChannelSchema()
_bot_in = BotInSchema()
_bot_out = BotSchema()


def _clean_username(data: dict) -> dict:
    if data.get("username"):
        data["username"] = data["username"].lstrip("@")
    return data


class ChannelsHandler(ApiHandler):
    async def get(self) -> None:
        rows = await registry.list_channels(self.pool)
        self.write_json({"data": _channel_out.dump(rows, many=True), "count": len(rows)})

    async def post(self) -> None:
        self.require_api_key()
        data = _clean_username(self.load(_channel_in, self.json_body()))
        try:
            row = await registry.create_channel(self.pool, data)
        except registry.Conflict as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        self.write_json(_channel_out.dump(row), status=201)


class ChannelHandler(ApiHandler):
    async def put(self, row_id: str) -> None:
        self.require_api_key()
        data = _clean_username(self.load(_channel_in, self.json_body(), partial=True))
        try:
            row = await registry.update_channel(self.pool, int(row_id), data)
        except registry.Conflict as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        if row is None:
            raise ApiError(404, "not_found", f"no channel with id {row_id}")
        self.write_json(_channel_out.dump(row))

    async def delete(self, row_id: str) -> None:
        self.require_api_key()
        if not await registry.soft_delete(self.pool, "telegram_channels", int(row_id)):
            raise ApiError(404, "not_found", f"no channel with id {row_id}")
        self.write_json({"status": "deleted", "id": int(row_id)})


class ConfiguredChannelsHandler(ApiHandler):
    """The active channels, in the shape a gateway reads."""

    async def get(self) -> None:
        rows = await registry.list_channels(self.pool, active_only=True)
        self.write_json(
            {
                "channels": [
                    {
                        "id": r["id"],
                        "channelId": r["channel_id"],
                        "username": r["username"],
                        "label": r["label"],
                    }
                    for r in rows
                ],
                "count": len(rows),
            }
        )


class BotsHandler(ApiHandler):
    async def get(self) -> None:
        rows = await registry.list_bots(self.pool)
        self.write_json({"data": _bot_out.dump(rows, many=True), "count": len(rows)})

    async def post(self) -> None:
        self.require_api_key()
        data = _clean_username(self.load(_bot_in, self.json_body()))
        try:
            row = await registry.create_bot(self.pool, data)
        except registry.Conflict as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        self.write_json(_bot_out.dump(row), status=201)


class BotHandler(ApiHandler):
    async def put(self, row_id: str) -> None:
        self.require_api_key()
        data = _clean_username(self.load(_bot_in, self.json_body(), partial=True))
        try:
            row = await registry.update_bot(self.pool, int(row_id), data)
        except registry.Conflict as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        if row is None:
            raise ApiError(404, "not_found", f"no bot with id {row_id}")
        self.write_json(_bot_out.dump(row))

    async def delete(self, row_id: str) -> None:
        self.require_api_key()
        if not await registry.soft_delete(self.pool, "telegram_bots", int(row_id)):
            raise ApiError(404, "not_found", f"no bot with id {row_id}")
        self.write_json({"status": "deleted", "id": int(row_id)})
