"""Gateway benchmark: backlog drain, live-path latency, memory, backfill, registry. Prints figures.

    .venv/bin/python tests/perf/bench_gateway.py [--backlog 100000] [--live-seconds 20]
        [--history 10000] [--parts drain,live,backfill,registry]

Everything is real except Telegram (the test fake): a private PostgreSQL, the
api as a child process, the gateway as a child process for the drain and
memory figures (the test-only client factory hook), in-process for latency.

1. drain: 100,000 entries in the outbox, the api down at start (RSS measured
   with the full backlog), then the api started; rate = rows / time from the
   first committed row to the last. Baseline: the same 100,000 rows written
   straight into the same database with batched INSERTs of 500.
2. live latency at 50 messages/s: from the moment the Telegram event is
   dispatched to the moment the row is visible in PostgreSQL (a poller reads
   max(message_id) every 2 ms). Baseline: one INSERT + COMMIT per message,
   from this process, into the same database.
3. RSS of the gateway process with the full backlog, and its peak while draining.
4. backfill: 10,000 history messages of a channel seen for the first time
   (TELEGRAM_BACKFILL=10000), gateway and api as child processes; rate = rows /
   time from the first committed row to the last, and from the gateway's start;
   CPU seconds of both processes. Compared with the drain rate of the same run.
5. registry: a channel added with POST /telegram-channels while a post lands in
   it every 50 ms; time until its first row is in PostgreSQL, against
   CHANNEL_REFRESH_SECONDS + 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
from psycopg2.extras import execute_values

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.config import DbConfig, Env  # noqa: E402
from app.gateway.config import GatewayConfig  # noqa: E402
from app.gateway.outbox import OutboxStore, new_entry  # noqa: E402
from app.localpg import LocalPg  # noqa: E402
from app.migrate import migrate  # noqa: E402
from tests.conftest import api_env  # noqa: E402
from tests.gateway.conftest import (  # noqa: E402
    CHANNEL_BARE_ID,
    CHANNEL_ID,
    GatewayProcess,
    gateway_env,
    running_gateway,
)
from tests.gateway.fake_telegram import FakeTelegram, FeedWriter  # noqa: E402
from tests.support import pg as pgsupport  # noqa: E402
from tests.support.api import ApiProcess  # noqa: E402

SIGNAL = (
    "🟢Swing Trade\n\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\n"
    "Alvo final: 3,00\nStop: 0,80"
)
CHATTER = "Bom dia, pessoal! Mercado abrindo em alta, fiquem atentos aos próximos sinais. #{n}"
T0 = dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.UTC)


def message(n: int, channel_id: int = CHANNEL_ID) -> dict:
    return {
        "channelId": channel_id,
        "messageId": n,
        "timestamp": (T0 + dt.timedelta(seconds=n)).isoformat(),
        "text": SIGNAL if n % 10 == 0 else CHATTER.format(n=n),
        "channelName": "TP Capital",
        "editDate": None,
        "source": "user",
        "forwardedTo": None,
    }


def count_rows(db: DbConfig, channel_id: int = CHANNEL_ID) -> int:
    with psycopg2.connect(db.dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM tp_capital.telegram_messages WHERE channel_id = %s",
            (channel_id,),
        )
        value = cur.fetchone()[0]
    conn.close()
    return value


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fresh_database(pg: LocalPg, name: str) -> DbConfig:
    db = pgsupport.db_config(pg, name, "signals")
    migrate(db, "signals")
    return db


# -- 1 + 3: drain and memory ---------------------------------------------------------
def bench_drain(pg: LocalPg, workdir: Path, backlog: int) -> dict:
    db = fresh_database(pg, "bench_drain")
    api = ApiProcess(api_env(db), log_path=workdir / "api.log")
    env = gateway_env(workdir, api.url, RETRY_DELAY_MS="200", LOG_LEVEL="warning")
    store = OutboxStore(Path(env["OUTBOX_PATH"]), GatewayConfig.from_env(Env(env)).outbox_max_bytes)
    store.set_baseline(CHANNEL_ID, 0)
    for start in range(1, backlog + 1, 5000):
        store.add_many(
            [new_entry(message(n)) for n in range(start, min(start + 5000, backlog + 1))]
        )
    outbox_mb = (
        sum(p.stat().st_size for p in Path(env["OUTBOX_PATH"]).parent.glob("outbox.sqlite3*")) / 1e6
    )
    store.close()
    feed = workdir / "feed.jsonl"
    FeedWriter(feed).channel(CHANNEL_BARE_ID, "TP Capital")
    gateway = GatewayProcess(env, feed, log_path=workdir / "gateway.log").start()
    try:
        time.sleep(4.0)  # started, backlog loaded, api still down
        rss_backlog = rss_mb(gateway.process.pid)
        api.start()
        peak = rss_backlog
        first_row_at = None
        started = time.monotonic()
        while True:
            rows = count_rows(db)
            now = time.monotonic()
            peak = max(peak, rss_mb(gateway.process.pid))
            if rows and first_row_at is None:
                first_row_at = now
            if rows >= backlog:
                break
            if now - started > 600:
                raise RuntimeError(f"drain stuck at {rows} rows")
            time.sleep(0.05)
        finished = time.monotonic()
        health = gateway.health()
        gateway.stop()
    finally:
        gateway.kill()
        api.stop()
    drain_s = finished - (first_row_at or started)
    return {
        "rows": count_rows(db),
        "drain_s": drain_s,
        "rate": backlog / drain_s,
        "rss_backlog_mb": rss_backlog,
        "rss_peak_mb": peak,
        "outbox_mb": outbox_mb,
        "backlog_after": health[1]["outbox"]["backlog"] if health else None,
    }


def bench_direct_insert(pg: LocalPg, rows: int) -> float:
    """Baseline: the same rows straight into telegram_messages, batches of 500."""
    db = fresh_database(pg, "bench_direct")
    conn = psycopg2.connect(db.dsn())
    started = time.monotonic()
    with conn.cursor() as cur:
        for start in range(1, rows + 1, 500):
            batch = [message(n) for n in range(start, min(start + 500, rows + 1))]
            execute_values(
                cur,
                "INSERT INTO telegram_messages (channel_id, message_id, ts, text, channel_name,"
                " source, parse_status) VALUES %s ON CONFLICT DO NOTHING",
                [
                    (
                        m["channelId"],
                        m["messageId"],
                        m["timestamp"],
                        m["text"],
                        m["channelName"],
                        "user",
                        "not_signal",
                    )
                    for m in batch
                ],
            )
            conn.commit()
    elapsed = time.monotonic() - started
    conn.close()
    return rows / elapsed


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- 4: backfill -----------------------------------------------------------------------
def bench_backfill(pg: LocalPg, workdir: Path, history: int) -> dict:
    db = fresh_database(pg, "bench_backfill")
    api = ApiProcess(api_env(db), log_path=workdir / "api-backfill.log").start()
    folder = workdir / "backfill"
    folder.mkdir()
    feed_path = folder / "feed.jsonl"
    feed = FeedWriter(feed_path)
    feed.channel(CHANNEL_BARE_ID, "TP Capital")
    for n in range(history):
        feed.post(CHANNEL_BARE_ID, SIGNAL if n % 10 == 0 else CHATTER.format(n=n))
    feed.close()
    env = gateway_env(folder, api.url, TELEGRAM_BACKFILL=str(history), LOG_LEVEL="warning")
    api_cpu = cpu_seconds(api.process.pid)
    started = time.monotonic()
    gateway = GatewayProcess(env, feed_path, log_path=folder / "gateway.log").start()
    try:
        first_row_at = None
        while True:
            rows = count_rows(db)
            now = time.monotonic()
            if rows and first_row_at is None:
                first_row_at = now
            if rows >= history:
                break
            if now - started > 600:
                raise RuntimeError(f"backfill stuck at {rows} rows")
            time.sleep(0.02)
        finished = time.monotonic()
        gateway_cpu = cpu_seconds(gateway.process.pid)
        api_cpu = cpu_seconds(api.process.pid) - api_cpu
        gateway.stop()
    finally:
        gateway.kill()
        api.stop()
    rows_s = finished - (first_row_at or started)
    return {
        "rows": count_rows(db),
        "rows_s": rows_s,
        "rate": history / rows_s,
        "from_start_s": finished - started,
        "rate_from_start": history / (finished - started),
        "gateway_cpu_s": gateway_cpu,
        "api_cpu_s": api_cpu,
    }


# -- 5: registry -------------------------------------------------------------------------
async def registry_latency(pg: LocalPg, workdir: Path, refresh_s: int) -> dict:
    from tests.conftest import API_KEY
    from tests.support.http import call

    db = fresh_database(pg, "bench_registry")
    api = ApiProcess(api_env(db), log_path=workdir / "api-registry.log")
    await asyncio.to_thread(api.start)
    telegram = FakeTelegram(id_gaps=False)
    telegram.add_channel(CHANNEL_BARE_ID, "TP Capital")
    added = telegram.add_channel(CHANNEL_BARE_ID + 1, "Added", "added_channel")
    folder = workdir / "registry"
    folder.mkdir()
    env = gateway_env(folder, api.url, CHANNEL_REFRESH_SECONDS=str(refresh_s))
    config = GatewayConfig.from_env(Env(env))
    try:
        async with running_gateway(config, telegram) as gateway:
            while not gateway.telegram.connected:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            await asyncio.sleep(refresh_s / 3)  # not aligned with the refresh tick
            answer = await call(
                "POST",
                api.url + "/telegram-channels",
                json_body={"username": "added_channel", "label": "Added"},
                headers={"X-API-Key": API_KEY},
            )
            assert answer.status == 201, answer.body
            registered = time.monotonic()
            while count_rows(db, added.marked_id) == 0:
                if time.monotonic() - registered > refresh_s + 60:
                    raise RuntimeError("the registry channel was never delivered")
                await telegram.post(added, "posted in the newly registered channel")
                await asyncio.sleep(0.05)
            delivered = time.monotonic() - registered
    finally:
        await asyncio.to_thread(api.stop)
    return {"refresh_s": refresh_s, "delivered_after_s": delivered}


# -- 2: live latency -----------------------------------------------------------------
class RowPoller(threading.Thread):
    """Records when each message id first becomes visible (committed) in PostgreSQL."""

    def __init__(self, db: DbConfig, interval: float = 0.002) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.interval = interval
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        conn = psycopg2.connect(self.db.dsn())
        conn.autocommit = True
        last = 0
        with conn.cursor() as cur:
            while not self.stop.is_set():
                cur.execute(
                    "SELECT message_id FROM tp_capital.telegram_messages"
                    " WHERE channel_id = %s AND message_id > %s",
                    (CHANNEL_ID, last),
                )
                now = time.perf_counter()
                for (message_id,) in cur.fetchall():
                    self.seen.setdefault(message_id, now)
                    last = max(last, message_id)
                time.sleep(self.interval)
        conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def live_latency(pg: LocalPg, workdir: Path, seconds: float, rate: float) -> dict:
    db = fresh_database(pg, "bench_live")
    api = ApiProcess(api_env(db), log_path=workdir / "api-live.log")
    await asyncio.to_thread(api.start)
    telegram = FakeTelegram(id_gaps=False)
    telegram.add_channel(CHANNEL_BARE_ID, "TP Capital")
    env = gateway_env(workdir / "live", api.url, LOG_LEVEL="warning")
    (workdir / "live").mkdir()
    config = GatewayConfig.from_env(Env(env))
    poller = RowPoller(db)
    sent: dict[int, float] = {}
    try:
        async with running_gateway(config, telegram) as gateway:
            while not gateway.telegram.connected:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            poller.start()
            loop = asyncio.get_running_loop()
            started = loop.time()
            total = int(seconds * rate)
            for n in range(total):
                text = SIGNAL if n % 10 == 0 else CHATTER.format(n=n)
                sent[n + 1] = time.perf_counter()
                await telegram.post(CHANNEL_ID, text)
                delay = started + (n + 1) / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            deadline = time.monotonic() + 30
            while len(poller.seen) < total and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        poller.stop.set()
        await asyncio.to_thread(api.stop)
    latencies = [(poller.seen[i] - sent[i]) * 1000 for i in sent if i in poller.seen]
    return {
        "count": len(latencies),
        "sent": len(sent),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "mean": statistics.fmean(latencies),
    }


def direct_commit_latency(pg: LocalPg, count: int) -> dict:
    """Baseline: one INSERT + COMMIT per message from this process."""
    db = fresh_database(pg, "bench_live_direct")
    conn = psycopg2.connect(db.dsn())
    latencies = []
    with conn.cursor() as cur:
        for n in range(1, count + 1):
            m = message(n)
            started = time.perf_counter()
            cur.execute(
                "INSERT INTO telegram_messages (channel_id, message_id, ts, text, source,"
                " parse_status) VALUES (%s, %s, %s, %s, 'user', 'not_signal')",
                (m["channelId"], m["messageId"], m["timestamp"], m["text"]),
            )
            conn.commit()
            latencies.append((time.perf_counter() - started) * 1000)
    conn.close()
    return {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--live-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--registry-refresh", type=int, default=5)
    parser.add_argument("--parts", default="drain,live,backfill,registry")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        workdir = Path(tmp)
        # durable=True: fsync on, as in production, for the api and the baselines alike.
        pg = LocalPg(workdir / "pg", durable=True)
        pg.start()
        drain = direct = live = direct_live = backfill = registry = None
        try:
            if "drain" in parts or "backfill" in parts:
                drain = bench_drain(pg, workdir, args.backlog)
                direct = bench_direct_insert(pg, args.backlog)
            if "live" in parts:
                live = asyncio.run(live_latency(pg, workdir, args.live_seconds, args.rate))
                direct_live = direct_commit_latency(pg, live["sent"])
            if "backfill" in parts:
                backfill = bench_backfill(pg, workdir, args.history)
            if "registry" in parts:
                registry = asyncio.run(registry_latency(pg, workdir, args.registry_refresh))
        finally:
            pg.remove()
    print(
        json.dumps(
            {
                "drain": drain,
                "direct_insert_rate": direct,
                "live": live,
                "direct_commit": direct_live,
                "backfill": backfill,
                "registry": registry,
            },
            default=float,
        ),
        file=sys.stderr,
    )
    print("gateway benchmark (Telegram faked, api and PostgreSQL real, 2 cores)")
    if drain is not None and direct is not None:
        print_drain(drain, direct, args.backlog)
    if live is not None and direct_live is not None:
        print_live(live, direct_live, args.rate)
    if backfill is not None and drain is not None:
        print(
            f"  backfill: {backfill['rows']:,} history messages in {backfill['rows_s']:.1f} s = "
            f"{backfill['rate']:,.0f} msg/s first row to last (target >= 2,000); "
            f"{backfill['rate_from_start']:,.0f} msg/s from the gateway's start"
        )
        print(
            f"    vs. the outbox drain of this run: {backfill['rate'] / drain['rate']:.2f}x; "
            f"CPU: gateway {backfill['gateway_cpu_s']:.1f} s, api {backfill['api_cpu_s']:.1f} s"
        )
    if registry is not None:
        print(
            f"  registry: a channel added with POST /telegram-channels delivered after "
            f"{registry['delivered_after_s']:.1f} s (CHANNEL_REFRESH_SECONDS="
            f"{registry['refresh_s']}; target <= {registry['refresh_s'] + 5} s)"
        )
    return 0


def print_drain(drain: dict, direct: float, backlog: int) -> None:
    print(
        f"  backlog drain: {drain['rows']:,} rows in {drain['drain_s']:.1f} s = "
        f"{drain['rate']:,.0f} msg/s (target >= 2,000)"
    )
    print(
        f"    baseline: direct batched INSERT (500/stmt) into the same database = "
        f"{direct:,.0f} rows/s; gateway drain = {drain['rate'] / direct:.2f}x of it"
    )
    print(
        f"  gateway RSS with a {backlog:,}-entry backlog: {drain['rss_backlog_mb']:.1f} MB, "
        f"peak while draining {drain['rss_peak_mb']:.1f} MB (target < 150 MB); "
        f"outbox file {drain['outbox_mb']:.1f} MB"
    )


def print_live(live: dict, direct_live: dict, rate: float) -> None:
    print(
        f"  live latency event -> committed row at {rate:.0f} msg/s "
        f"({live['count']}/{live['sent']} messages): p50 {live['p50']:.1f} ms, "
        f"p99 {live['p99']:.1f} ms, max {live['max']:.1f} ms (target p99 < 100 ms)"
    )
    print(
        f"    baseline: one INSERT+COMMIT from the client: p50 {direct_live['p50']:.1f} ms, "
        f"p99 {direct_live['p99']:.1f} ms; gateway p50 = {live['p50'] / direct_live['p50']:.1f}x"
    )


if __name__ == "__main__":
    raise SystemExit(main())
