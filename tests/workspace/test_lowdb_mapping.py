"""The importer's pure functions: reading the file and mapping values, without a database."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.workspace import domain, lowdb
from tests.workspace.lowdb_factory import awkward_library, generate_library

MTIME = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
DEFAULTS = {
    "documentacao": "Documentação",
    "gestao-riscos": "Gestão de Riscos",
    "dashboard": "Dashboard",
    "outros": "Outros",
}


def plan_of(doc: dict, existing: dict[str, str] | None = None) -> lowdb.Plan:
    return lowdb.map_library(
        doc["items"],
        doc.get("categories", []),
        existing_categories=DEFAULTS if existing is None else existing,
        fallback_time=MTIME,
    )


# -- reading -------------------------------------------------------------------------


def test_decode_reads_utf8_with_or_without_bom() -> None:
    doc = {"items": [{"title": "Ação ✅"}]}
    raw = json.dumps(doc, ensure_ascii=False).encode()
    assert lowdb.decode_document(raw, "library.json") == doc
    assert lowdb.decode_document(b"\xef\xbb\xbf" + raw, "library.json") == doc


def test_non_utf8_names_the_byte_offset_line_and_column() -> None:
    raw = b'{"items": [\n  {"title": "caf' + b"\xe9" + b'"}]}'
    with pytest.raises(lowdb.LowDbFileError) as info:
        lowdb.decode_document(raw, "library.json")
    message = str(info.value)
    assert "library.json: not UTF-8: byte 0xe9 at offset 28 (line 2, column 17)" in message


def test_truncated_json_names_line_and_column() -> None:
    raw = b'{"items": [\n  {"id": "a", "title": "x"},\n  {"id": "b", "ti'
    with pytest.raises(lowdb.LowDbFileError, match=r"^library.json: line 3, column \d+: "):
        lowdb.decode_document(raw, "library.json")


def test_syntax_error_position() -> None:
    raw = b'{"items": [\n  {"id": "a",, "title": "x"}\n]}'
    with pytest.raises(lowdb.LowDbFileError, match="line 2, column 14"):
        lowdb.decode_document(raw, "library.json")


def test_nan_is_not_json() -> None:
    with pytest.raises(lowdb.LowDbFileError, match="line 2, column 10: NaN is not valid JSON"):
        lowdb.decode_document(b'{"items":\n  [{"x": NaN}]}', "f.json")


def test_absurd_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(lowdb.LowDbFileError, match="nests too deeply"):
        lowdb.decode_document(b"[" * 100_000 + b"]" * 100_000, "f.json")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([1, 2], "expected an object"),
        ({"items": {"a": 1}}, '"items" must be an array, found an object'),
        ({"items": [], "categories": "x"}, '"categories" must be an array'),
    ],
)
def test_document_shape_errors(doc: object, message: str) -> None:
    with pytest.raises(lowdb.LowDbFileError, match=message):
        lowdb.document_parts(doc, "library.json")


def test_document_parts_notes_missing_and_extra_keys() -> None:
    items, categories, notes = lowdb.document_parts({"items": [], "theme": 1}, "f")
    assert (items, categories) == ([], [])
    assert any('no "categories"' in note for note in notes)
    assert any("theme" in note for note in notes)


# -- single values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "noted"),
    [
        ("high", "high", False),
        ("HIGH", "high", True),
        ("urgente", "critical", True),
        ("Média", "medium", True),
        (3, "high", True),
        ("whenever", "medium", True),
        (None, "medium", True),
        ([], "medium", True),
    ],
)
def test_map_priority(value: object, expected: str, noted: bool) -> None:
    mapped, note = lowdb.map_priority(value)
    assert mapped == expected
    assert (note is not None) is noted


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("in-progress", "in-progress"),
        ("in_progress", "in-progress"),
        ("In Progress", "in-progress"),
        ("done", "completed"),
        ("Concluído", "completed"),
        ("cancelled", "rejected"),
        ("todo", "new"),
        ("??", "new"),
        (None, "new"),
        (7, "new"),
    ],
)
def test_map_status(value: object, expected: str) -> None:
    assert lowdb.map_status(value)[0] == expected


def test_map_tags() -> None:
    assert lowdb.map_tags(["a", "b"]) == (["a", "b"], None)
    assert lowdb.map_tags(None) == ([], None)
    tags, note = lowdb.map_tags("a, b,,a")
    assert tags == ["a", "b"] and note
    tags, note = lowdb.map_tags([1, None, "x" * 60, " ok ", "ok"])
    assert tags == ["1", "x" * 50, "ok"] and note
    tags, note = lowdb.map_tags({"a": 1})
    assert tags == [] and note
    tags, _ = lowdb.map_tags([f"t{i}" for i in range(80)])
    assert len(tags) == domain.TAGS_MAX


def test_map_metadata() -> None:
    assert lowdb.map_metadata({"a": 1}) == ({"a": 1}, None)
    assert lowdb.map_metadata(None) == ({}, None)
    assert lowdb.map_metadata([1])[0] == {"value": [1]}
    mapped, note = lowdb.map_metadata({"a": "nul\u0000"})
    assert json.loads(mapped["value_json"]) == {"a": "nul\u0000"} and note
    assert domain.json_problem(mapped) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("item-1700000000000-abc", "item-1700000000000-abc"),
        ("0b3c7c1e-95a4-4c4b-9f0e-1e2d3c4b5a69", "0b3c7c1e-95a4-4c4b-9f0e-1e2d3c4b5a69"),
        (42, "42"),
        ("has spaces/and slashes", "has-spaces-and-slashes"),
        ("stats", "stats-item"),
        ("  padded ", "padded"),
        ("///", None),
        (None, None),
        ({"id": 1}, None),
    ],
)
def test_map_item_id(value: object, expected: str | None) -> None:
    assert lowdb.map_item_id(value)[0] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-02-01T10:00:00.000Z", dt.datetime(2024, 2, 1, 10, tzinfo=dt.UTC)),
        ("2024-02-01T10:00:00", dt.datetime(2024, 2, 1, 10, tzinfo=dt.UTC)),
        ("2024-02-01T12:00:00+02:00", dt.datetime(2024, 2, 1, 10, tzinfo=dt.UTC)),
        (1706781600000, dt.datetime(2024, 2, 1, 10, tzinfo=dt.UTC)),
        ("1706781600000", dt.datetime(2024, 2, 1, 10, tzinfo=dt.UTC)),
        ("yesterday", None),
        ("2024", None),
        (1706781600, dt.datetime(2024, 2, 1, 10, tzinfo=dt.UTC)),
        (True, None),
        (10**30, None),
    ],
)
def test_parse_time(value: object, expected: dt.datetime | None) -> None:
    assert lowdb.parse_time(value) == expected


# -- the whole library --------------------------------------------------------------------


def test_clean_items_map_without_notes_and_keep_everything() -> None:
    doc = generate_library(200)
    plan = plan_of(doc)
    assert not [note for note in plan.notes if note.startswith("items[")]
    assert plan.mapped_items == 0
    assert len(plan.items) == 200
    first, raw = plan.items[0], doc["items"][0]
    assert first.id == raw["id"]
    assert first.created_at == lowdb.parse_time(raw["createdAt"])
    assert first.updated_at == lowdb.parse_time(raw["updatedAt"])
    assert (first.tags, first.metadata, first.created_by) == (
        raw["tags"],
        raw["metadata"],
        raw["createdBy"],
    )
    # File categories not yet in the database are planned, the others are not.
    planned = {row.name for row in plan.categories}
    assert "estrategias" in planned and "documentacao" not in planned


def test_mapping_is_deterministic() -> None:
    one, two = plan_of(awkward_library()), plan_of(awkward_library())
    assert [item.row() for item in one.items] == [item.row() for item in two.items]
    assert one.notes == two.notes


def test_awkward_library_is_mapped_with_a_note_for_each_change() -> None:
    plan = plan_of(awkward_library())
    by_id = {item.id: item for item in plan.items}
    notes = "\n".join(plan.notes)

    bare = by_id["item-1706781600000-aaaa2"]
    assert bare.title == "Untitled (item-1706781600000-aaaa2)"
    assert bare.description == bare.title
    assert (bare.category, bare.priority, bare.status) == ("outros", "medium", "new")
    assert bare.created_at == dt.datetime(2024, 2, 1, 10, tzinfo=dt.UTC)  # from the id
    assert "items[1] (id 'item-1706781600000-aaaa2'): title missing" in notes

    assert by_id["item-1706781600000-aaaa3"].category == "nao-existe"
    assert "category 'nao-existe' is used by 1 item(s) but defined nowhere; created it" in notes
    assert by_id["item-1706781600000-aaaa4"].category == "gestao-riscos"
    assert by_id["item-1706781600000-aaaa5"].category == "outros"
    six = by_id["item-1706781600000-aaaa6"]
    assert (six.priority, six.status) == ("critical", "completed")
    assert six.metadata["lowdb_import"]["original"] == {"priority": "urgente", "status": "done"}
    assert "priority 'urgente' -> 'critical'" in notes

    assert plan.duplicates_dropped == 1
    assert "items[7] (id 'item-1706781600000-aaaa1'): exact copy of items[0]" in notes
    dup = by_id["item-1706781600000-aaaa1-dup2"]
    assert dup.title == "Same id, other item"
    assert dup.metadata["lowdb_import"]["original"]["id"] == "item-1706781600000-aaaa1"

    assert "12345" in by_id and "has-spaces-and-slashes" in by_id and "stats-item" in by_id
    generated = [item for item in plan.items if item.title == "No id at all"]
    assert len(generated) == 1 and len(generated[0].id) == 36

    long_title = by_id["item-1706781600000-aaaa8"]
    assert len(long_title.title) == domain.TITLE_MAX
    assert long_title.metadata["lowdb_import"]["original"]["title"] == "T" * 250
    assert len(by_id["item-1706781600000-aaaa9"].description) == domain.DESCRIPTION_MAX
    assert by_id["item-1706781600000-aab10"].tags == ["a", "b"]
    assert by_id["item-1706781600000-aab12"].metadata["value"] == ["not", "an", "object"]
    assert "value_json" in by_id["item-1706781600000-aab13"].metadata
    assert by_id["item-1706781600000-aab14"].metadata["lowdb_import"]["original"] == {
        "createdAt": "yesterday"
    }
    fifteen = by_id["item-1706781600000-aab15"]
    assert fifteen.updated_at == fifteen.created_at
    extra = by_id["item-1706781600000-aab17"].metadata["lowdb_import"]["extra"]
    assert extra == {"assignee": "bob", "dueDate": "2024-03-01"}
    assert by_id["item-1706781600000-aab18"].description == "old text"
    assert by_id["item-1706781600000-aab19"].title == "nulin title"
    assert by_id["item-1706781600000-aab20"].created_by == lowdb.IMPORT_ACTOR

    assert "items[26]: a string is not an item; skipped" in notes
    assert "categories[3]: has no usable name; skipped" in notes
    assert "categories[4]: 'documentacao' defined twice; first kept" in notes
    assert "categories[2]: color 'blue' is not like #1A2B3C; dropped" in notes
    planned = {row.name: row for row in plan.categories}
    assert planned["pesquisa-quantitativa"].display_name == "Pesquisa Quantitativa"
    assert "nao-existe" in planned and "outros" not in planned  # outros is in the database

    # Every stored value is one the database schema accepts.
    for item in plan.items:
        assert domain.ITEM_ID.match(item.id)
        assert 1 <= len(item.title) <= domain.TITLE_MAX
        assert 1 <= len(item.description) <= domain.DESCRIPTION_MAX
        assert item.priority in domain.PRIORITIES and item.status in domain.STATUSES
        assert domain.json_problem(item.metadata) is None
        assert all(domain.text_problem(text) is None for text in (item.title, *item.tags))


def test_fallback_category_is_created_when_missing_everywhere() -> None:
    doc = {"items": [{"id": "a1", "title": "t", "description": "d"}], "categories": []}
    plan = plan_of(doc, existing={})
    assert [row.name for row in plan.categories] == ["outros"]
    assert plan.items[0].category == "outros"


def test_reserved_category_names_are_renamed() -> None:
    doc = {
        "items": [{"id": "a1", "title": "t", "description": "d", "category": "Validate"}],
        "categories": [],
    }
    plan = plan_of(doc)
    assert plan.items[0].category == "validate-category"
    assert [row.name for row in plan.categories] == ["validate-category"]


def test_category_aliases_resolve_to_database_names() -> None:
    doc = {
        "items": [
            {"id": "a1", "title": "t", "description": "d", "category": "DASHBOARD"},
            {"id": "a2", "title": "t", "description": "d", "category": "Documentação"},
        ]
    }
    plan = plan_of(doc)
    assert [item.category for item in plan.items] == ["dashboard", "documentacao"]
    assert plan.categories == []
