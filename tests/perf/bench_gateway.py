"""Gateway benchmark: backlog drain, live-path latency, memory. Prints figures.

    .venv/bin/python tests/perf/bench_gateway.py [--backlog 100000] [--live-seconds 20]

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
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        workdir = Path(tmp)
        # durable=True: fsync on, as in production, for the api and the baselines alike.
        pg = LocalPg(workdir / "pg", durable=True)
        pg.start()
        try:
            drain = bench_drain(pg, workdir, args.backlog)
            direct = bench_direct_insert(pg, args.backlog)
            live = asyncio.run(live_latency(pg, workdir, args.live_seconds, args.rate))
            direct_live = direct_commit_latency(pg, live["sent"])
        finally:
            pg.remove()
    print(
        json.dumps(
            {
                "drain": drain,
                "direct_insert_rate": direct,
                "live": live,
                "direct_commit": direct_live,
            },
            default=float,
        ),
        file=sys.stderr,
    )
    print("gateway benchmark (Telegram faked, api and PostgreSQL real, 2 cores)")
    print(
        f"  backlog drain: {drain['rows']:,} rows in {drain['drain_s']:.1f} s = "
        f"{drain['rate']:,.0f} msg/s (target >= 2,000)"
    )
    print(
        f"    baseline: direct batched INSERT (500/stmt) into the same database = "
        f"{direct:,.0f} rows/s; gateway drain = {drain['rate'] / direct:.2f}x of it"
    )
    print(
        f"  live latency event -> committed row at {args.rate:.0f} msg/s "
        f"({live['count']}/{live['sent']} messages): p50 {live['p50']:.1f} ms, "
        f"p99 {live['p99']:.1f} ms, max {live['max']:.1f} ms (target p99 < 100 ms)"
    )
    print(
        f"    baseline: one INSERT+COMMIT from the client: p50 {direct_live['p50']:.1f} ms, "
        f"p99 {direct_live['p99']:.1f} ms; gateway p50 = {live['p50'] / direct_live['p50']:.1f}x"
    )
    print(
        f"  gateway RSS with a {args.backlog:,}-entry backlog: {drain['rss_backlog_mb']:.1f} MB, "
        f"peak while draining {drain['rss_peak_mb']:.1f} MB (target < 150 MB); "
        f"outbox file {drain['outbox_mb']:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
