"""`tpcap import-lowdb PATH [--dry-run]`: move the old LowDB library.json into the database.

Order of work: read and parse the whole file (a malformed file stops here,
with its line and column, and nothing is written), copy it to
`<file>.backup-YYYYMMDD` next to it, map every value the schema would refuse
(one report line each), then in one transaction add the missing categories
and items, keeping the file's ids and timestamps. Before committing, the
transaction checks that the database holds every item of the file exactly
as mapped; afterwards a fresh connection checks again. Items already in the
database are left alone, so a second run has nothing to do and says so.

Exit status: 0 done (or nothing to do, or dry run), 1 unreadable file,
3 verification failed (nothing committed), 4 database unreachable or not migrated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import psycopg2

from app.config import DbConfig, Env, log_level
from app.logs import setup_logging
from app.progress import Progress
from app.workspace.config import workspace_db_config
from app.workspace.lowdb import (
    IMPORT_ACTOR,
    ItemRow,
    LowDbFileError,
    Plan,
    decode_document,
    document_parts,
    map_library,
)
from app.workspace.store import lowdb_import as store

EXIT_FILE = 1
EXIT_VERIFY = 3
EXIT_DATABASE = 4
CHUNK = 500
PROGRESS_MIN_ITEMS = 1000


class VerificationFailed(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="the LowDB library.json")
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would be imported; write nothing"
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr (auto: on a terminal, for large files)",
    )


@dataclass
class Outcome:
    plan: Plan
    categories_added: list[str] = field(default_factory=list)
    new_items: list[ItemRow] = field(default_factory=list)
    identical: int = 0
    differing: list[ItemRow] = field(default_factory=list)
    inserted: int = 0


def backup_file(path: Path, today: dt.date) -> tuple[Path, bool]:
    """Copy `path` to `<path>.backup-YYYYMMDD`; an identical copy already there is reused."""
    target = path.with_name(f"{path.name}.backup-{today:%Y%m%d}")
    if target.exists():
        if filecmp.cmp(path, target, shallow=False):
            return target, False
        stamp = dt.datetime.now().strftime("%H%M%S")
        target = path.with_name(f"{path.name}.backup-{today:%Y%m%d}-{stamp}")
    partial = target.with_name(target.name + ".partial")
    shutil.copy2(path, partial)
    partial.replace(target)
    return target, True


def run(args: argparse.Namespace) -> int:
    env = Env()
    setup_logging(log_level(env), stream=sys.stderr)
    return import_file(
        args.path, workspace_db_config(env), dry_run=args.dry_run, progress=args.progress
    )


def import_file(
    path: Path,
    db: DbConfig,
    *,
    dry_run: bool = False,
    progress: str = "auto",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        raw = path.read_bytes()
        mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError as exc:
        print(f"tpcap import-lowdb: cannot read {path}: {exc.strerror or exc}", file=err)
        return EXIT_FILE
    try:
        items, categories, file_notes = document_parts(decode_document(raw, path.name), path.name)
    except LowDbFileError as exc:
        print(f"tpcap import-lowdb: {exc}; nothing imported", file=err)
        return EXIT_FILE
    print(f"{path}: {len(items)} item(s), {len(categories)} categor(y/ies)", file=out)
    if not dry_run:
        target, created = backup_file(path, dt.date.today())
        print(f"backup: {target} ({'created' if created else 'already there'})", file=out)

    try:
        conn = psycopg2.connect(db.dsn())
    except psycopg2.Error as exc:
        print(f"tpcap import-lowdb: cannot connect to {db.describe()}: {exc}".strip(), file=err)
        return EXIT_DATABASE
    conn.autocommit = True  # transactions are explicit below
    try:
        with conn.cursor() as cur:
            store.check_schema(cur)
            store.begin(cur, read_only=dry_run, actor=IMPORT_ACTOR)
            try:
                outcome = _plan_against(cur, items, categories, mtime)
                _report_plan(outcome, file_notes, out)
                if dry_run or not (outcome.new_items or outcome.plan.categories):
                    cur.execute("ROLLBACK")
                else:
                    show = progress == "always" or (
                        progress == "auto"
                        and err.isatty()
                        and len(outcome.new_items) >= PROGRESS_MIN_ITEMS
                    )
                    bar = Progress(len(outcome.new_items), "items", enabled=show, stream=err)
                    _write(cur, outcome, bar)
                    _verify(cur, outcome)
                    cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        if dry_run:
            _summary(outcome, out, dry_run=True)
            return 0
        _verify_committed(conn, outcome)
    except store.SchemaMissing as exc:
        print(f"tpcap import-lowdb: {db.describe()}: {exc}", file=err)
        return EXIT_DATABASE
    except VerificationFailed as exc:
        print(f"tpcap import-lowdb: VERIFICATION FAILED: {exc}", file=err)
        return EXIT_VERIFY
    except psycopg2.Error as exc:
        print(f"tpcap import-lowdb: database error, nothing imported: {exc}".strip(), file=err)
        return EXIT_DATABASE
    finally:
        conn.close()
    _summary(outcome, out, dry_run=False)
    return 0


def _plan_against(cur: store.Cursor, items: list, categories: list, mtime: dt.datetime) -> Outcome:
    existing = store.categories(cur)
    plan = map_library(items, categories, existing_categories=existing, fallback_time=mtime)
    outcome = Outcome(plan=plan)
    stored = store.items_by_id(cur, [item.id for item in plan.items])
    for item in plan.items:
        row = stored.get(item.id)
        if row is None:
            outcome.new_items.append(item)
        elif item.matches(row):
            outcome.identical += 1
        else:
            outcome.differing.append(item)
    return outcome


def _write(cur: store.Cursor, outcome: Outcome, progress: Progress) -> None:
    outcome.categories_added = store.insert_categories(cur, outcome.plan.categories)
    for start in range(0, len(outcome.new_items), CHUNK):
        chunk = outcome.new_items[start : start + CHUNK]
        outcome.inserted += store.insert_items(cur, chunk)
        progress.advance(len(chunk))
    progress.close()


def _verify(cur: store.Cursor, outcome: Outcome) -> None:
    """Inside the transaction: every item of the file present, the new ones exactly as mapped."""
    ids = [item.id for item in outcome.plan.items]
    stored = store.items_by_id(cur, ids)
    missing = [item_id for item_id in ids if item_id not in stored]
    changed = [item.id for item in outcome.new_items if not item.matches(stored.get(item.id, {}))]
    if missing or changed:
        raise VerificationFailed(
            f"{len(missing)} item(s) of the file missing from the database"
            f" {_sample(missing)}, {len(changed)} stored differently {_sample(changed)};"
            " the transaction was rolled back and nothing was imported"
        )


def _verify_committed(conn: psycopg2.extensions.connection, outcome: Outcome) -> None:
    """After commit, on the same server but a fresh transaction: every id is there."""
    ids = [item.id for item in outcome.plan.items]
    with conn.cursor() as cur:
        present = store.count_present(cur, ids)
    if present != len(ids):
        raise VerificationFailed(
            f"after commit the database holds {present} of the file's {len(ids)} items"
        )


def _sample(ids: list[str]) -> str:
    if not ids:
        return ""
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    return f"({shown})"


def _report_plan(outcome: Outcome, file_notes: list[str], out: TextIO) -> None:
    notes = file_notes + outcome.plan.notes
    notes += [
        f"items[{item.index}] (id {item.id!r}): already in the database with other content;"
        " the database version is kept"
        for item in outcome.differing
    ]
    if notes:
        print(f"mapping report ({len(notes)} line(s)):", file=out)
        for note in notes:
            print(f"  {note}", file=out)


def _summary(outcome: Outcome, out: TextIO, *, dry_run: bool) -> None:
    plan = outcome.plan
    total = len(plan.items)
    present = outcome.identical + len(outcome.differing)
    if dry_run:
        print(
            f"dry run: would add {len(plan.categories)} categor(y/ies) and"
            f" {len(outcome.new_items)} item(s); {present} item(s) already in the database;"
            " nothing written",
            file=out,
        )
        return
    if not outcome.new_items and not plan.categories:
        print(
            f"nothing to do: all {total} item(s) of the file are already in the database",
            file=out,
        )
    else:
        added = ", ".join(outcome.categories_added) or "none"
        print(f"categories added: {len(outcome.categories_added)} ({added})", file=out)
        print(
            f"items added: {outcome.inserted}; already present: {present}"
            f" ({len(outcome.differing)} with other content, database kept)",
            file=out,
        )
    if plan.duplicates_dropped:
        print(f"exact duplicates in the file imported once: {plan.duplicates_dropped}", file=out)
    print(f"items with mapped values: {plan.mapped_items}", file=out)
    print(f"verified: all {total} item(s) of the file are in the database", file=out)
