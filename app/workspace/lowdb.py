"""Reading and mapping the old LowDB `library.json`: pure functions, no I/O.

The file is `{"items": [...], "categories": [...]}` written by the Node
service: camelCase keys (`createdAt`, `createdBy`), item ids like
`item-<ms>-<rand>` or UUIDs, and whatever values years of a schemaless store
accumulated. Every value the database schema would refuse is mapped to a
valid one, and each mapping leaves a line in the report. Nothing is dropped:
a value that had to change is kept as it was under
`metadata.lowdb_import.original`, and keys the schema does not know under
`metadata.lowdb_import.extra`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.workspace import domain

IMPORT_ACTOR = "import-lowdb"
IMPORT_KEY = "lowdb_import"
# uuid5 namespace for ids the file lacks: the same item gets the same id on every run.
ID_NAMESPACE = uuid.UUID("6f1d3c1e-3b7a-5d1c-9a51-7c0de1a7b0db")
_EPOCH_MS_ID = re.compile(r"^item-(\d{12,14})-")

ITEM_KEYS = {
    "id": ("id",),
    "title": ("title",),
    "description": ("description",),
    "content": ("content",),
    "category": ("category", "categoryId", "category_id"),
    "priority": ("priority",),
    "status": ("status",),
    "tags": ("tags",),
    "metadata": ("metadata",),
    "created_at": ("createdAt", "created_at"),
    "updated_at": ("updatedAt", "updated_at"),
    "created_by": ("createdBy", "created_by"),
    "updated_by": ("updatedBy", "updated_by"),
}

STATUS_SYNONYMS = {
    "new": ("new", "todo", "to-do", "open", "novo", "nova", "pending", "backlog", "aberto"),
    "review": ("review", "in-review", "reviewing", "revisao", "em-revisao", "under-review"),
    "in-progress": (
        "in-progress",
        "inprogress",
        "progress",
        "doing",
        "wip",
        "started",
        "em-andamento",
        "andamento",
        "em-progresso",
    ),
    "completed": (
        "completed",
        "complete",
        "done",
        "finished",
        "closed",
        "resolved",
        "concluido",
        "concluida",
        "feito",
    ),
    "rejected": (
        "rejected",
        "cancelled",
        "canceled",
        "discarded",
        "wontfix",
        "won-t-fix",
        "rejeitado",
        "cancelado",
    ),
}
PRIORITY_SYNONYMS = {
    "low": ("low", "baixa", "baixo", "minor", "p3", "p4", "1"),
    "medium": ("medium", "media", "medio", "normal", "moderate", "p2", "2"),
    "high": ("high", "alta", "alto", "important", "major", "p1", "3"),
    "critical": ("critical", "critica", "critico", "urgent", "urgente", "blocker", "p0", "4"),
}
_STATUS_LOOKUP = {alias: status for status, aliases in STATUS_SYNONYMS.items() for alias in aliases}
_PRIORITY_LOOKUP = {alias: p for p, aliases in PRIORITY_SYNONYMS.items() for alias in aliases}


class LowDbFileError(Exception):
    """The file cannot be read as a LowDB library: nothing is imported."""


# -- reading -----------------------------------------------------------------------


def _position(data: bytes | str, offset: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    before = data[:offset]
    line = before.count(newline) + 1  # type: ignore[arg-type]
    column = offset - (before.rfind(newline) + 1)  # type: ignore[arg-type]
    return line, column + 1


def decode_document(raw: bytes, name: str) -> Any:
    """The JSON document in `raw`, or LowDbFileError saying where it is broken."""
    bom = b"\xef\xbb\xbf"
    skipped = len(bom) if raw.startswith(bom) else 0
    try:
        text = raw[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skipped
        line, column = _position(raw, offset)
        raise LowDbFileError(
            f"{name}: not UTF-8: byte 0x{raw[offset]:02x} at offset {offset}"
            f" (line {line}, column {column}); re-save the file as UTF-8"
        ) from None

    def refuse_constant(token: str) -> Any:
        line, column = _position(text, max(text.find(token), 0))
        raise LowDbFileError(f"{name}: line {line}, column {column}: {token} is not valid JSON")

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        # json's "Unterminated string starting at" expects a position after it.
        message = exc.msg[:-3] + " here" if exc.msg.endswith(" at") else exc.msg
        raise LowDbFileError(f"{name}: line {exc.lineno}, column {exc.colno}: {message}") from None
    except RecursionError:
        raise LowDbFileError(f"{name}: nests too deeply to be a LowDB library") from None


def document_parts(doc: Any, name: str) -> tuple[list[Any], list[Any], list[str]]:
    """The items and categories arrays of the document, and notes about their absence."""
    if not isinstance(doc, dict):
        raise LowDbFileError(
            f'{name}: expected an object like {{"items": [...], "categories": [...]}},'
            f" found {_json_type(doc)}"
        )
    notes: list[str] = []
    parts: list[list[Any]] = []
    for key in ("items", "categories"):
        value = doc.get(key)
        if value is None:
            notes.append(f'file: no "{key}" array; nothing to import there')
            value = []
        elif not isinstance(value, list):
            raise LowDbFileError(f'{name}: "{key}" must be an array, found {_json_type(value)}')
        parts.append(value)
    others = sorted(set(doc) - {"items", "categories"})
    if others:
        notes.append(f"file: top-level keys {', '.join(others)} are not workspace data; ignored")
    return parts[0], parts[1], notes


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


# -- small mappings (value in, value and an optional note out) -------------------------


def clean_text(value: str) -> tuple[str, bool]:
    """Text PostgreSQL accepts: NUL removed, unpaired surrogates replaced."""
    cleaned = value.replace("\x00", "")
    if domain.text_problem(cleaned):
        cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")
    return cleaned, cleaned != value


def parse_time(value: Any) -> dt.datetime | None:
    """ISO 8601 (naive means UTC) or epoch milliseconds (or seconds); None when neither."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float):
        # Date.now() is milliseconds; ten digits or so look like seconds; less is no time.
        if not math.isfinite(value) or value < 1e8:
            return None
        try:
            return dt.datetime.fromtimestamp(value / 1000 if value >= 1e11 else value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or len(value.strip()) < 10:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def map_priority(value: Any) -> tuple[str, str | None]:
    if isinstance(value, str) and value in domain.PRIORITIES:
        return value, None
    key = domain.slugify(str(value)) if isinstance(value, str | int) else ""
    mapped = _PRIORITY_LOOKUP.get(key)
    if value is None:
        return domain.DEFAULT_PRIORITY, f"priority missing -> {domain.DEFAULT_PRIORITY!r}"
    if mapped is None:
        return domain.DEFAULT_PRIORITY, (
            f"priority {value!r} is not one of {', '.join(domain.PRIORITIES)}"
            f" -> {domain.DEFAULT_PRIORITY!r}"
        )
    return mapped, f"priority {value!r} -> {mapped!r}"


def map_status(value: Any) -> tuple[str, str | None]:
    if isinstance(value, str) and value in domain.STATUSES:
        return value, None
    mapped = _STATUS_LOOKUP.get(domain.slugify(value)) if isinstance(value, str) else None
    if value is None:
        return domain.INITIAL_STATUS, f"status missing -> {domain.INITIAL_STATUS!r}"
    if mapped is None:
        return domain.INITIAL_STATUS, (
            f"status {value!r} is not one of {', '.join(domain.STATUSES)}"
            f" -> {domain.INITIAL_STATUS!r}"
        )
    return mapped, f"status {value!r} -> {mapped!r}"


def map_tags(value: Any) -> tuple[list[str], str | None]:
    if value is None:
        return [], None
    if isinstance(value, str):
        raw = value.split(",")
        note = "tags given as one string; split on commas"
    elif isinstance(value, list):
        raw = value
        note = None
    else:
        return [], f"tags {_json_type(value)} is not a list; dropped (kept in original)"
    tags: list[str] = []
    changed = False
    for tag in raw:
        if not isinstance(tag, str):
            if tag is None or isinstance(tag, dict | list):
                changed = True
                continue
            tag = json.dumps(tag)
            changed = True
        text, cleaned = clean_text(tag.strip())
        if len(text) > domain.TAG_MAX:
            text = text[: domain.TAG_MAX]
            cleaned = True
        changed = changed or cleaned
        tags.append(text)
    tidy = domain.clean_tags(tags)
    changed = changed or len(tidy) != len(raw)
    if len(tidy) > domain.TAGS_MAX:
        tidy = tidy[: domain.TAGS_MAX]
        changed = True
    if changed and note is None:
        note = (
            f"tags cleaned (non-strings, empty or duplicate tags dropped, at most"
            f" {domain.TAG_MAX} characters, at most {domain.TAGS_MAX} tags)"
        )
    return tidy, note


def map_metadata(value: Any) -> tuple[dict[str, Any], str | None]:
    if value is None:
        return {}, None
    if not isinstance(value, dict):
        if domain.json_problem(value):
            return {"value_json": json.dumps(value, ensure_ascii=True)}, (
                f"metadata is {_json_type(value)} with values the database refuses;"
                " kept as JSON text in metadata.value_json"
            )
        return {"value": value}, (
            f"metadata is {_json_type(value)}, not an object; wrapped as {{'value': ...}}"
        )
    if domain.json_problem(value):
        return {"value_json": json.dumps(value, ensure_ascii=True)}, (
            "metadata holds values the database refuses (NUL, NaN, deep nesting);"
            " kept as JSON text in metadata.value_json"
        )
    return value, None


def map_actor(value: Any) -> tuple[str, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return IMPORT_ACTOR, None
    if not isinstance(value, str):
        return IMPORT_ACTOR, f"user {value!r} is not text -> {IMPORT_ACTOR!r}"
    text, cleaned = clean_text(value.strip())
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    if len(text) > domain.ACTOR_MAX:
        return text[: domain.ACTOR_MAX], f"user name longer than {domain.ACTOR_MAX}; truncated"
    return text, ("user name cleaned" if cleaned else None)


def map_item_id(value: Any) -> tuple[str | None, str | None]:
    """A usable id from the file's id, or None when one must be generated."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
        note: str | None = f"numeric id {value} kept as text"
    elif isinstance(value, str):
        note = None
    else:
        return None, None
    text = value.strip()
    if domain.ITEM_ID.match(text) and text not in domain.RESERVED_ITEM_IDS:
        return text, note or (f"id {value!r} stripped" if text != value else None)
    if text in domain.RESERVED_ITEM_IDS:
        fixed = f"{text}-item"
    else:
        fixed = re.sub(r"[^A-Za-z0-9._:-]+", "-", text).strip("-._:")[:128]
    if fixed and domain.ITEM_ID.match(fixed):
        return fixed, f"id {value!r} is not a valid id -> {fixed!r}"
    return None, None


# -- the whole library -------------------------------------------------------------


@dataclass
class CategoryRow:
    name: str
    display_name: str
    description: str | None = None
    color: str | None = None
    icon: str | None = None
    sort_order: int = 100
    is_active: bool = True
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    created_by: str = IMPORT_ACTOR
    updated_by: str = IMPORT_ACTOR

    def row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "description": self.description,
            "color": self.color,
            "icon": self.icon,
            "sort_order": self.sort_order,
            "is_active": self.is_active,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "created_by": self.created_by,
            "updated_by": self.updated_by,
        }


@dataclass
class ItemRow:
    index: int
    id: str
    title: str
    description: str
    category: str
    priority: str
    status: str
    tags: list[str]
    metadata: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    updated_by: str

    COLUMNS = (
        "id",
        "title",
        "description",
        "category",
        "priority",
        "status",
        "tags",
        "metadata",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
    )

    def row(self) -> dict[str, Any]:
        values = {column: getattr(self, column) for column in self.COLUMNS}
        values["created_at"] = self.created_at.isoformat()
        values["updated_at"] = self.updated_at.isoformat()
        return values

    def matches(self, stored: dict[str, Any]) -> bool:
        """Whether a database row holds exactly this item."""
        return all(getattr(self, column) == stored.get(column) for column in self.COLUMNS)


@dataclass
class Plan:
    categories: list[CategoryRow] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duplicates_dropped: int = 0
    mapped_items: int = 0


def _first(raw: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in raw:
            return raw[key]
    return None


def _label(index: int, raw: Any, item_id: str | None = None) -> str:
    shown = item_id or (raw.get("id") if isinstance(raw, dict) else None)
    return f"items[{index}]" + (f" (id {shown!r})" if shown else "")


class _Categories:
    """Category names known so far and the aliases that lead to them."""

    def __init__(self, existing: dict[str, str]) -> None:
        self.known: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        for name, display in existing.items():
            self.add(name, display)

    def add(self, name: str, *labels: str) -> None:
        self.known.setdefault(name, labels[0] if labels else name)
        for label in (name, *labels):
            for alias in (label, label.lower(), domain.slugify(label)):
                if alias:
                    self.aliases.setdefault(alias, name)

    def resolve(self, value: str) -> str | None:
        for alias in (value, value.strip().lower(), domain.slugify(value)):
            if alias in self.aliases:
                return self.aliases[alias]
        return None


def _map_category(
    index: int, raw: Any, fallback_time: dt.datetime
) -> tuple[CategoryRow | None, list[str], list[str]]:
    where = f"categories[{index}]"
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        return None, [f"{where}: {_json_type(raw)} is not a category; skipped"], []
    notes: list[str] = []
    source = _first(raw, ("name", "id", "slug", "value"))
    label = _first(raw, ("displayName", "display_name", "label", "title"))
    if not isinstance(source, str) or not domain.category_name(source):
        source = label if isinstance(label, str) else None
    if not isinstance(source, str) or not domain.category_name(source):
        return None, [f"{where}: has no usable name; skipped ({json.dumps(raw)[:120]})"], []
    name = domain.category_name(source)
    if name != source:
        notes.append(f"{where}: name {source!r} -> {name!r}")
    display = label if isinstance(label, str) and label.strip() else source
    display = clean_text(display.strip()[: domain.DISPLAY_NAME_MAX])[0].strip() or name
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        notes.append(f"{where}: description is not text; dropped")
        description = None
    if isinstance(description, str):
        description, _ = clean_text(description)
        if len(description) > 2000:
            notes.append(f"{where}: description longer than 2000 characters; truncated")
            description = description[:2000]
    color = raw.get("color")
    if color is not None and not (isinstance(color, str) and domain.COLOR.match(color)):
        notes.append(f"{where}: color {color!r} is not like #1A2B3C; dropped")
        color = None
    icon = raw.get("icon")
    if icon is not None and not (isinstance(icon, str) and 1 <= len(icon.strip()) <= 64):
        notes.append(f"{where}: icon {icon!r} is not a short name; dropped")
        icon = None
    order = _first(raw, ("sortOrder", "sort_order", "order", "displayOrder", "display_order"))
    if order is not None and (
        isinstance(order, bool) or not isinstance(order, int) or abs(order) > 1_000_000
    ):
        notes.append(f"{where}: order {order!r} is not a small integer -> 100")
        order = None
    active = _first(raw, ("isActive", "is_active", "active"))
    if active is not None and not isinstance(active, bool):
        notes.append(f"{where}: active flag {active!r} is not true/false -> true")
        active = None
    created = parse_time(_first(raw, ("createdAt", "created_at")))
    updated = parse_time(_first(raw, ("updatedAt", "updated_at"))) or created
    created_by, _ = map_actor(_first(raw, ("createdBy", "created_by")))
    return (
        CategoryRow(
            name=name,
            display_name=display,
            description=description,
            color=color,
            icon=icon.strip() if isinstance(icon, str) else None,
            sort_order=order if order is not None else 100,
            is_active=active if active is not None else True,
            created_at=created or fallback_time,
            updated_at=max(updated or fallback_time, created or fallback_time),
            created_by=created_by,
            updated_by=created_by,
        ),
        notes,
        [display, source],
    )


def map_library(
    items: list[Any],
    categories: list[Any],
    *,
    existing_categories: dict[str, str],
    fallback_time: dt.datetime,
) -> Plan:
    """Turn the file's arrays into rows the database accepts, with a note per change.

    `existing_categories` (name -> display name) are those already in the
    database; `fallback_time` stands in for timestamps the file lacks (the
    file's modification time, so that every run maps the same way).
    """
    plan = Plan()
    known = _Categories(existing_categories)
    defined: set[str] = set()
    for index, raw in enumerate(categories):
        row, notes, labels = _map_category(index, raw, fallback_time)
        plan.notes += notes
        if row is None:
            continue
        if row.name in defined:
            plan.notes.append(f"categories[{index}]: {row.name!r} defined twice; first kept")
            continue
        defined.add(row.name)
        known.add(row.name, *labels)
        if row.name not in existing_categories:
            plan.categories.append(row)

    undefined: dict[str, int] = {}  # categories items use that neither file nor database has
    seen: dict[str, tuple[int, str]] = {}  # id -> (index, canonical JSON of the raw item)
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            plan.notes.append(f"items[{index}]: {_json_type(raw)} is not an item; skipped")
            continue
        canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
        item_id, notes, original = _item_id(raw, canonical)
        if item_id in seen:
            first_index, first_json = seen[item_id]
            if first_json == canonical:
                plan.duplicates_dropped += 1
                plan.notes.append(
                    f"{_label(index, raw)}: exact copy of items[{first_index}]; imported once"
                )
                continue
            new_id = _unique_id(item_id, seen)
            notes.append(
                f"id {item_id!r} already used by items[{first_index}] with other content"
                f" -> {new_id!r}"
            )
            original.setdefault("id", raw.get("id"))
            item_id = new_id
        seen[item_id] = (index, canonical)
        item = _map_item(index, raw, item_id, notes, original, known, undefined, fallback_time)
        if notes:
            plan.mapped_items += 1
            plan.notes += [f"{_label(index, raw, item_id)}: {note}" for note in notes]
        plan.items.append(item)

    for name, count in undefined.items():
        if name == domain.FALLBACK_CATEGORY:
            row = CategoryRow(
                name=name,
                display_name="Outros",
                description="Itens sem categoria específica",
                sort_order=99,
            )
        else:
            row = CategoryRow(
                name=name,
                display_name=known.known[name],
                description="Created by import-lowdb: used by items, defined nowhere",
            )
        row.created_at = row.updated_at = fallback_time
        plan.categories.append(row)
        plan.notes.append(
            f"category {name!r} is used by {count} item(s) but defined nowhere; created it"
        )
    return plan


def _item_id(raw: dict[str, Any], canonical: str) -> tuple[str, list[str], dict[str, Any]]:
    """The item's id (kept, repaired or generated), notes, and the original if it changed."""
    value = raw.get("id")
    item_id, note = map_item_id(value)
    notes = [note] if note else []
    original = {"id": value} if note else {}
    if item_id is None:
        item_id = str(uuid.uuid5(ID_NAMESPACE, canonical))
        shown = "missing" if value is None else f"{value!r} unusable"
        notes.append(f"id {shown} -> generated {item_id!r}")
        if value is not None:
            original["id"] = value
    return item_id, notes, original


def _unique_id(base: str, taken: dict[str, Any]) -> str:
    n = 2
    while True:
        suffix = f"-dup{n}"
        candidate = base[: 128 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def _text_field(
    value: Any, name: str, maximum: int, notes: list[str], original: dict[str, Any]
) -> str | None:
    """A text field within `maximum` characters, or None when missing or empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        notes.append(f"{name} is {_json_type(value)}, not text; converted")
        original[name] = value
        value = json.dumps(value, ensure_ascii=False)
    text, cleaned = clean_text(value.strip())
    if cleaned:
        notes.append(f"{name} had characters the database refuses; removed")
        original.setdefault(name, value)
    if not text:
        return None
    if len(text) > maximum:
        notes.append(f"{name} longer than {maximum} characters; truncated (full text kept)")
        original.setdefault(name, value)
        text = text[: maximum - 1].rstrip() + "…"
    return text


def _map_item(
    index: int,
    raw: dict[str, Any],
    item_id: str,
    notes: list[str],
    original: dict[str, Any],
    known: _Categories,
    undefined: dict[str, int],
    fallback_time: dt.datetime,
) -> ItemRow:
    value = {key: _first(raw, keys) for key, keys in ITEM_KEYS.items()}

    title = _text_field(value["title"], "title", domain.TITLE_MAX, notes, original)
    description = _text_field(
        value["description"], "description", domain.DESCRIPTION_MAX, notes, original
    )
    content = value["content"]
    if description is None and isinstance(content, str) and content.strip():
        description = _text_field(content, "description", domain.DESCRIPTION_MAX, notes, original)
        notes.append("description taken from the old 'content' field")
        content = None
    if title is None:
        first_line = description.strip().splitlines()[0] if description else ""
        title = first_line[: domain.TITLE_MAX].strip() or f"Untitled ({item_id})"
        notes.append(f"title missing -> {title!r}")
    if description is None:
        description = title
        notes.append("description missing -> the title")

    category = _item_category(value["category"], known, undefined, notes, original)

    priority, note = map_priority(value["priority"])
    if note:
        notes.append(note)
        if value["priority"] is not None:
            original["priority"] = value["priority"]
    status, note = map_status(value["status"])
    if note:
        notes.append(note)
        if value["status"] is not None:
            original["status"] = value["status"]
    tags, note = map_tags(value["tags"])
    if note:
        notes.append(note)
        original["tags"] = value["tags"]
    metadata, note = map_metadata(value["metadata"])
    if note:
        notes.append(note)
    created_at, updated_at = _times(item_id, value, fallback_time, notes, original)
    created_by, note = map_actor(value["created_by"])
    if note:
        notes.append(f"createdBy: {note}")
        original["createdBy"] = value["created_by"]
    updated_by, note = map_actor(value["updated_by"])
    if note:
        notes.append(f"updatedBy: {note}")
        original["updatedBy"] = value["updated_by"]
    if value["updated_by"] is None:
        updated_by = created_by

    known_keys = {key for keys in ITEM_KEYS.values() for key in keys}
    extra = {key: raw[key] for key in raw if key not in known_keys}
    if content is not None and content != description:
        extra["content"] = content
    if extra:
        notes.append(f"fields {', '.join(sorted(extra))} unknown to the schema; kept in metadata")
    if original or extra:
        block: dict[str, Any] = {}
        if original:
            block["original"] = original
        if extra:
            block["extra"] = extra
        if domain.json_problem(block):
            block = {"json": json.dumps(block, ensure_ascii=True, default=str)}
        key = IMPORT_KEY if IMPORT_KEY not in metadata else f"{IMPORT_KEY}_1"
        metadata = {**metadata, key: block}

    return ItemRow(
        index=index,
        id=item_id,
        title=title,
        description=description,
        category=category,
        priority=priority,
        status=status,
        tags=tags,
        metadata=metadata,
        created_at=created_at,
        updated_at=updated_at,
        created_by=created_by,
        updated_by=updated_by,
    )


def _item_category(
    value: Any,
    known: _Categories,
    undefined: dict[str, int],
    notes: list[str],
    original: dict[str, Any],
) -> str:
    if not isinstance(value, str) or not domain.category_name(value):
        name = domain.FALLBACK_CATEGORY
        notes.append(f"category {'missing' if value is None else repr(value)} -> {name!r}")
        if value is not None:
            original["category"] = value
        if name not in known.known:
            known.add(name, "Outros")
            undefined[name] = 0
    else:
        resolved = known.resolve(value)
        if resolved is None:
            resolved = domain.category_name(value)
            known.add(resolved, value.strip())
            undefined[resolved] = 0
        name = resolved
        if name != value:
            notes.append(f"category {value!r} -> {name!r}")
            original["category"] = value
    if name in undefined:
        undefined[name] += 1
    return name


def _times(
    item_id: str,
    value: dict[str, Any],
    fallback_time: dt.datetime,
    notes: list[str],
    original: dict[str, Any],
) -> tuple[dt.datetime, dt.datetime]:
    created = parse_time(value["created_at"])
    if created is None:
        from_id = _EPOCH_MS_ID.match(item_id)
        derived = parse_time(int(from_id.group(1))) if from_id else None
        if derived is not None:
            source = "the time in the item id"
        elif parse_time(value["updated_at"]) is not None:
            derived, source = parse_time(value["updated_at"]), "updatedAt"
        else:
            derived, source = fallback_time, "the file's modification time"
        shown = "missing" if value["created_at"] is None else f"{value['created_at']!r} unreadable"
        notes.append(f"createdAt {shown} -> {derived.isoformat()} ({source})")
        if value["created_at"] is not None:
            original["createdAt"] = value["created_at"]
        created = derived
    updated = parse_time(value["updated_at"])
    if updated is None:
        if value["updated_at"] is not None:
            notes.append(f"updatedAt {value['updated_at']!r} unreadable -> createdAt")
            original["updatedAt"] = value["updated_at"]
        updated = created
    elif updated < created:
        notes.append("updatedAt is before createdAt -> createdAt")
        original["updatedAt"] = value["updated_at"]
        updated = created
    return created, updated
