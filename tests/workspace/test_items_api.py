"""Items endpoints over real HTTP against a real database: every status code."""

from __future__ import annotations

import pytest

from app.config import DbConfig
from tests.workspace.support import Client, new_item, query


async def create(client: Client, **overrides: object) -> dict:
    answer = await client.post("/api/items", new_item(**overrides))
    assert answer.status == 201, answer.body
    return answer.json["data"]


async def test_create_returns_201_with_defaults_and_location(client: Client) -> None:
    client.user = "ana"
    answer = await client.post(
        "/api/items", new_item(tags=[" swing ", "swing", "b3"], priority="critical")
    )
    assert answer.status == 201
    item = answer.json["data"]
    assert answer.json["success"] is True
    assert answer.headers["Location"] == f"/api/items/{item['id']}"
    assert item["status"] == "new"
    assert item["priority"] == "critical"
    assert item["tags"] == ["swing", "b3"]
    assert item["metadata"] == {"owner": "ana"}
    assert item["created_by"] == item["updated_by"] == "ana"
    assert item["created_at"] == item["updated_at"]
    assert len(item["id"]) == 36


async def test_create_defaults_priority_and_user(client: Client) -> None:
    body = new_item()
    del body["priority"], body["tags"], body["metadata"]
    item = (await client.post("/api/items", body)).json["data"]
    assert (item["priority"], item["tags"], item["metadata"]) == ("medium", [], {})
    assert item["created_by"] == "system"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": None}, "title"),
        ({"title": 12}, "title"),
        ({"description": "d" * 2001}, "description"),
        ({"priority": "urgent"}, "priority"),
        ({"status": "completed"}, "status"),
        ({"tags": "a,b"}, "tags"),
        ({"tags": ["t" * 51]}, "tags"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"metadata": [1, 2]}, "metadata"),
        ({"metadata": {"a": "nul\u0000"}}, "metadata"),
        ({"metadata": {"big": "x" * 70_000}}, "metadata"),
        ({"title": "nul \u0000 byte"}, "title"),
        ({"title": "lone \ud800 surrogate"}, "title"),
        ({"id": "my-own-id"}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_create_rejects_bad_fields_with_field_errors(
    client: Client, change: dict, field: str
) -> None:
    answer = await client.post("/api/items", new_item(**change))
    assert answer.status == 400, answer.body
    error = answer.json["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]


async def test_create_missing_required_fields(client: Client) -> None:
    answer = await client.post("/api/items", {"title": "only a title"})
    assert answer.status == 400
    assert set(answer.json["error"]["fields"]) == {"description", "category"}


async def test_create_rejects_nan_in_metadata_and_bad_json(client: Client) -> None:
    headers = {"Content-Type": "application/json", "X-API-Key": client.key or ""}
    from tests.support.http import call

    nan = b'{"title":"t","description":"d","category":"dashboard","metadata":{"x":NaN}}'
    answer = await call("POST", client.url + "/api/items", body=nan, headers=headers)
    assert answer.status == 400
    assert "NaN is not a JSON number" in answer.json["error"]["message"]
    for body in (b"{not json", b"[1, 2]", b'"text"', b"[" * 5000 + b"]" * 5000, b"\xff\xfe"):
        answer = await call("POST", client.url + "/api/items", body=body, headers=headers)
        assert answer.status == 400, (body[:10], answer.body)
    answer = await call("POST", client.url + "/api/items", body=b"", headers=headers)
    assert answer.status == 400
    answer = await call(
        "POST",
        client.url + "/api/items",
        body=b"title=x",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 415


async def test_create_with_unknown_or_inactive_category(client: Client) -> None:
    answer = await client.post("/api/items", new_item(category="nope"))
    assert answer.status == 400
    assert "unknown category" in answer.json["error"]["fields"]["category"][0]
    assert (await client.patch("/api/categories/dashboard/toggle")).status == 200
    answer = await client.post("/api/items", new_item(category="dashboard"))
    assert answer.status == 400
    assert "not active" in answer.json["error"]["fields"]["category"][0]


async def test_get_one_and_404(client: Client) -> None:
    item = await create(client)
    answer = await client.get(f"/api/items/{item['id']}")
    assert answer.status == 200
    assert answer.json["data"] == item
    assert (await client.get("/api/items/item-1-missing")).status == 404
    assert (await client.get("/api/items/bad%2Fid")).status == 404
    assert (await client.get("/api/items/%00")).status == 404


async def test_alias_routes_reach_the_same_items(client: Client) -> None:
    item = await create(client)
    assert (await client.get(f"/items/{item['id']}")).json["data"] == item
    listed = await client.get("/items")
    assert [row["id"] for row in listed.json["data"]] == [item["id"]]
    assert (await client.get("/items/stats")).json["data"]["total"] == 1
    answer = await client.post("/items", new_item(title="via alias"))
    assert answer.status == 201
    assert answer.headers["Location"].startswith("/items/")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_partial_update(client: Client, method: str) -> None:
    item = await create(client)
    client.user = "bruno"
    answer = await client.request(
        method, f"/api/items/{item['id']}", {"status": "in-progress", "tags": ["x"]}
    )
    assert answer.status == 200, answer.body
    updated = answer.json["data"]
    assert updated["status"] == "in-progress"
    assert updated["tags"] == ["x"]
    assert updated["title"] == item["title"]
    assert updated["created_by"] == "system"
    assert updated["updated_by"] == "bruno"
    assert updated["updated_at"] > item["updated_at"]


async def test_update_errors(client: Client) -> None:
    item = await create(client)
    path = f"/api/items/{item['id']}"
    assert (await client.patch("/api/items/nope", {"title": "x"})).status == 404
    answer = await client.patch(path, {})
    assert answer.status == 400
    assert "_schema" in answer.json["error"]["fields"]
    answer = await client.patch(path, {"status": "done"})
    assert answer.status == 400
    assert "status" in answer.json["error"]["fields"]
    answer = await client.patch(path, {"id": "other"})
    assert answer.status == 400
    answer = await client.put(path, {"category": "nope"})
    assert answer.status == 400
    assert "category" in answer.json["error"]["fields"]


async def test_update_keeps_an_item_in_a_category_deactivated_since(
    client: Client, workspace_db: DbConfig
) -> None:
    item = await create(client, category="dashboard")
    await client.patch("/api/categories/dashboard/toggle")
    answer = await client.patch(
        f"/api/items/{item['id']}", {"category": "dashboard", "title": "renamed"}
    )
    assert answer.status == 200
    assert answer.json["data"]["title"] == "renamed"
    answer = await client.patch(f"/api/items/{item['id']}", {"category": "documentacao"})
    assert answer.json["data"]["category"] == "documentacao"
    answer = await client.patch(f"/api/items/{item['id']}", {"category": "dashboard"})
    assert answer.status == 400


async def test_noop_update_changes_nothing_and_writes_no_audit(
    client: Client, workspace_db: DbConfig
) -> None:
    item = await create(client)
    answer = await client.patch(f"/api/items/{item['id']}", {"title": item["title"]})
    assert answer.status == 200
    assert answer.json["data"] == item
    rows = query(
        workspace_db, "SELECT action FROM workspace_audit_log WHERE entity_id = %s", (item["id"],)
    )
    assert rows == [("create",)]


async def test_delete_then_404(client: Client) -> None:
    item = await create(client)
    answer = await client.delete(f"/api/items/{item['id']}")
    assert answer.status == 200
    assert answer.json["data"]["id"] == item["id"]
    assert (await client.get(f"/api/items/{item['id']}")).status == 404
    assert (await client.delete(f"/api/items/{item['id']}")).status == 404


async def test_stats_by_category_status_priority(client: Client) -> None:
    a = await create(client, category="dashboard", priority="low")
    await create(client, category="dashboard", priority="high")
    await create(client, category="documentacao", priority="high")
    await client.patch(f"/api/items/{a['id']}", {"status": "completed"})
    answer = await client.get("/api/items/stats")
    assert answer.status == 200
    stats = answer.json["data"]
    assert stats["total"] == 3
    assert stats["by_category"]["dashboard"] == 2
    assert stats["by_category"]["documentacao"] == 1
    assert stats["by_category"]["banco-dados"] == 0
    assert stats["by_status"] == {
        "new": 2,
        "review": 0,
        "in-progress": 0,
        "completed": 1,
        "rejected": 0,
    }
    assert stats["by_priority"] == {"low": 1, "medium": 0, "high": 2, "critical": 0}


async def test_user_header_is_validated(client: Client) -> None:
    answer = await client.post("/api/items", new_item(), headers={"X-User": "x" * 101})
    assert answer.status == 400
    assert answer.json["error"]["code"] == "invalid_header"


async def test_method_not_allowed_and_unknown_route(client: Client) -> None:
    assert (await client.delete("/api/items")).status == 405
    assert (await client.post("/api/items/stats", {})).status == 405
    answer = await client.get("/api/nothing-here")
    assert answer.status == 404
    assert answer.json["error"]["code"] == "not_found"
