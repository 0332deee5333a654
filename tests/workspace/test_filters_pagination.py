"""Filters and pagination in SQL over a few thousand items: totals, stable
order, no row seen twice or skipped across pages."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from app.config import DbConfig
from app.localpg import LocalPg
from app.workspace.domain import PRIORITIES, STATUSES
from tests.support import pg as pgsupport
from tests.workspace.support import Client, seed_items, serve_workspace, workspace_env

N = 3000
CATEGORIES = ["documentacao", "coleta-dados", "banco-dados", "analise-dados", "dashboard"]
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def generate(n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    rows = []
    for i in range(n):
        # Many items share a created_at, so the id must break ties for a stable order.
        created = BASE + dt.timedelta(minutes=rng.randrange(n // 3))
        rows.append(
            {
                "id": f"item-{i:05d}",
                "title": f"Item {i} {'petr4' if i % 17 == 0 else 'vale3'}",
                "description": f"Description {i}" + (" 50% off_sale" if i % 101 == 0 else ""),
                "category": CATEGORIES[i % len(CATEGORIES)],
                "priority": PRIORITIES[i % 4],
                "status": STATUSES[(i // 4) % 5],
                "tags": ["hot"] if i % 13 == 0 else ["cold"],
                "created_at": created.isoformat(),
            }
        )
    return rows


ROWS = generate(N)


@pytest.fixture(scope="module")
def populated_db(pg_server: LocalPg, workspace_template: str) -> Iterator[DbConfig]:
    name = pgsupport.create_database_from(pg_server, workspace_template, prefix="wsfilter")
    db = pgsupport.db_config(pg_server, name, "workspace")
    seed_items(db, ROWS)
    yield db
    pgsupport.drop_database(pg_server, name)


@pytest.fixture
async def reader(populated_db: DbConfig) -> AsyncIterator[Client]:
    async with serve_workspace(workspace_env(populated_db)) as url:
        yield Client(url)


def expected(**filters: Any) -> list[str]:
    def keep(row: dict[str, Any]) -> bool:
        for key in ("category", "status", "priority"):
            if key in filters and row[key] not in filters[key].split(","):
                return False
        if "search" in filters:
            term = filters["search"].lower()
            haystack = [row["title"].lower(), row["description"].lower()] + row["tags"]
            if not any(term in text for text in haystack):
                return False
        return True

    chosen = [row for row in ROWS if keep(row)]
    chosen.sort(key=lambda row: (row["created_at"], row["id"]), reverse=True)
    return [row["id"] for row in chosen]


async def all_pages(client: Client, query: str, limit: int) -> tuple[list[str], set[int]]:
    ids: list[str] = []
    totals: set[int] = set()
    offset = 0
    while True:
        answer = await client.get(f"/api/items?{query}&limit={limit}&offset={offset}")
        assert answer.status == 200, answer.body
        page = answer.json
        totals.add(page["total"])
        ids += [row["id"] for row in page["data"]]
        assert page["count"] == len(page["data"]) <= limit
        if page["count"] < limit:
            return ids, totals
        offset += limit


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"category": "dashboard"},
        {"status": "review"},
        {"priority": "critical"},
        {"category": "dashboard,documentacao", "status": "new,completed"},
        {"category": "banco-dados", "status": "in-progress", "priority": "high"},
        {"search": "PETR4"},
        {"search": "hot"},
        {"search": "50%"},
        {"search": "off_s"},
        {"search": "petr4", "priority": "low"},
        {"category": "outros"},
    ],
)
async def test_pages_cover_every_match_once_in_a_stable_order(
    reader: Client, filters: dict[str, str]
) -> None:
    query = "&".join(f"{key}={value.replace('%', '%25')}" for key, value in filters.items())
    want = expected(**filters)
    ids, totals = await all_pages(reader, query, limit=500 if not filters else 97)
    assert totals == {len(want)}
    assert ids == want


async def test_default_and_maximum_limit(reader: Client) -> None:
    answer = (await reader.get("/api/items")).json
    assert (answer["count"], answer["total"], answer["limit"], answer["offset"]) == (
        100,
        N,
        100,
        0,
    )
    assert [row["id"] for row in answer["data"]] == expected()[:100]
    answer = (await reader.get("/api/items?limit=1000")).json
    assert answer["count"] == 1000


async def test_offset_past_the_end_still_counts(reader: Client) -> None:
    answer = (await reader.get(f"/api/items?offset={N + 10}&category=dashboard")).json
    assert answer["data"] == []
    assert answer["total"] == N // len(CATEGORIES)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "offset=-1",
        "offset=99999999999999999999",
        "status=done",
        "priority=urgent,low",
        "search=" + "x" * 201,
    ],
)
async def test_bad_query_parameters_are_400(reader: Client, query: str) -> None:
    answer = await reader.get(f"/api/items?{query}")
    assert answer.status == 400, answer.body
    assert answer.json["error"]["fields"]


async def test_unknown_query_parameters_are_ignored(reader: Client) -> None:
    answer = await reader.get("/api/items?_=123&limit=1")
    assert answer.status == 200


async def test_nul_in_query_is_400_not_500(reader: Client) -> None:
    # Query values are judged as sent (not as Tornado's get_query_argument cleans them).
    answer = await reader.get("/api/items?search=%00&category=%00")
    assert answer.status == 400
    assert set(answer.json["error"]["fields"]) == {"search", "category"}
    assert (await reader.get("/api/items?search=%01x")).status == 200


async def test_stats_on_the_large_set(reader: Client) -> None:
    stats = (await reader.get("/api/items/stats")).json["data"]
    assert stats["total"] == N
    assert sum(stats["by_status"].values()) == N
    assert stats["by_priority"]["low"] == N // 4
    assert stats["by_category"]["outros"] == 0
