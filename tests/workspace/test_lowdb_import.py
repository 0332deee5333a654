"""`tpcap import-lowdb` against a real database: a realistic 10,000-item file,
awkward files, broken files, dry runs, running twice, failed verification."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from app import cli
from app.config import DbConfig
from app.workspace import importer, lowdb
from app.workspace.store import lowdb_import
from tests.workspace.lowdb_factory import awkward_library, generate_library
from tests.workspace.support import Client, query, serve_workspace, workspace_env

TODAY = dt.date.today().strftime("%Y%m%d")


def write(tmp_path: Path, doc: object, name: str = "library.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def run(path: Path, db: DbConfig, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = importer.import_file(path, db, out=out, err=err, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def counts(db: DbConfig) -> tuple[int, int, int]:
    (row,) = query(
        db,
        "SELECT (SELECT count(*) FROM workspace_items), (SELECT count(*) FROM"
        " workspace_categories), (SELECT count(*) FROM workspace_audit_log)",
    )
    return row


def test_realistic_10000_items_then_nothing_to_do(tmp_path: Path, workspace_db: DbConfig) -> None:
    doc = generate_library(10_000)
    path = write(tmp_path, doc)
    code, out, err = run(path, workspace_db)
    assert code == 0, err
    assert "items added: 10000" in out
    assert "categories added: 1 (estrategias)" in out
    assert "verified: all 10000 item(s)" in out
    assert "mapping report" not in out  # a clean file needs no mapping
    backup = tmp_path / f"library.json.backup-{TODAY}"
    assert backup.read_bytes() == path.read_bytes()

    items, categories, audit = counts(workspace_db)
    assert (items, categories) == (10_000, 8)
    stored = {
        row[0]: row
        for row in query(
            workspace_db,
            "SELECT id, title, category, tags, metadata, created_at, updated_at, created_by,"
            " updated_by FROM workspace_items",
        )
    }
    for raw in doc["items"][::997]:
        row = stored[raw["id"]]
        assert row[1:5] == (raw["title"], raw["category"], raw["tags"], raw["metadata"])
        assert row[5] == lowdb.parse_time(raw["createdAt"])
        assert row[6] == lowdb.parse_time(raw["updatedAt"])
        assert row[7:] == (raw["createdBy"], raw["updatedBy"])
    (audited,) = query(
        workspace_db,
        "SELECT count(*) FROM workspace_audit_log WHERE source = 'import'"
        " AND changed_by = 'import-lowdb' AND entity = 'item' AND action = 'create'",
    )
    assert audited == (10_000,)

    code, out, err = run(path, workspace_db)
    assert code == 0, err
    assert "nothing to do: all 10000 item(s) of the file are already in the database" in out
    assert f"backup: {backup} (already there)" in out
    assert counts(workspace_db) == (items, categories, audit)


async def test_imported_items_are_served_by_the_api(tmp_path: Path, workspace_db: DbConfig) -> None:
    doc = generate_library(50, seed=3)
    assert run(write(tmp_path, doc), workspace_db)[0] == 0
    async with serve_workspace(workspace_env(workspace_db)) as url:
        client = Client(url)
        raw = doc["items"][7]
        item = (await client.get(f"/api/items/{raw['id']}")).json["data"]
        assert item["created_at"] == lowdb.parse_time(raw["createdAt"]).isoformat()
        assert (await client.get("/api/items/stats")).json["data"]["total"] == 50
        answer = await client.patch(f"/api/items/{raw['id']}", {"status": "completed"})
        assert answer.status == 200
        history = (await client.get(f"/api/items/{raw['id']}/history")).json["data"]
        assert [(h["action"], h["source"]) for h in history] == [
            ("create", "import"),
            ("update", "api"),
        ]


def test_awkward_file_is_imported_with_a_report_line_per_mapping(
    tmp_path: Path, workspace_db: DbConfig
) -> None:
    path = write(tmp_path, awkward_library())
    code, out, err = run(path, workspace_db)
    assert code == 0, err
    assert "mapping report" in out
    for expected in (
        "items[5] (id 'item-1706781600000-aaaa6'): priority 'urgente' -> 'critical'",
        "items[5] (id 'item-1706781600000-aaaa6'): status 'done' -> 'completed'",
        "category 'nao-existe' is used by 1 item(s) but defined nowhere; created it",
        "items[7] (id 'item-1706781600000-aaaa1'): exact copy of items[0]; imported once",
        "-> 'item-1706781600000-aaaa1-dup2'",
        "items[1] (id 'item-1706781600000-aaaa2'): category missing -> 'outros'",
        "file: top-level keys settings are not workspace data; ignored",
    ):
        assert expected in out, expected
    plan_size = len(
        lowdb.map_library(
            awkward_library()["items"],
            awkward_library()["categories"],
            existing_categories={},
            fallback_time=dt.datetime.now(dt.UTC),
        ).items
    )
    (items,) = query(workspace_db, "SELECT count(*) FROM workspace_items")
    assert items == (plan_size,)
    (row,) = query(
        workspace_db,
        "SELECT category, metadata FROM workspace_items WHERE id = 'item-1706781600000-aab17'",
    )
    assert row[1]["lowdb_import"]["extra"] == {"assignee": "bob", "dueDate": "2024-03-01"}
    names = {r[0] for r in query(workspace_db, "SELECT name FROM workspace_categories")}
    assert {"nao-existe", "pesquisa-quantitativa", "bad-color"} <= names

    code, out, _ = run(path, workspace_db)
    assert code == 0
    assert "nothing to do" in out


def test_dry_run_writes_nothing(tmp_path: Path, workspace_db: DbConfig) -> None:
    path = write(tmp_path, generate_library(300))
    before = counts(workspace_db)
    code, out, err = run(path, workspace_db, dry_run=True)
    assert code == 0, err
    assert "dry run: would add 1 categor(y/ies) and 300 item(s)" in out
    assert "nothing written" in out
    assert counts(workspace_db) == before
    assert not list(tmp_path.glob("*.backup-*"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"items": [{"title": "caf\xe9"}]}', "not UTF-8: byte 0xe9 at offset 25"),
        (b'{"items": [\n  {"id": "a", "title": "x"},\n  {"id": "b", "ti', "line 3, column"),
        (b"", "line 1, column 1: Expecting value"),
        (b'{"items": {}}', '"items" must be an array'),
    ],
)
def test_broken_files_write_nothing(
    tmp_path: Path, workspace_db: DbConfig, content: bytes, message: str
) -> None:
    path = tmp_path / "library.json"
    path.write_bytes(content)
    before = counts(workspace_db)
    code, _, err = run(path, workspace_db)
    assert code == importer.EXIT_FILE
    assert message in err, err
    assert "nothing imported" in err
    assert counts(workspace_db) == before
    assert not list(tmp_path.glob("*.backup-*"))


def test_missing_file(tmp_path: Path, workspace_db: DbConfig) -> None:
    code, _, err = run(tmp_path / "nope.json", workspace_db)
    assert code == importer.EXIT_FILE
    assert "cannot read" in err


def test_failed_verification_rolls_everything_back(
    tmp_path: Path, workspace_db: DbConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = lowdb_import.insert_items

    def lossy_insert(cur: lowdb_import.Cursor, rows: list[lowdb.ItemRow]) -> int:
        return real_insert(cur, rows[:-1])  # silently loses one item per chunk

    monkeypatch.setattr(lowdb_import, "insert_items", lossy_insert)
    before = counts(workspace_db)
    code, _, err = run(write(tmp_path, generate_library(1200)), workspace_db)
    assert code == importer.EXIT_VERIFY
    assert "VERIFICATION FAILED: 3 item(s) of the file missing from the database" in err
    assert "nothing was imported" in err
    assert counts(workspace_db) == before


def test_changed_content_is_caught_before_commit(tmp_path: Path, workspace_db: DbConfig) -> None:
    # A trigger an operator forgot about rewrites titles: the check compares content too.
    query(
        workspace_db,
        "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN NEW.title := upper(NEW.title); RETURN NEW; END $$;"
        " CREATE TRIGGER shout BEFORE INSERT ON workspace_items"
        " FOR EACH ROW EXECUTE FUNCTION shout()",
    )
    before = counts(workspace_db)
    code, _, err = run(write(tmp_path, generate_library(20)), workspace_db)
    assert code == importer.EXIT_VERIFY
    assert "stored differently" in err
    assert counts(workspace_db) == before


def test_items_edited_since_import_are_kept(tmp_path: Path, workspace_db: DbConfig) -> None:
    doc = generate_library(10, seed=5)
    path = write(tmp_path, doc)
    assert run(path, workspace_db)[0] == 0
    query(
        workspace_db,
        "UPDATE workspace_items SET title = 'edited in the app' WHERE id = %s",
        (doc["items"][2]["id"],),
    )
    code, out, _ = run(path, workspace_db)
    assert code == 0
    assert "nothing to do" in out
    assert "already in the database with other content; the database version is kept" in out
    assert query(
        workspace_db, "SELECT title FROM workspace_items WHERE id = %s", (doc["items"][2]["id"],)
    ) == [("edited in the app",)]


def test_new_items_in_a_later_file_are_added(tmp_path: Path, workspace_db: DbConfig) -> None:
    doc = generate_library(30, seed=9)
    path = write(tmp_path, {"items": doc["items"][:20], "categories": doc["categories"]})
    assert run(path, workspace_db)[0] == 0
    path = write(tmp_path, doc)
    code, out, _ = run(path, workspace_db)
    assert code == 0
    assert "items added: 10; already present: 20" in out


def test_unmigrated_database(tmp_path: Path, pg_server: object) -> None:
    from tests.support import pg as pgsupport

    name = f"empty_{TODAY}"
    pg_server.psql(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    try:
        db = pgsupport.db_config(pg_server, name, "workspace")  # type: ignore[arg-type]
        code, _, err = run(write(tmp_path, generate_library(3)), db)
        assert code == importer.EXIT_DATABASE
        assert "tpcap migrate --target workspace" in err
    finally:
        pgsupport.drop_database(pg_server, name)  # type: ignore[arg-type]


def test_unreachable_database(tmp_path: Path, workspace_db: DbConfig) -> None:
    from dataclasses import replace

    from app.localpg import free_port

    code, _, err = run(
        write(tmp_path, generate_library(3)), replace(workspace_db, port=free_port())
    )
    assert code == importer.EXIT_DATABASE
    assert "cannot connect" in err


def test_progress_bar_on_stderr(tmp_path: Path, workspace_db: DbConfig) -> None:
    code, _, err = run(write(tmp_path, generate_library(1500)), workspace_db, progress="always")
    assert code == 0
    assert "\ritems [" in err
    assert "1500/1500 100%" in err


def test_cli_dispatch(
    tmp_path: Path,
    workspace_db: DbConfig,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in workspace_env(workspace_db).items():
        monkeypatch.setenv(key, value)
    path = write(tmp_path, generate_library(5))
    assert cli.main(["import-lowdb", str(path), "--dry-run"]) == 0
    assert "dry run: would add" in capsys.readouterr().out
    assert cli.main(["import-lowdb", str(path)]) == 0
    assert "items added: 5" in capsys.readouterr().out
