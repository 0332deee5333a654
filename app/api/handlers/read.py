"""Read endpoints over signals and raw messages, and the re-parse action."""

from __future__ import annotations

from typing import Any

from app.api.channel_ref import channel_filter
from app.api.handlers.base import ApiHandler
from app.api.schemas import ForwardedQuerySchema, ListQuerySchema, ReparseSchema
from app.api.store import queries
from app.api.store.reparse import ReparseFilter, reparse
from app.web.handlers import ApiError

_list_query = ListQuerySchema()
_forwarded_query = ForwardedQuerySchema()
_reparse = ReparseSchema()


def _listed(rows_json: list[str]) -> str:
    """`{"data": [...], "count": n}` around rows PostgreSQL already encoded."""
    return f'{{"data":[{",".join(rows_json)}],"count":{len(rows_json)}}}'


class _ListHandler(ApiHandler):
    def filters(self) -> queries.Filters:
        args = self.load(_list_query, self.query_args())
        return queries.Filters(
            limit=args["limit"],
            channel=args["channel"],
            type=args["type"],
            asset=args["asset"],
            search=args["search"],
            status=args["status"],
            from_=args["from_"],
            to=args["to"],
            cursor=args["cursor"],
        )

    async def page(self, fetch: Any) -> None:
        filters = self.filters()
        try:
            page = await fetch(self.pool, filters)
        except queries.BadCursor as exc:
            raise ApiError(400, "invalid_query", str(exc), fields={"cursor": [str(exc)]}) from None
        self.finish(page.to_json())


class SignalsHandler(_ListHandler):
    async def get(self) -> None:
        await self.page(queries.list_signals)


class SignalHandler(ApiHandler):
    async def get(self, signal_id: str) -> None:
        row = await queries.get_signal(self.pool, int(signal_id))
        if row is None:
            raise ApiError(404, "not_found", f"no signal with id {signal_id}")
        self.finish(row)

    async def delete(self, signal_id: str) -> None:
        self.require_api_key()
        if not await queries.delete_signal(self.pool, int(signal_id)):
            raise ApiError(404, "not_found", f"no signal with id {signal_id}")
        self.write_json({"status": "deleted", "id": int(signal_id)})


class MessagesHandler(_ListHandler):
    async def get(self) -> None:
        await self.page(queries.list_messages)


class ReparseHandler(ApiHandler):
    async def post(self) -> None:
        self.require_api_key()
        body = self.json_body() if self.request.body else {}
        args = self.load(_reparse, body)
        channel = channel_filter(args["channel"]) if args["channel"] else {}
        where = ReparseFilter(
            status=args["status"],
            channel_id=channel.get("channel_id", args["channelId"]),
            channel_name=channel.get("channel_name"),
            from_=args["from_"],
            to=args["to"],
        )
        report = await reparse(self.pool, where, limit=args["limit"], dry_run=args["dryRun"])
        self.write_json({"status": "ok", **report.as_dict()})


class ForwardedMessagesHandler(ApiHandler):
    async def get(self) -> None:
        args = self.load(_forwarded_query, self.query_args())
        rows = await queries.list_forwarded(
            self.pool, args["limit"], args["channelId"], args["from_"], args["to"]
        )
        self.finish(_listed(rows))


class ChannelsSummaryHandler(ApiHandler):
    async def get(self) -> None:
        self.finish(_listed(await queries.channel_summaries(self.pool)))
