"""`tpcap reparse [--since …] [--channel …] [--dry-run]`: re-apply the parser to stored messages.

The same code as `POST /messages/reparse` (app/api/store/reparse.py), run
against the api's database (TIMESCALEDB_* variables), with a progress bar on
stderr and a summary of what changed.

Exit status: 0 done (or dry run), 2 bad argument or configuration, 4 database
unreachable or not migrated.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import sys
from typing import TextIO

import psycopg2

from app.api.channel_ref import channel_filter
from app.api.config import lexicon_path
from app.api.store.reparse import ReparseFilter, ReparseReport, count_messages, reparse
from app.config import DbConfig, Env, log_level
from app.db import create_pool
from app.logs import setup_logging
from app.parsing import lexicon
from app.progress import Progress

EXIT_USAGE = 2
EXIT_DATABASE = 4

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """ISO 8601 (naive means UTC) or a duration back from now: `90m`, `12h`, `30d`, `2w`."""
    match = _DURATION.match(text)
    if match:
        amount, unit = int(match.group(1)), _UNIT[match.group(2).lower()]
        try:
            return now - dt.timedelta(**{unit: amount})
        except OverflowError:
            raise ValueError(f"--since {text!r} is too far back") from None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither an ISO 8601 date nor a duration like 30d, 12h, 90m, 2w"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", help="only messages posted since then: ISO 8601 or a duration (30d, 12h)"
    )
    parser.add_argument("--channel", help="only this channel: its id or its name")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="report what would change; everything is rolled back",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr (auto: when stderr is a terminal)",
    )
    parser.add_argument("--batch", type=int, default=500, help=argparse.SUPPRESS)


def format_summary(report: ReparseReport) -> str:
    fields = ", ".join(
        f"{name} ×{count}" for name, count in report.as_dict()["changedFields"].items()
    )
    head = f"parser version {report.as_dict()['parserVersion']}: {report.scanned} message(s) read"
    if report.dry_run:
        head += " (dry run: nothing was written)"
    rows = [
        ("new signals", report.signals_created, ""),
        ("changed signals", report.signals_updated, f"  ({fields})" if fields else ""),
        ("no longer signals", report.signals_removed, ""),
        ("kept deleted", report.kept_deleted, "  (deleted by a user; not brought back)"),
        ("status changes", report.status_changed, ""),
        ("unchanged", report.unchanged, ""),
    ]
    width = max(len(str(count)) for _, count, _ in rows)
    lines = [head] + [f"  {label:<18} {count:>{width}}{note}" for label, count, note in rows]
    if report.by_status:
        lines.append(
            "  now: " + ", ".join(f"{status} {count}" for status, count in report.by_status.items())
        )
    return "\n".join(lines)


async def _run(
    config: DbConfig,
    where: ReparseFilter,
    *,
    dry_run: bool,
    progress_mode: str,
    batch: int,
    stream: TextIO,
) -> ReparseReport:
    pool = await create_pool(config, minsize=1, maxsize=2)
    try:
        show = progress_mode == "always" or (progress_mode == "auto" and stream.isatty())
        total = await count_messages(pool, where) if show else 0
        bar = Progress(total, "reparse", enabled=show, stream=stream)
        try:
            return await reparse(pool, where, dry_run=dry_run, chunk=batch, progress=bar.advance)
        finally:
            bar.close()
    finally:
        pool.close()
        await pool.wait_closed()


def run(args: argparse.Namespace) -> int:
    env = Env()
    setup_logging(log_level(env), stream=sys.stderr)
    config = DbConfig.from_env(env)
    lexicon.install(lexicon_path(env))  # the api's words (PARSER_LEXICON_PATH), checked
    try:
        since = parse_since(args.since, dt.datetime.now(dt.UTC)) if args.since else None
        channel = channel_filter(args.channel) if args.channel is not None else {}
    except ValueError as exc:
        print(f"tpcap reparse: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.batch < 1:
        print("tpcap reparse: --batch must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    where = ReparseFilter(from_=since, **channel)
    try:
        report = asyncio.run(
            _run(
                config,
                where,
                dry_run=args.dry_run,
                progress_mode=args.progress,
                batch=args.batch,
                stream=sys.stderr,
            )
        )
    except psycopg2.errors.UndefinedTable:
        print(
            f"tpcap reparse: {config.describe()} is not migrated: run `tpcap migrate`",
            file=sys.stderr,
        )
        return EXIT_DATABASE
    except (psycopg2.Error, OSError, TimeoutError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"tpcap reparse: cannot use {config.describe()}: {first}", file=sys.stderr)
        return EXIT_DATABASE
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(format_summary(report))
    return 0
