"""`tpcap gateway backfill --channel X (--since DATE | --limit N)`.

The history read runs inside the running gateway (it holds the Telegram
session and the outbox; a second process must not use either), so this
command asks it over its HTTP port (`POST /backfills`, X-Gateway-Token) and
draws a progress bar from `GET /backfills` until the read is done. The
messages then go out through the outbox like any other: the same retries and
the api's idempotent ingest. A restart of the gateway midway resumes the read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import IO, Any

from app.config import ConfigError
from app.gateway.config import GatewayConfig

POLL_S = 0.5
RESTART_PATIENCE_S = 120.0  # the gateway restarting midway: the read resumes, so wait
EXIT_FAILED = 1


class GatewayUnreachable(Exception):
    pass


def _call(url: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"X-Gateway-Token": token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read())
        except ValueError:
            return exc.code, None
    except OSError as exc:
        raise GatewayUnreachable(str(exc)) from None


class ProgressBar:
    def __init__(self, stream: IO[str], width: int = 30) -> None:
        self.stream = stream
        self.width = width

    def show(self, job: dict[str, Any]) -> None:
        fraction = min(1.0, max(0.0, float(job["fraction"])))
        filled = int(self.width * fraction)
        self.stream.write(
            f"\rbackfill [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{fraction * 100:5.1f}%  {job['read']} messages"
        )
        if job["done"]:
            self.stream.write("\n")
        self.stream.flush()


def backfill(
    base: str, token: str, request: dict[str, Any], stream: IO[str], poll_s: float = POLL_S
) -> dict[str, Any]:
    status, answer = _call(base + "/backfills", token, request)
    if status != 202:
        error = (answer or {}).get("error", {}) if isinstance(answer, dict) else {}
        raise ValueError(error.get("message") or f"the gateway answered {status}")
    bar = ProgressBar(stream)
    channel_id = answer["channelId"]
    job = answer
    while True:
        bar.show(job)
        if job["done"]:
            return job
        time.sleep(poll_s)
        deadline = time.monotonic() + RESTART_PATIENCE_S
        while True:
            try:
                status, listing = _call(base + "/backfills", token)
            except GatewayUnreachable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
                continue
            if status == 200:
                break
            time.sleep(1.0)
        job = next(j for j in listing["backfills"] if j["channelId"] == channel_id)


def run_backfill(args: argparse.Namespace) -> int:
    if not args.channel:
        raise ConfigError("--channel", "is required: a marked id (-100…) or a username")
    if args.since is None and args.limit is None:
        raise ConfigError("--since/--limit", "one of them is required")
    config = GatewayConfig.from_env(telegram_required=False)
    request: dict[str, Any] = {"channel": args.channel}
    if args.limit is not None:
        request["limit"] = args.limit
    else:
        request["since"] = args.since
    base = f"http://127.0.0.1:{config.port}"
    try:
        job = backfill(base, config.token, request, sys.stderr)
    except GatewayUnreachable:
        print(
            f"tpcap gateway backfill: no gateway answers on {base}; the backfill runs inside "
            "the running gateway: start it, then run this again",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except ValueError as exc:
        print(f"tpcap gateway backfill: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"read {job['read']} messages of channel {job['channelId']} into the outbox "
        f"(ids {job['fromId']}..{job['toId']}); the gateway delivers them to the api"
    )
    return 0
