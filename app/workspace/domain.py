"""The workspace's vocabulary and the pure checks shared by the HTTP schemas
and the LowDB importer."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from app.web.fields import text_problem

PRIORITIES = ("low", "medium", "high", "critical")
STATUSES = ("new", "review", "in-progress", "completed", "rejected")
DEFAULT_PRIORITY = "medium"
INITIAL_STATUS = "new"

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
TAG_MAX = 50
TAGS_MAX = 50
METADATA_MAX_BYTES = 64 * 1024
METADATA_MAX_DEPTH = 20
ACTOR_MAX = 100
DISPLAY_NAME_MAX = 200
FALLBACK_CATEGORY = "outros"

ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
# Path segments under /api/items/ that are routes, so never item ids.
RESERVED_ITEM_IDS = frozenset({"stats"})
CATEGORY_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$")
# Path segments under /api/categories/ that are routes, so never category names.
RESERVED_CATEGORY_NAMES = frozenset({"validate"})
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def json_problem(value: Any, depth: int = 0) -> str | None:
    """What jsonb would refuse in a decoded JSON value, or None."""
    if depth > METADATA_MAX_DEPTH:
        return f"nests deeper than {METADATA_MAX_DEPTH} levels"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "must not contain NaN or Infinity"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = (
                text_problem(key) if isinstance(key, str) else "keys must be strings"
            ) or json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = json_problem(item, depth + 1)
            if problem:
                return problem
    return None


def json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def slugify(value: str) -> str:
    """A category name from free text: "Gestão de Riscos" -> "gestao-de-riscos"."""
    ascii_text = (
        unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:64].rstrip("-")


def category_name(value: str) -> str:
    """The category name free text becomes: a slug that is not a route ("" if none)."""
    slug = slugify(value)
    return f"{slug}-category" if slug in RESERVED_CATEGORY_NAMES else slug


def clean_tags(tags: list[str]) -> list[str]:
    """Stripped, empty ones dropped, duplicates removed keeping the first."""
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in seen:
            seen[tag] = None
    return list(seen)


ITEM_FIELDS = ("title", "description", "category", "priority", "status", "tags", "metadata")


def changed_fields(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The subset of `wanted` that differs from the stored row."""
    return {key: value for key, value in wanted.items() if current.get(key) != value}
