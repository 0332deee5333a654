"""/api/items (and /items): list, read, create, update, delete, stats, history."""

from __future__ import annotations

from typing import Any

from app.web.handlers import ApiError
from app.workspace.handlers.base import WorkspaceHandler
from app.workspace.schemas import ItemCreateSchema, ItemQuerySchema, ItemUpdateSchema
from app.workspace.store import audit, items

_create = ItemCreateSchema()
_update = ItemUpdateSchema()
_query = ItemQuerySchema()


def _category_error(exc: items.CategoryRejected) -> ApiError:
    return ApiError(400, "validation_failed", str(exc), fields={"category": [str(exc)]})


def _not_found(item_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no item with id {item_id!r}")


class ItemsHandler(WorkspaceHandler):
    async def get(self) -> None:
        args = self.load_query(_query)
        filters = items.ItemFilters(**args)
        rows, total = await items.list_items(self.pool, filters)
        self.write_json(
            {
                "success": True,
                "data": rows,
                "count": len(rows),
                "total": total,
                "limit": filters.limit,
                "offset": filters.offset,
            }
        )

    async def post(self) -> None:
        self.require_api_key()
        data = self.load_body(_create)
        try:
            row = await items.create_item(self.pool, data, self.actor(), self.request_id)
        except items.CategoryRejected as exc:
            raise _category_error(exc) from None
        self.set_header("Location", f"{self.request.path.rstrip('/')}/{row['id']}")
        self.write_json({"success": True, "data": row}, status=201)


class ItemStatsHandler(WorkspaceHandler):
    async def get(self) -> None:
        stats = await items.item_stats(self.pool)
        self.write_json({"success": True, "data": stats})


class ItemHandler(WorkspaceHandler):
    async def get(self, item_id: str) -> None:
        row = await items.get_item(self.pool, item_id)
        if row is None:
            raise _not_found(item_id)
        self.write_json({"success": True, "data": row})

    async def put(self, item_id: str) -> None:
        await self._update(item_id)

    async def patch(self, item_id: str) -> None:
        await self._update(item_id)

    async def _update(self, item_id: str) -> None:
        self.require_api_key()
        data = self.load_body(_update)
        try:
            row = await items.update_item(self.pool, item_id, data, self.actor(), self.request_id)
        except items.CategoryRejected as exc:
            raise _category_error(exc) from None
        if row is None:
            raise _not_found(item_id)
        self.write_json({"success": True, "data": row})

    async def delete(self, item_id: str) -> None:
        self.require_api_key()
        row = await items.delete_item(self.pool, item_id, self.actor(), self.request_id)
        if row is None:
            raise _not_found(item_id)
        self.write_json({"success": True, "data": row})


class ItemHistoryHandler(WorkspaceHandler):
    async def get(self, item_id: str) -> None:
        rows: list[dict[str, Any]] = await audit.history(self.pool, "item", item_id)
        if not rows and await items.get_item(self.pool, item_id) is None:
            raise _not_found(item_id)
        self.write_json({"success": True, "data": rows, "count": len(rows)})
