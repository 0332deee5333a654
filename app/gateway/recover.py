"""`tpcap recover`: move dead letters to the JSONL failure queue, or replay such a file.

  tpcap recover export            dead letters of OUTBOX_PATH -> FAILURE_QUEUE_PATH (appended)
  tpcap recover replay [--file F] send each line of F (default FAILURE_QUEUE_PATH) to the api

The file format is the original one: one ingest message object per line, with
`failedAt`. Replay removes from the file only the lines an api accepted
(duplicates included); lines it refused, lines that could not be sent, and
malformed or truncated lines (reported with their line number) stay, so
nothing is ever dropped silently.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from app.gateway.apiclient import ApiClient, PublishError, Unauthorized
from app.gateway.config import GatewayConfig
from app.gateway.outbox import OutboxStore
from app.gateway.publisher import MAX_BATCH
from app.logs import register_secret, setup_logging

EXIT_PARTIAL = 1  # something stayed in the file
REQUIRED_FIELDS = ("channelId", "messageId", "timestamp", "text")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["export", "replay"])
    parser.add_argument("--file", type=Path, help="JSONL file (default: FAILURE_QUEUE_PATH)")


# -- export -----------------------------------------------------------------------
def export_dead_letters(store: OutboxStore, path: Path) -> int:
    """Append every dead letter to `path`, fsync, then remove them from the outbox."""
    letters = store.dead_letters()
    if not letters:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        for letter in letters:
            record = json.loads(letter.payload)
            record["failedAt"] = dt.datetime.fromtimestamp(letter.failed_at, dt.UTC).isoformat()
            record["failureReason"] = letter.reason
            handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    store.delete([letter.seq for letter in letters])
    return len(letters)


# -- replay -----------------------------------------------------------------------
@dataclass
class Line:
    number: int
    text: str  # as read, without the newline
    message: dict[str, Any] | None = None


@dataclass
class ReplayReport:
    total: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)
    unsent: int = 0
    remaining: int = 0


def parse_line(number: int, text: str) -> tuple[Line, str | None]:
    """A line and, when it cannot be replayed, why."""
    line = Line(number, text)
    try:
        value = json.loads(text)
    except ValueError as exc:
        return line, f"not valid JSON ({exc.msg} at column {exc.colno}); truncated?"
    if not isinstance(value, dict):
        return line, "not a JSON object"
    missing = [name for name in REQUIRED_FIELDS if name not in value]
    if missing:
        return line, f"missing {', '.join(missing)}"
    message = {k: v for k, v in value.items() if k not in ("failedAt", "failureReason")}
    line.message = message
    return line, None


def read_queue(path: Path) -> tuple[list[Line], list[Line], list[tuple[int, str]]]:
    """(replayable lines, every non-empty line in order, malformed line reports)."""
    replayable: list[Line] = []
    everything: list[Line] = []
    malformed: list[tuple[int, str]] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.rstrip("\n")
            if not text.strip():
                continue
            line, problem = parse_line(number, text)
            everything.append(line)
            if problem is None:
                replayable.append(line)
            else:
                malformed.append((number, problem))
    return replayable, everything, malformed


class Progress:
    def __init__(self, total: int, stream: IO[str]) -> None:
        self.total = total
        self.done = 0
        self.stream = stream

    def advance(self, count: int) -> None:
        self.done += count
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        self.stream.write(
            f"\rreplay [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


async def send_batch(api: ApiClient, lines: list[Line], attempts: int, delay_s: float) -> Any:
    body = json.dumps({"messages": [line.message for line in lines]}, ensure_ascii=False).encode()
    for attempt in range(1, attempts + 1):
        try:
            return (await api.post("/ingest/batch", body)).body
        except Unauthorized:
            raise
        except PublishError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            await asyncio.sleep(max(delay_s * 2 ** (attempt - 1), exc.retry_after or 0))
    return None


async def replay(config: GatewayConfig, path: Path, stream: IO[str]) -> ReplayReport:
    replayable, everything, malformed = read_queue(path)
    report = ReplayReport(total=len(everything), malformed=malformed)
    for number, problem in malformed:
        stream.write(f"line {number}: skipped, {problem}\n")
    done: set[int] = set()
    api = ApiClient(config.endpoints, config.token, config.request_timeout_s)
    progress = Progress(len(replayable), stream)
    try:
        for start in range(0, len(replayable), MAX_BATCH):
            lines = replayable[start : start + MAX_BATCH]
            try:
                answer = await send_batch(
                    api, lines, config.max_retry_attempts, config.retry_delay_ms / 1000
                )
            except PublishError as exc:
                stream.write(f"\nstopped: the api did not take the batch ({exc.reason}: {exc})\n")
                report.unsent = len(replayable) - start
                break
            for result in answer["results"]:
                line = lines[result["index"]]
                if result.get("status") == "ok":
                    done.add(line.number)
                    report.accepted += 1
                    report.duplicates += bool(result.get("duplicate"))
                else:
                    problem = json.dumps(result.get("errors"), ensure_ascii=False)
                    report.rejected.append((line.number, problem))
            progress.advance(len(lines))
    finally:
        api.close()
    for number, problem in report.rejected:
        stream.write(f"line {number}: refused by the api, kept: {problem}\n")
    kept = [line.text for line in everything if line.number not in done]
    rewrite(path, kept)
    report.remaining = len(kept)
    return report


def rewrite(path: Path, lines: list[str]) -> None:
    """Replace the file atomically: a crash leaves the old or the new file, never half."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        for text in lines:
            handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def run(args: argparse.Namespace) -> int:
    config = GatewayConfig.from_env(telegram_required=False)
    setup_logging("warning")
    register_secret(config.token)
    if args.action == "export":
        store = OutboxStore(config.outbox_path, config.outbox_max_bytes)
        try:
            count = export_dead_letters(store, config.failure_queue_path)
        finally:
            store.close()
        print(f"exported {count} dead letters to {config.failure_queue_path}")
        return 0
    path = args.file or config.failure_queue_path
    if not path.exists():
        print(f"tpcap recover: {path} does not exist", file=sys.stderr)
        return 2
    report = asyncio.run(replay(config, path, sys.stderr))
    print(
        f"lines {report.total}: accepted {report.accepted} (duplicates {report.duplicates}), "
        f"refused {len(report.rejected)}, malformed {len(report.malformed)}, "
        f"not sent {report.unsent}; {report.remaining} left in {path}"
    )
    return 0 if report.remaining == 0 else EXIT_PARTIAL
