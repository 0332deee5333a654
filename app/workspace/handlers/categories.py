"""/api/categories: list, read, create, update, delete, toggle, validate."""

from __future__ import annotations

from app.web.handlers import ApiError
from app.workspace import domain
from app.workspace.handlers.base import WorkspaceHandler
from app.workspace.schemas import (
    CategoryCreateSchema,
    CategoryQuerySchema,
    CategoryUpdateSchema,
    CategoryValidateSchema,
)
from app.workspace.store import categories

_create = CategoryCreateSchema()
_update = CategoryUpdateSchema()
_query = CategoryQuerySchema()
_validate = CategoryValidateSchema()


def _not_found(name: str) -> ApiError:
    return ApiError(404, "not_found", f"no category named {name!r}")


def _known_name(name: str) -> str:
    """A path segment that cannot name a category is a 404 without asking the database."""
    if not domain.CATEGORY_NAME.match(name):
        raise _not_found(name)
    return name


class CategoriesHandler(WorkspaceHandler):
    async def get(self) -> None:
        args = self.load_query(_query)
        rows = await categories.list_categories(self.pool, args["active"])
        self.write_json({"success": True, "data": rows, "count": len(rows)})

    async def post(self) -> None:
        self.require_api_key()
        data = self.load_body(_create)
        try:
            row = await categories.create_category(self.pool, data, self.actor(), self.request_id)
        except categories.Conflict as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        self.set_header("Location", f"{self.request.path.rstrip('/')}/{row['name']}")
        self.write_json({"success": True, "data": row}, status=201)


class CategoryValidateHandler(WorkspaceHandler):
    """Whether a name may be used for an item: it exists and is active."""

    public_writes = True
    max_body_bytes = 8192  # open to anyone: a name, not a document

    async def post(self) -> None:
        name = self.load_body(_validate)["name"].strip()
        answer: dict[str, object] = {"name": name, "exists": False, "active": False}
        if not domain.CATEGORY_NAME.match(name):
            answer.update(valid=False, reason="not a category name (lower-case slug)")
        else:
            state = await categories.category_state(self.pool, name)
            answer.update(exists=state is not None, active=bool(state), valid=bool(state))
            if state is None:
                answer["reason"] = "unknown category"
            elif not state:
                answer["reason"] = "category is not active"
            else:
                answer["reason"] = None
        self.write_json({"success": True, **answer})


class CategoryHandler(WorkspaceHandler):
    async def get(self, name: str) -> None:
        row = await categories.get_category(self.pool, _known_name(name))
        if row is None:
            raise _not_found(name)
        self.write_json({"success": True, "data": row})

    async def put(self, name: str) -> None:
        await self._update(name)

    async def patch(self, name: str) -> None:
        await self._update(name)

    async def _update(self, name: str) -> None:
        self.require_api_key()
        _known_name(name)
        data = self.load_body(_update)
        row = await categories.update_category(self.pool, name, data, self.actor(), self.request_id)
        if row is None:
            raise _not_found(name)
        self.write_json({"success": True, "data": row})

    async def delete(self, name: str) -> None:
        self.require_api_key()
        _known_name(name)
        try:
            row = await categories.delete_category(self.pool, name, self.actor(), self.request_id)
        except categories.Conflict as exc:
            raise ApiError(409, "category_in_use", str(exc)) from None
        if row is None:
            raise _not_found(name)
        self.write_json({"success": True, "data": row})


class CategoryToggleHandler(WorkspaceHandler):
    async def patch(self, name: str) -> None:
        self.require_api_key()
        _known_name(name)
        row = await categories.toggle_category(self.pool, name, self.actor(), self.request_id)
        if row is None:
            raise _not_found(name)
        self.write_json({"success": True, "data": row})

    post = patch
