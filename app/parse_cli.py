"""`tpcap parse [TEXT] [--jsonl FILE] [--json]`: what the parser makes of a message, and why.

Pure reading, no database: one message (the argument, or stdin) or a JSONL
file (one object with `text` and optional `channelId`/`messageId`, or a plain
JSON string, per line; `-` reads stdin). The outcome is exactly what the api
would store: the same text cleaning and checks as `POST /ingest`.

Exit status: 0 done, 1 some JSONL lines could not be read (each named on
stderr with its file and line), 2 bad arguments or unreadable file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from app.api.config import lexicon_path
from app.api.ingest import build_record
from app.config import Env
from app.parsing import lexicon

EXIT_BAD_LINES = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str | None
    signal: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status}
        if self.signal is not None:
            body["signal"] = self.signal
        else:
            body["reason"] = self.reason
        return body


def outcome_of(text: str) -> Outcome:
    """What `POST /ingest` would store for this text."""
    record = build_record(0, {"channelId": 0, "messageId": 0, "timestamp": None, "text": text})
    signal = record.signal.as_dict() if record.signal is not None else None
    return Outcome(record.parse_status, record.parse_reason, signal)


class BadLine(ValueError):
    pass


def message_of_line(line: str) -> dict[str, Any]:
    """A JSONL line: an object with `text` (and optional ids), or a plain JSON string."""
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise BadLine(f"not JSON ({exc})") from None
    if isinstance(value, str):
        return {"text": value}
    if not isinstance(value, dict):
        raise BadLine(f"expected an object with `text` or a string, got {type(value).__name__}")
    if not isinstance(value.get("text"), str):
        raise BadLine("`text` is missing or not a string")
    message = {"text": value["text"]}
    for key in ("channelId", "messageId"):
        if key in value:
            message[key] = value[key]
    return message


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def describe(outcome: Outcome) -> str:
    """One line: the asset, side, entry, targets and stop, or the status and reason."""
    s = outcome.signal
    if s is None:
        return f"{outcome.status}: {outcome.reason}"
    entry = (
        "market"
        if s["buy_min"] is None
        else _price(s["buy_min"])
        if s["buy_min"] == s["buy_max"]
        else f"{_price(s['buy_min'])}-{_price(s['buy_max'])}"
    )
    targets = ", ".join(_price(t) for t in s["targets"]) or "-"
    return (
        f"signal: {s['asset']} {s['side']} entry {entry} targets {targets} "
        f"stop {_price(s['stop'])} ({s['signal_type']})"
    )


def details(outcome: Outcome) -> str:
    """Several lines: every field the api would store."""
    if outcome.signal is None:
        return f"{outcome.status}\n  reason        {outcome.reason}"
    lines = ["signal"]
    for name, value in outcome.signal.items():
        shown = (
            ", ".join(_price(v) for v in value) or "-"
            if isinstance(value, list)
            else _price(value)
            if isinstance(value, float) or value is None
            else str(value)
        )
        lines.append(f"  {name:<13} {shown}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", help="the message (default: read stdin)")
    parser.add_argument(
        "--jsonl",
        metavar="FILE",
        help='one message per line: {"text": …, "channelId"?, "messageId"?} or a '
        "JSON string; - reads stdin",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _lines(path: str) -> Iterator[tuple[int, str]]:
    if path == "-":
        yield from enumerate(sys.stdin, start=1)
        return
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        yield from enumerate(handle, start=1)


def run_jsonl(path: str, as_json: bool, out: TextIO, err: TextIO) -> int:
    counts: Counter[str] = Counter()
    bad = 0
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            message = message_of_line(line)
        except BadLine as exc:
            print(f"{path}:{number}: {exc}", file=err)
            bad += 1
            continue
        outcome = outcome_of(message["text"])
        counts[outcome.status] += 1
        ids = {k: message[k] for k in ("channelId", "messageId") if k in message}
        if as_json:
            print(
                json.dumps({"line": number, **ids, **outcome.as_dict()}, ensure_ascii=False),
                file=out,
            )
        else:
            where = "".join(f" {k}={v}" for k, v in ids.items())
            print(f"{path}:{number}{where}: {describe(outcome)}", file=out)
    tally = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
    summary = f"{sum(counts.values())} message(s): {tally or 'none'}"
    if bad:
        summary += f"; {bad} line(s) could not be read"
    print(summary, file=err if as_json else out)
    return EXIT_BAD_LINES if bad else 0


def run(args: argparse.Namespace) -> int:
    # The api's words (PARSER_LEXICON_PATH), so a check here reads as the api will.
    lexicon.install(lexicon_path(Env()))
    if args.jsonl is not None and args.text is not None:
        print("tpcap parse: give a message or --jsonl FILE, not both", file=sys.stderr)
        return EXIT_USAGE
    if args.jsonl is not None:
        try:
            return run_jsonl(args.jsonl, args.json, sys.stdout, sys.stderr)
        except OSError as exc:
            print(f"tpcap parse: cannot read {args.jsonl}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    text = args.text if args.text is not None else sys.stdin.read()
    outcome = outcome_of(text)
    if args.json:
        print(json.dumps(outcome.as_dict(), ensure_ascii=False))
    else:
        print(details(outcome))
    return 0
