"""Categories endpoints: seeded defaults, CRUD, 409s, toggle, validate."""

from __future__ import annotations

import pytest

from tests.workspace.support import Client, new_item

DEFAULTS = {
    "documentacao",
    "coleta-dados",
    "banco-dados",
    "analise-dados",
    "gestao-riscos",
    "dashboard",
    "outros",
}


async def test_defaults_are_seeded_in_order(client: Client) -> None:
    answer = await client.get("/api/categories")
    assert answer.status == 200
    rows = answer.json["data"]
    assert {row["name"] for row in rows} == DEFAULTS
    assert answer.json["count"] == len(DEFAULTS)
    assert rows[0]["name"] == "documentacao"
    assert rows[-1]["name"] == "outros"
    assert all(row["is_active"] and row["item_count"] == 0 for row in rows)
    assert rows[0]["display_name"] == "Documentação"


async def test_create_get_and_409_on_duplicate(client: Client) -> None:
    client.user = "ana"
    body = {"name": "estrategias", "display_name": "Estratégias", "color": "#112233"}
    answer = await client.post("/api/categories", body)
    assert answer.status == 201, answer.body
    created = answer.json["data"]
    assert created["sort_order"] == 100
    assert created["created_by"] == "ana"
    assert answer.headers["Location"] == "/api/categories/estrategias"
    assert (await client.get("/api/categories/estrategias")).json["data"] == created
    answer = await client.post("/api/categories", body)
    assert answer.status == 409
    assert answer.json["error"]["code"] == "conflict"


async def test_display_name_defaults_to_name(client: Client) -> None:
    answer = await client.post("/api/categories", {"name": "misc"})
    assert answer.json["data"]["display_name"] == "misc"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Has Spaces"},
        {"name": "-leading"},
        {"name": "x" * 65},
        {"name": ""},
        {"name": "validate"},
        {"display_name": "no name"},
        {"name": "ok", "color": "red"},
        {"name": "ok", "sort_order": "1"},
        {"name": "ok", "is_active": "maybe"},
        {"name": "ok", "extra": True},
    ],
)
async def test_create_validation(client: Client, body: dict) -> None:
    answer = await client.post("/api/categories", body)
    assert answer.status == 400, answer.body
    assert answer.json["error"]["fields"]


async def test_update_put_and_patch(client: Client) -> None:
    answer = await client.put("/api/categories/dashboard", {"display_name": "Painéis"})
    assert answer.status == 200
    assert answer.json["data"]["display_name"] == "Painéis"
    answer = await client.patch("/api/categories/dashboard", {"sort_order": 0, "icon": None})
    assert (answer.json["data"]["sort_order"], answer.json["data"]["icon"]) == (0, None)
    assert (await client.patch("/api/categories/nope", {"sort_order": 1})).status == 404
    assert (await client.patch("/api/categories/Bad%20Name", {"sort_order": 1})).status == 404
    assert (await client.patch("/api/categories/dashboard", {})).status == 400
    answer = await client.patch("/api/categories/dashboard", {"name": "renamed"})
    assert answer.status == 400
    assert "name" in answer.json["error"]["fields"]


async def test_delete_unused_and_409_while_in_use(client: Client) -> None:
    await client.post("/api/categories", {"name": "temp"})
    answer = await client.delete("/api/categories/temp")
    assert answer.status == 200
    assert (await client.get("/api/categories/temp")).status == 404
    assert (await client.delete("/api/categories/temp")).status == 404

    item = (await client.post("/api/items", new_item(category="dashboard"))).json["data"]
    answer = await client.delete("/api/categories/dashboard")
    assert answer.status == 409
    assert answer.json["error"]["code"] == "category_in_use"
    assert "1 item" in answer.json["error"]["message"]
    assert (await client.get("/api/categories/dashboard")).json["data"]["item_count"] == 1
    await client.delete(f"/api/items/{item['id']}")
    assert (await client.delete("/api/categories/dashboard")).status == 200


async def test_toggle_and_active_filter(client: Client) -> None:
    answer = await client.patch("/api/categories/outros/toggle")
    assert answer.status == 200
    assert answer.json["data"]["is_active"] is False
    active = (await client.get("/api/categories?active=true")).json["data"]
    inactive = (await client.get("/api/categories?active=false")).json["data"]
    assert "outros" not in {row["name"] for row in active}
    assert [row["name"] for row in inactive] == ["outros"]
    answer = await client.post("/api/categories/outros/toggle")
    assert answer.json["data"]["is_active"] is True
    assert (await client.patch("/api/categories/nope/toggle")).status == 404
    assert (await client.get("/api/categories?active=perhaps")).status == 400


async def test_validate_endpoint(client: Client) -> None:
    answer = await client.post("/api/categories/validate", {"name": "dashboard"})
    assert answer.status == 200
    assert answer.json["valid"] is True
    answer = await client.post("/api/categories/validate", {"name": "nope"})
    assert (answer.json["valid"], answer.json["exists"]) == (False, False)
    await client.patch("/api/categories/dashboard/toggle")
    answer = await client.post("/api/categories/validate", {"name": "dashboard"})
    assert (answer.json["valid"], answer.json["exists"], answer.json["active"]) == (
        False,
        True,
        False,
    )
    answer = await client.post("/api/categories/validate", {"name": "Not A Slug"})
    assert answer.json["valid"] is False
    assert (await client.post("/api/categories/validate", {})).status == 400
    assert (await client.post("/api/categories/validate", {"name": 3})).status == 400


async def test_validate_needs_no_key(client: Client) -> None:
    client.key = None
    answer = await client.post("/api/categories/validate", {"name": "dashboard"})
    assert answer.status == 200
