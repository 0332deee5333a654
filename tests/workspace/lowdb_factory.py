"""Realistic LowDB library.json documents, as the Node workspace wrote them."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

CATEGORIES = [
    {"id": "documentacao", "name": "documentacao", "displayName": "Documentação", "order": 1},
    {"id": "coleta-dados", "name": "coleta-dados", "displayName": "Coleta de Dados", "order": 2},
    {"id": "banco-dados", "name": "banco-dados", "displayName": "Banco de Dados", "order": 3},
    {"id": "analise-dados", "name": "analise-dados", "displayName": "Análise de Dados"},
    {"id": "gestao-riscos", "name": "gestao-riscos", "displayName": "Gestão de Riscos"},
    {"id": "dashboard", "name": "dashboard", "displayName": "Dashboard"},
    {"id": "estrategias", "name": "estrategias", "displayName": "Estratégias", "color": "#123456"},
]
WORDS = [
    *("ajustar", "stop", "alvo", "compra", "venda", "PETR4", "VALE3", "BOVA11", "backtest"),
    *("latência", "ProfitDLL", "gráfico", "candle", "volatilidade", "risco", "posição"),
    *("swing", "day-trade", "sinal", "TimescaleDB", "índice", "✅", "🚀"),
]
USERS = ["marcelo", "ana.souza", "bruno", "system", "carla@tp.capital"]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def generate_library(n: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    start = dt.datetime(2023, 3, 1, tzinfo=dt.UTC)
    items = []
    for i in range(n):
        created = start + dt.timedelta(seconds=rng.randrange(60 * 60 * 24 * 500))
        updated = created + dt.timedelta(seconds=rng.randrange(60 * 60 * 24 * 30))
        ms = int(created.timestamp() * 1000)
        if i % 10 == 0:
            item_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        else:
            item_id = f"item-{ms}-{rng.getrandbits(30):08x}{i:05d}"
        item: dict[str, Any] = {
            "id": item_id,
            "title": _sentence(rng, rng.randint(2, 8)),
            "description": _sentence(rng, rng.randint(5, 60)),
            "category": rng.choice(CATEGORIES)["id"],
            "priority": rng.choice(["low", "medium", "high", "critical"]),
            "status": rng.choice(["new", "review", "in-progress", "completed", "rejected"]),
            "tags": rng.sample(WORDS, rng.randint(0, 4)),
            "metadata": {
                "source": rng.choice(["dashboard", "telegram", "manual"]),
                "links": [f"https://example.org/{rng.getrandbits(16)}"],
                "estimate": {"hours": rng.randint(1, 40), "confidence": rng.random()},
            },
            "createdAt": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "updatedAt": updated.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "createdBy": rng.choice(USERS),
            "updatedBy": rng.choice(USERS),
        }
        items.append(item)
    return {"items": items, "categories": CATEGORIES}


def awkward_library() -> dict[str, Any]:
    """Everything a schemaless store accumulates, one problem per item."""
    good = {
        "title": "Fine",
        "description": "A fine item",
        "category": "documentacao",
        "priority": "high",
        "status": "new",
        "createdAt": "2024-02-01T10:00:00.000Z",
    }
    items: list[Any] = [
        {"id": "item-1706781600000-aaaa1", **good},
        {"id": "item-1706781600000-aaaa2"},  # nothing but an id
        {"id": "item-1706781600000-aaaa3", **good, "category": "nao-existe"},
        {"id": "item-1706781600000-aaaa4", **good, "category": "Gestão de Riscos"},
        {"id": "item-1706781600000-aaaa5", **good, "category": None},
        {"id": "item-1706781600000-aaaa6", **good, "priority": "urgente", "status": "done"},
        {"id": "item-1706781600000-aaaa7", **good, "priority": "whenever", "status": "??"},
        {"id": "item-1706781600000-aaaa1", **good},  # exact duplicate of the first
        {"id": "item-1706781600000-aaaa1", **good, "title": "Same id, other item"},
        {**good, "title": "No id at all"},
        {"id": 12345, **good},
        {"id": "has spaces/and slashes", **good},
        {"id": "stats", **good},
        {"id": "item-1706781600000-aaaa8", **good, "title": "T" * 250},
        {"id": "item-1706781600000-aaaa9", **good, "description": "D" * 2500},
        {"id": "item-1706781600000-aab10", **good, "tags": "a, b,,a"},
        {"id": "item-1706781600000-aab11", **good, "tags": [1, None, "x" * 60, "ok"]},
        {"id": "item-1706781600000-aab12", **good, "metadata": ["not", "an", "object"]},
        {"id": "item-1706781600000-aab13", **good, "metadata": {"bad": "nul\u0000"}},
        {"id": "item-1706781600000-aab14", **good, "createdAt": "yesterday"},
        {"id": "item-1706781600000-aab15", **good, "updatedAt": "2020-01-01T00:00:00Z"},
        {"id": "item-1706781600000-aab16", **good, "createdAt": 1706781600000},
        {"id": "item-1706781600000-aab17", **good, "assignee": "bob", "dueDate": "2024-03-01"},
        {"id": "item-1706781600000-aab18", **good, "description": None, "content": "old text"},
        {"id": "item-1706781600000-aab19", **good, "title": "nul\u0000in title"},
        {"id": "item-1706781600000-aab20", **good, "createdBy": {"name": "obj"}},
        "not an item",
    ]
    categories: list[Any] = [
        {"id": "documentacao", "name": "documentacao", "displayName": "Documentação"},
        "Pesquisa Quantitativa",
        {"name": "bad-color", "color": "blue", "order": "first"},
        {"description": "no name"},
        {"name": "documentacao"},  # defined twice
    ]
    return {"items": items, "categories": categories, "settings": {"theme": "dark"}}
