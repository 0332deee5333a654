"""The durable outbox: every received message is on disk before any network call.

SQLite from the standard library, WAL journal, synchronous=FULL: a committed
entry survives a SIGKILL or a power cut. Entries leave only when an api
answered 2xx for them. Dead letters stay in the same table (flag `dead`), so
"kept on disk" needs no second file.

`OutboxStore` is synchronous and owned by one thread; `Outbox` runs it on a
single-thread executor so fsyncs never block the event loop, and folds
concurrent `add` calls into one transaction (group commit).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger("app.gateway.outbox")
T = TypeVar("T")

# Accounted per row on top of the payload: the row's other columns and index entries.
ROW_OVERHEAD_BYTES = 160
WARN_FRACTION = 0.8

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    edit_key    TEXT    NOT NULL DEFAULT '',
    payload     TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    created_at  REAL    NOT NULL,
    held        INTEGER NOT NULL DEFAULT 0,
    dead        INTEGER NOT NULL DEFAULT 0,
    dead_reason TEXT,
    failed_at   REAL,
    last_error  TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_key ON entries (channel_id, message_id, edit_key);
CREATE INDEX IF NOT EXISTS entries_dead_seq ON entries (dead, seq);
CREATE TABLE IF NOT EXISTS channels (
    channel_id    INTEGER PRIMARY KEY,
    accepted_id   INTEGER NOT NULL DEFAULT 0,  -- highest message id an api accepted
    synced_id     INTEGER NOT NULL DEFAULT 0,  -- every message up to it is here or accepted
    refused_floor INTEGER                      -- lowest id refused while the outbox was full
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
-- The newest edit an api accepted per message (edit rescan); pruned past the window.
CREATE TABLE IF NOT EXISTS edits (
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    edit_date   TEXT    NOT NULL,
    recorded_at REAL    NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);
-- History reads: `floor` < ids <= `upto`, resumed from `cursor` after a restart.
CREATE TABLE IF NOT EXISTS backfills (
    channel_id  INTEGER PRIMARY KEY,
    floor       INTEGER NOT NULL,
    upto        INTEGER NOT NULL,
    cursor      INTEGER NOT NULL,
    read        INTEGER NOT NULL DEFAULT 0,
    requested   TEXT    NOT NULL,
    started_at  REAL    NOT NULL,
    finished_at REAL
);
"""

# edit_key of an entry that records a deletion (publishes to /ingest/deletions).
DELETION_KEY = "~deleted"

# Dead letters with these reasons are retried automatically once an api is healthy;
# the others (the api refused the content) only move through `tpcap recover`.
AUTO_REDRAIN_REASONS = ("exhausted",)


class AddResult(enum.Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same version of the message is already waiting
    REFUSED = "refused"  # outbox full


@dataclass(frozen=True, slots=True)
class NewEntry:
    channel_id: int
    message_id: int
    edit_key: str
    payload: str  # the ingest JSON object, serialised once
    held: bool = False
    # True when every earlier message of the channel is known to be here already
    # (read in order from history, or live in a connection already caught up).
    advances_sync: bool = False


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    channel_id: int
    message_id: int
    payload: str
    created_at: float
    is_deletion: bool = False


@dataclass(frozen=True, slots=True)
class BackfillJob:
    channel_id: int
    floor: int
    upto: int
    cursor: int
    read: int
    requested: str
    started_at: float
    finished_at: float | None

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    def as_dict(self) -> dict[str, Any]:
        span = max(1, self.upto - self.floor)
        return {
            "channelId": self.channel_id,
            "requested": self.requested,
            "fromId": self.floor,
            "toId": self.upto,
            "cursor": self.cursor,
            "read": self.read,
            "fraction": 1.0 if self.done else round((self.cursor - self.floor) / span, 4),
            "done": self.done,
        }


@dataclass(frozen=True, slots=True)
class DeadLetter:
    seq: int
    payload: str
    reason: str
    failed_at: float
    error: str | None


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    dead: int
    oldest_created_at: float | None
    bytes_used: int
    max_bytes: int
    dead_bytes: int = 0


class OutboxError(Exception):
    """The outbox file cannot be opened or written."""


class OutboxStore:
    def __init__(self, path: Path, max_bytes: int, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open outbox {self.path}: {exc}") from exc
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)
        self.bytes_used = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[
            0
        ]
        self._warned = False
        # Set on a refusal: once space is free again a catch-up should bring those back.
        self.refusals_pending = False

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- writing --------------------------------------------------------------
    def add_many(self, entries: list[NewEntry]) -> list[AddResult]:
        results: list[AddResult] = []
        now = self._clock()
        with self._transaction() as db:
            for entry in entries:
                size = len(entry.payload.encode()) + ROW_OVERHEAD_BYTES
                if self.bytes_used + size > self.max_bytes:
                    self._refuse(db, entry)
                    results.append(AddResult.REFUSED)
                    continue
                cursor = db.execute(
                    "INSERT OR IGNORE INTO entries"
                    " (channel_id, message_id, edit_key, payload, size, created_at, held)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.channel_id,
                        entry.message_id,
                        entry.edit_key,
                        entry.payload,
                        size,
                        now,
                        int(entry.held),
                    ),
                )
                if cursor.rowcount:
                    self.bytes_used += size
                    results.append(AddResult.STORED)
                else:
                    results.append(AddResult.DUPLICATE)
                if entry.advances_sync:
                    db.execute(
                        "INSERT INTO channels (channel_id, synced_id) VALUES (?, ?)"
                        " ON CONFLICT (channel_id) DO UPDATE"
                        " SET synced_id = MAX(synced_id, excluded.synced_id)",
                        (entry.channel_id, entry.message_id),
                    )
        self._check_fill()
        return results

    def mark_refused(self, channel_id: int, message_id: int) -> None:
        """The next catch-up of the channel must read from before `message_id`."""
        with self._transaction() as db:
            self._mark_refused(db, channel_id, message_id)

    def _refuse(self, db: sqlite3.Connection, entry: NewEntry) -> None:
        # Remember the lowest refused id so catch-up re-reads the channel from there
        # once space is free, even if later messages of the channel get accepted first.
        self._mark_refused(db, entry.channel_id, entry.message_id)

    def _mark_refused(self, db: sqlite3.Connection, channel_id: int, message_id: int) -> None:
        self.refusals_pending = True
        db.execute(
            "INSERT INTO channels (channel_id, synced_id, refused_floor) VALUES (?, ?, ?)"
            " ON CONFLICT (channel_id) DO UPDATE SET refused_floor ="
            " MIN(COALESCE(refused_floor, excluded.refused_floor), excluded.refused_floor)",
            (channel_id, message_id - 1, message_id),
        )

    def _check_fill(self) -> None:
        fill = self.bytes_used / self.max_bytes
        if fill >= WARN_FRACTION and not self._warned:
            self._warned = True
            log.warning(
                "OUTBOX ALMOST FULL: new messages will be refused at OUTBOX_MAX_BYTES",
                extra={"bytes_used": self.bytes_used, "max_bytes": self.max_bytes},
            )
        elif fill < WARN_FRACTION / 2:
            self._warned = False

    def release(self, entry: NewEntry, payload: str | None) -> None:
        """End the hold of an entry waiting for its forward; `payload` replaces it if given."""
        key = (entry.channel_id, entry.message_id, entry.edit_key)
        where = "channel_id = ? AND message_id = ? AND edit_key = ?"
        with self._transaction() as db:
            row = db.execute(f"SELECT seq, size FROM entries WHERE {where}", key).fetchone()
            if row is None:
                return
            seq, old_size = row
            if payload is None:
                db.execute("UPDATE entries SET held = 0 WHERE seq = ?", (seq,))
                return
            size = len(payload.encode()) + ROW_OVERHEAD_BYTES
            db.execute(
                "UPDATE entries SET held = 0, payload = ?, size = ? WHERE seq = ?",
                (payload, size, seq),
            )
            self.bytes_used += size - old_size

    def release_all_held(self) -> int:
        """At start-up: holds left by a crash end without a forward (never forward twice)."""
        with self._transaction() as db:
            return db.execute("UPDATE entries SET held = 0 WHERE held = 1").rowcount

    def mark_delivered(self, seqs: list[int]) -> None:
        """Remove delivered entries and raise each channel's highest accepted id."""
        if not seqs:
            return
        now = self._clock()
        edits: list[tuple[int, int, str, float]] = []
        with self._transaction() as db:
            freed = 0
            accepted: dict[int, int] = {}
            for chunk in _chunks(seqs, 500):
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    "SELECT channel_id, message_id, size, edit_key FROM entries"
                    f" WHERE seq IN ({marks})",
                    chunk,
                ).fetchall()
                for channel_id, message_id, size, key in rows:
                    freed += size
                    if key == DELETION_KEY:
                        continue
                    accepted[channel_id] = max(accepted.get(channel_id, 0), message_id)
                    if key:
                        edits.append((channel_id, message_id, key, now))
                db.execute(f"DELETE FROM entries WHERE seq IN ({marks})", chunk)
            db.executemany(
                "INSERT INTO channels (channel_id, accepted_id) VALUES (?, ?)"
                " ON CONFLICT (channel_id) DO UPDATE"
                " SET accepted_id = MAX(accepted_id, excluded.accepted_id)",
                list(accepted.items()),
            )
            db.executemany(
                "INSERT INTO edits (channel_id, message_id, edit_date, recorded_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (channel_id, message_id) DO UPDATE"
                " SET edit_date = MAX(edit_date, excluded.edit_date),"
                " recorded_at = excluded.recorded_at",
                edits,
            )
        self.bytes_used -= freed
        self._check_fill()

    def dead_letter(self, seqs: list[int], reason: str, error: str | None) -> None:
        now = self._clock()
        with self._transaction() as db:
            db.executemany(
                "UPDATE entries SET dead = 1, dead_reason = ?, failed_at = ?, last_error = ?"
                " WHERE seq = ?",
                [(reason, now, (error or "")[:500], seq) for seq in seqs],
            )

    def revive_dead(self, reasons: tuple[str, ...] = AUTO_REDRAIN_REASONS) -> int:
        marks = ",".join("?" * len(reasons))
        with self._transaction() as db:
            return db.execute(
                f"UPDATE entries SET dead = 0 WHERE dead = 1 AND dead_reason IN ({marks})",
                reasons,
            ).rowcount

    def delete(self, seqs: list[int]) -> None:
        with self._transaction() as db:
            for chunk in _chunks(seqs, 500):
                marks = ",".join("?" * len(chunk))
                freed = db.execute(
                    f"SELECT COALESCE(SUM(size), 0) FROM entries WHERE seq IN ({marks})", chunk
                ).fetchone()[0]
                db.execute(f"DELETE FROM entries WHERE seq IN ({marks})", chunk)
                self.bytes_used -= freed

    def touch(self) -> None:
        """A real write, for the health check: proves the disk and the file accept writes."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('health', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(self._clock()),),
            )

    # -- reading --------------------------------------------------------------
    def next_batch(self, limit: int, max_bytes: int) -> list[Entry]:
        """The oldest deliverable entries, in arrival order, up to the first held one."""
        rows = self._db.execute(
            "SELECT seq, channel_id, message_id, payload, created_at, held, size,"
            " edit_key = ? FROM entries WHERE dead = 0 ORDER BY seq LIMIT ?",
            (DELETION_KEY, limit),
        ).fetchall()
        batch: list[Entry] = []
        total = 0
        for seq, channel_id, message_id, payload, created_at, held, size, deletion in rows:
            # A held entry blocks the ones behind it so each channel stays in order;
            # messages and deletions go to different routes, so a batch holds one kind.
            if held or (batch and total + size > max_bytes):
                break
            if batch and batch[0].is_deletion != bool(deletion):
                break
            batch.append(Entry(seq, channel_id, message_id, payload, created_at, bool(deletion)))
            total += size
        return batch

    def stats(self) -> OutboxStats:
        pending, oldest = self._db.execute(
            "SELECT COUNT(*), MIN(created_at) FROM entries WHERE dead = 0"
        ).fetchone()
        dead, used, dead_bytes = self._db.execute(
            "SELECT COUNT(*) FILTER (WHERE dead = 1), COALESCE(SUM(size), 0),"
            " COALESCE(SUM(size) FILTER (WHERE dead = 1), 0) FROM entries"
        ).fetchone()
        # Re-read: `tpcap recover export` may have removed entries from another process.
        self.bytes_used = used
        return OutboxStats(pending, dead, oldest, self.bytes_used, self.max_bytes, dead_bytes)

    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]:
        """Dead-lettered messages. Deletions are not among them: they are not message
        objects for the failure queue, and they go out again once an api is healthy."""
        rows = self._db.execute(
            "SELECT seq, payload, dead_reason, failed_at, last_error FROM entries"
            " WHERE dead = 1 AND edit_key != ? ORDER BY seq LIMIT ?",
            (DELETION_KEY, -1 if limit is None else limit),
        ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def take_catchup_floor(self, channel_id: int) -> int | None:
        """The id after which the channel history must be read (None: never seen).

        The highest id up to which nothing can be missing, lowered below any id
        refused while the outbox was full. Taking it clears the refusal mark in
        the same transaction: the read that follows brings those messages back,
        and a refusal during that read marks the channel again.
        """
        with self._transaction() as db:
            row = db.execute(
                "SELECT synced_id, refused_floor FROM channels WHERE channel_id = ?",
                (channel_id,),
            ).fetchone()
            if row is None:
                return None
            synced, refused = row
            if refused is not None:
                db.execute(
                    "UPDATE channels SET refused_floor = NULL WHERE channel_id = ?", (channel_id,)
                )
                return min(synced, refused - 1)
            return synced

    def set_baseline(self, channel_id: int, message_id: int) -> None:
        """First sight of a channel: its history up to now is not ours to import."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO channels (channel_id, accepted_id, synced_id) VALUES (?, ?, ?)"
                " ON CONFLICT (channel_id) DO NOTHING",
                (channel_id, message_id, message_id),
            )

    def delivered_edits(self, channel_id: int) -> dict[int, str]:
        """message id -> the newest edit date (ISO) an api accepted for it."""
        rows = self._db.execute(
            "SELECT message_id, edit_date FROM edits WHERE channel_id = ?", (channel_id,)
        ).fetchall()
        return dict(rows)

    def prune_edits(self, older_than: float) -> int:
        with self._transaction() as db:
            return db.execute("DELETE FROM edits WHERE recorded_at < ?", (older_than,)).rowcount

    def channel_floor(self, channel_id: int) -> int | None:
        row = self._db.execute(
            "SELECT synced_id FROM channels WHERE channel_id = ?", (channel_id,)
        ).fetchone()
        return None if row is None else row[0]

    # -- backfills --------------------------------------------------------------
    def start_backfill(self, channel_id: int, floor: int, upto: int, requested: str) -> BackfillJob:
        """A new history read replaces a finished one; an unfinished one is widened."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT floor, finished_at FROM backfills WHERE channel_id = ?", (channel_id,)
            ).fetchone()
            if row is not None and row[1] is None:
                db.execute(
                    "UPDATE backfills SET floor = MIN(floor, ?), cursor = MIN(cursor, ?),"
                    " upto = MAX(upto, ?), requested = ? WHERE channel_id = ?",
                    (floor, floor, upto, requested, channel_id),
                )
            else:
                db.execute(
                    "INSERT OR REPLACE INTO backfills"
                    " (channel_id, floor, upto, cursor, read, requested, started_at)"
                    " VALUES (?, ?, ?, ?, 0, ?, ?)",
                    (channel_id, floor, upto, floor, requested, self._clock()),
                )
        job = self.backfill(channel_id)
        assert job is not None
        return job

    def advance_backfill(self, channel_id: int, cursor: int, read: int, done: bool) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE backfills SET cursor = MAX(cursor, ?), read = read + ?,"
                " finished_at = CASE WHEN ? THEN ? ELSE finished_at END WHERE channel_id = ?",
                (cursor, read, int(done), self._clock(), channel_id),
            )

    def backfill(self, channel_id: int) -> BackfillJob | None:
        row = self._db.execute(
            "SELECT channel_id, floor, upto, cursor, read, requested, started_at, finished_at"
            " FROM backfills WHERE channel_id = ?",
            (channel_id,),
        ).fetchone()
        return BackfillJob(*row) if row else None

    def backfills(self) -> list[BackfillJob]:
        rows = self._db.execute(
            "SELECT channel_id, floor, upto, cursor, read, requested, started_at, finished_at"
            " FROM backfills ORDER BY started_at"
        ).fetchall()
        return [BackfillJob(*row) for row in rows]

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def channels_with_refusals(self) -> list[int]:
        rows = self._db.execute(
            "SELECT channel_id FROM channels WHERE refused_floor IS NOT NULL"
        ).fetchall()
        return [row[0] for row in rows]

    def accepted_ids(self) -> dict[int, int]:
        return dict(self._db.execute("SELECT channel_id, accepted_id FROM channels").fetchall())


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def edit_key(payload: dict[str, Any]) -> str:
    return payload.get("editDate") or ""


def deletion_entry(channel_id: int, message_id: int, deleted_at: str) -> NewEntry:
    payload = {"channelId": channel_id, "messageId": message_id, "deletedAt": deleted_at}
    return NewEntry(
        channel_id=channel_id,
        message_id=message_id,
        edit_key=DELETION_KEY,
        payload=json.dumps(payload, separators=(",", ":")),
    )


def new_entry(
    payload: dict[str, Any], *, held: bool = False, advances_sync: bool = False
) -> NewEntry:
    return NewEntry(
        channel_id=payload["channelId"],
        message_id=payload["messageId"],
        edit_key=edit_key(payload),
        payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        held=held,
        advances_sync=advances_sync,
    )


class Outbox:
    """The store on its own thread, with group commit for concurrent adds."""

    def __init__(self, store: OutboxStore) -> None:
        self.store = store
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="outbox")
        self._pending: list[tuple[NewEntry, asyncio.Future[AddResult]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()  # set whenever deliverable entries may have appeared

    @classmethod
    def open(cls, path: Path, max_bytes: int) -> Outbox:
        return cls(OutboxStore(path, max_bytes))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def add(self, entry: NewEntry) -> AddResult:
        future: asyncio.Future[AddResult] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self.run(self.store.add_many, [entry for entry, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
            self.changed.set()

    async def close(self) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher
        await self.run(self.store.close)
        self._executor.shutdown(wait=True)
