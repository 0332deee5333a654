"""The audit trail: one row per change, in the database, and none lost under concurrency."""

from __future__ import annotations

import asyncio
import itertools

from app.config import DbConfig
from tests.workspace.support import Client, new_item, query

AUDIT = (
    "SELECT entity, action, old_data, new_data, changed_by, source, request_id"
    " FROM workspace_audit_log WHERE entity_id = %s ORDER BY id"
)


async def test_every_item_change_is_audited(client: Client, workspace_db: DbConfig) -> None:
    client.user = "ana"
    created = (await client.post("/api/items", new_item())).json["data"]
    item_id = created["id"]
    client.user = "bruno"
    await client.patch(
        f"/api/items/{item_id}", {"status": "review"}, headers={"X-Request-Id": "req-42"}
    )
    client.user = None
    await client.delete(f"/api/items/{item_id}")

    rows = query(workspace_db, AUDIT, (item_id,))
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [
        ("item", "create", "ana", "api"),
        ("item", "update", "bruno", "api"),
        ("item", "delete", "system", "api"),
    ]
    create, update, delete = rows
    assert create[2] is None and create[3]["title"] == created["title"]
    assert update[2]["status"] == "new" and update[3]["status"] == "review"
    assert update[6] == "req-42"
    assert delete[2]["status"] == "review" and delete[3] is None


async def test_history_endpoint(client: Client) -> None:
    item = (await client.post("/api/items", new_item())).json["data"]
    await client.patch(f"/api/items/{item['id']}", {"priority": "low"})
    answer = await client.get(f"/api/items/{item['id']}/history")
    assert answer.status == 200
    assert [row["action"] for row in answer.json["data"]] == ["create", "update"]
    assert answer.json["data"][1]["new_data"]["priority"] == "low"
    await client.delete(f"/api/items/{item['id']}")
    history = (await client.get(f"/items/{item['id']}/history")).json["data"]
    assert [row["action"] for row in history] == ["create", "update", "delete"]
    assert (await client.get("/api/items/never-existed/history")).status == 404


async def test_category_changes_are_audited(client: Client, workspace_db: DbConfig) -> None:
    client.user = "ops"
    await client.post("/api/categories", {"name": "nova"})
    await client.patch("/api/categories/nova", {"description": "d"})
    await client.patch("/api/categories/nova/toggle")
    await client.delete("/api/categories/nova")
    rows = query(workspace_db, AUDIT, ("nova",))
    assert [(r[0], r[1], r[4]) for r in rows] == [
        ("category", "create", "ops"),
        ("category", "update", "ops"),
        ("category", "update", "ops"),
        ("category", "delete", "ops"),
    ]
    assert rows[2][3]["is_active"] is False


async def test_seeded_categories_are_audited_as_migration(workspace_db: DbConfig) -> None:
    rows = query(
        workspace_db,
        "SELECT count(*), min(changed_by), min(source) FROM workspace_audit_log"
        " WHERE entity = 'category'",
    )
    assert rows == [(7, "migration", "migration")]


async def test_direct_sql_changes_are_audited_too(workspace_db: DbConfig) -> None:
    query(workspace_db, "UPDATE workspace_categories SET sort_order = 7 WHERE name = 'outros'")
    rows = query(workspace_db, AUDIT, ("outros",))
    assert rows[-1][1] == "update"
    assert rows[-1][5] == "sql"


async def test_failed_write_leaves_no_audit_row(client: Client, workspace_db: DbConfig) -> None:
    await client.post("/api/items", new_item(category="dashboard"))
    before = query(workspace_db, "SELECT count(*) FROM workspace_audit_log")
    assert (await client.delete("/api/categories/dashboard")).status == 409
    assert (await client.post("/api/items", new_item(category="nope"))).status == 400
    assert query(workspace_db, "SELECT count(*) FROM workspace_audit_log") == before


async def test_concurrent_patches_lose_no_update(client: Client, workspace_db: DbConfig) -> None:
    item = (await client.post("/api/items", new_item(tags=[]))).json["data"]
    path = f"/api/items/{item['id']}"

    async def patch(n: int) -> int:
        writer = Client(client.url, user=f"user-{n}")
        answer = await writer.patch(path, {"title": f"title {n}", "metadata": {"n": n}})
        return answer.status

    statuses = await asyncio.gather(*(patch(n) for n in range(20)))
    assert statuses == [200] * 20

    rows = query(workspace_db, AUDIT, (item["id"],))
    updates = [r for r in rows if r[1] == "update"]
    assert len(updates) == 20
    # Each update starts from the state the previous one left: a chain, no gaps.
    for previous, current in itertools.pairwise(updates):
        assert current[2] == previous[3]
    final = (await client.get(path)).json["data"]
    last = updates[-1][3]
    assert final["title"] == last["title"]
    assert final["metadata"] == last["metadata"] == {"n": int(last["title"].split()[1])}
    assert final["updated_by"] == updates[-1][4] == last["updated_by"]
    assert sorted(r[4] for r in updates) == sorted(f"user-{n}" for n in range(20))


async def test_concurrent_creates_and_category_toggle(client: Client) -> None:
    """Creating into a category while it is being deactivated never leaves an item
    in an inactive category that was created after the deactivation committed."""

    async def create() -> int:
        return (await client.post("/api/items", new_item(category="coleta-dados"))).status

    results = await asyncio.gather(
        *(create() for _ in range(10)),
        client.patch("/api/categories/coleta-dados/toggle"),
        *(create() for _ in range(10)),
    )
    statuses = [r for r in results if isinstance(r, int)]
    assert set(statuses) <= {201, 400}
    created = statuses.count(201)
    category = (await client.get("/api/categories/coleta-dados")).json["data"]
    assert category["is_active"] is False
    assert category["item_count"] == created
