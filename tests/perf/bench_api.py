# ruff: noqa: E501  (embedded SQL and Lua are kept on one line each)
"""Api benchmark: each figure as a ratio to pgbench against the same database
in the same run (a plain single-row INSERT, and the api's own statement), with
the api's CPU time per message read from /proc.

    .venv/bin/python tests/perf/bench_api.py [--seconds 8]

Starts its own durable PostgreSQL (fsync on, as in production) and a real
`tpcap api` process, drives it with wrk (apt-get install wrk) over loopback,
and prints a table. Nothing here asserts: the targets are printed next to
the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.config import DbConfig  # noqa: E402
from app.localpg import LocalPg, free_port  # noqa: E402
from app.migrate import migrate  # noqa: E402
from tests.support.api import ApiProcess  # noqa: E402
from tests.support.proctree import tree_cpu_seconds  # noqa: E402

TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"
TEXT = (
    "🟢Swing Trade\\n\\nAtivo: BOVAW32\\nCompra: 1,04 a 1,06\\nAlvo 1: 1,15\\n"
    "Alvo 2: 2,15\\nAlvo final: 3,00\\nStop: 0,80"
)

# The api's own ingest statement for one message, with pgbench's :id.
PGBENCH_INGEST = r"""
\set id random(1, 2000000000)
WITH input AS (SELECT * FROM jsonb_to_recordset(('[{"idx":0,"channel_id":-1009,"message_id":' || :id || ',"ts":"2026-11-20T13:00:00+00:00","text":"Swing Trade Ativo: BOVAW32","channel_name":"bench","edit_date":null,"source":"user","forwarded_to":null,"parse_status":"signal","parse_reason":null,"is_signal":true,"asset":"BOVAW32","signal_type":"Swing Trade","side":"buy","buy_min":"1.04","buy_max":"1.06","target_1":"1.15","target_2":"2.15","target_final":"3.00","targets":["1.15","2.15","3.00"],"stop":"0.80"}]')::jsonb) AS x(idx int, channel_id bigint, message_id bigint, ts timestamptz, text text, channel_name text, edit_date timestamptz, source text, forwarded_to jsonb, parse_status text, parse_reason text, is_signal boolean, asset text, signal_type text, side text, buy_min numeric, buy_max numeric, target_1 numeric, target_2 numeric, target_final numeric, targets numeric[], stop numeric)),
msg AS (INSERT INTO telegram_messages AS m (channel_id, message_id, ts, text, channel_name, edit_date, source, forwarded_to, parse_status, parse_reason) SELECT channel_id, message_id, ts, text, channel_name, edit_date, source, forwarded_to, parse_status, parse_reason FROM input ON CONFLICT (channel_id, message_id, ts) DO NOTHING RETURNING m.channel_id, m.message_id, m.ts),
sig AS (INSERT INTO tp_capital_signals (channel_id, message_id, ts, channel_name, source, asset, signal_type, side, buy_min, buy_max, target_1, target_2, target_final, targets, stop, raw_message) SELECT i.channel_id, i.message_id, i.ts, i.channel_name, i.source, i.asset, i.signal_type, i.side, i.buy_min, i.buy_max, i.target_1, i.target_2, i.target_final, i.targets, i.stop, i.text FROM input i JOIN msg USING (channel_id, message_id, ts) ON CONFLICT DO NOTHING RETURNING id)
SELECT (SELECT count(*) FROM msg), (SELECT count(*) FROM sig);
""".replace("\n", " ").replace(
    r"\set id random(1, 2000000000) ", "\\set id random(1, 2000000000)\n"
)

PGBENCH_SINGLE_ROW = r"""
\set id random(1, 2000000000)
INSERT INTO telegram_messages (channel_id, message_id, ts, text, parse_status) VALUES (-1008, :id, '2026-11-20T13:00:00+00:00', 'x', 'not_signal') ON CONFLICT DO NOTHING;
"""

PGBENCH_SELECT = """SELECT id, channel_id, channel_name, message_id, ts, asset, signal_type, side, buy_min, buy_max, target_1, target_2, target_final, targets, stop, raw_message, source, version, created_at, updated_at FROM tp_capital_signals ORDER BY ts DESC, id DESC LIMIT 51;
"""

# Message ids: every run gets a fresh range from its first argument (wrk's Lua
# random numbers are not seeded, so they would repeat across runs and turn
# later runs into duplicates), every wrk thread a slice of it.
WRK_IDS = """
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local counter = 0
local base = 0
function init(args)
  base = tonumber(args[1]) + tid * 100000000
end
"""

WRK_INGEST = (
    WRK_IDS
    + """
request = function()
  counter = counter + 1
  local body = string.format(
    '{"channelId": -1001234567890, "messageId": %d, "timestamp": "2026-11-20T13:00:00Z", "text": "TEXT", "channelName": "bench"}',
    base + counter)
  return wrk.format("POST", "/ingest", {["Content-Type"] = "application/json", ["X-Gateway-Token"] = "TOKEN"}, body)
end
""".replace("TEXT", TEXT.replace("\\", "\\\\")).replace("TOKEN", TOKEN)
)

WRK_BATCH = (
    WRK_IDS
    + """
request = function()
  local parts = {}
  for i = 1, 500 do
    counter = counter + 1
    parts[i] = string.format(
      '{"channelId": -1002222222222, "messageId": %d, "timestamp": "2026-11-20T13:00:00Z", "text": "TEXT"}',
      base + counter)
  end
  local body = '{"messages": [' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/ingest/batch", {["Content-Type"] = "application/json", ["X-Gateway-Token"] = "TOKEN"}, body)
end
""".replace("TEXT", TEXT.replace("\\", "\\\\")).replace("TOKEN", TOKEN)
)


def pgbench(pg: LocalPg, script: Path, clients: int, seconds: int) -> float:
    command = [
        str(pg.bindir / "pgbench"),
        "-n",
        "-h",
        pg.host,
        "-p",
        str(pg.port),
        "-U",
        "postgres",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(seconds),
        "-f",
        str(script),
        "bench",
    ]
    env = {**os.environ, "PGOPTIONS": "-c search_path=tp_capital,public"}
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    assert match, out
    return float(match.group(1))


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


_runs = itertools.count(int(time.time()) % 1000 * 100)


def wrk(url: str, script: Path, clients: int, seconds: int) -> dict[str, float]:
    """wrk's figures; the script gets a message-id range no other run of this process uses."""
    command = [
        "wrk",
        "-c",
        str(clients),
        "-t",
        str(min(clients, 2)),
        "-d",
        f"{seconds}s",
        "--latency",
        "--timeout",
        "30s",  # a 500-message batch may take longer than wrk's 2 s default
        "-s",
        str(script),
        url,
        "--",
        str(next(_runs) * 10_000_000_000),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {
        p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p50": lat.get("50", float("nan")),
        "p99": lat.get("99", float("nan")),
        "non2xx": float(errors.group(1)) if errors else 0.0,
    }


async def fixed_rate(url: str, rate: int, seconds: int) -> list[float]:
    """Open-loop load: one request every 1/rate s, whatever the answers do."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    AsyncHTTPClient.configure(None, max_clients=200)
    client = AsyncHTTPClient()
    latencies: list[float] = []
    base = int(time.time() * 1000) * 1000

    async def one(i: int) -> None:
        body = json.dumps(
            {
                "channelId": -1003333333333,
                "messageId": base + i,
                "timestamp": "2026-11-20T13:00:00Z",
                "text": TEXT.replace("\\n", "\n"),
            }
        )
        started = time.perf_counter()
        answer = await client.fetch(
            HTTPRequest(
                url + "/ingest",
                method="POST",
                body=body,
                headers={"Content-Type": "application/json", "X-Gateway-Token": TOKEN},
            ),
            raise_error=False,
        )
        if answer.code == 200:
            latencies.append((time.perf_counter() - started) * 1000)

    tasks = []
    start = time.perf_counter()
    for i in range(rate * seconds):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i)))
    await asyncio.gather(*tasks)
    return latencies


def settle(pid: int, step: float = 0.25, limit: float = 60.0) -> None:
    """Wait until the process tree is idle: a server is still answering the requests
    wrk gave up on (a queue of 500-message batches takes seconds), and that work
    belongs to this run's figures, not to the next run's."""
    last = tree_cpu_seconds(pid)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(step)
        now = tree_cpu_seconds(pid)
        if now - last < 0.01 * step:
            return
        last = now


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else float("nan")


class Api:
    """A running `tpcap api` and what it costs: messages stored and CPU used per run."""

    def __init__(self, pg: LocalPg, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.pg = pg
        self.process = ApiProcess(env, args=args).start()
        self.url = self.process.url

    def stored(self) -> int:
        return int(self.pg.psql("SELECT count(*) FROM tp_capital.telegram_messages", "bench"))

    def cpu(self) -> float:
        assert self.process.process is not None
        return tree_cpu_seconds(self.process.process.pid)

    def load(self, path: str, script: Path, clients: int, seconds: int) -> dict[str, float]:
        """wrk against the api, with the api's CPU ms per stored message (or per request)."""
        stored, cpu = self.stored(), self.cpu()
        got = wrk(self.url + path, script, clients, seconds)
        in_window = self.stored() - stored  # rows/s counts what was stored while wrk ran
        assert self.process.process is not None
        settle(self.process.process.pid)
        used = self.cpu() - cpu
        messages = self.stored() - stored or got["rate"] * seconds
        got["cpu_ms"] = used * 1000 / messages
        got["messages"] = in_window or got["rate"] * seconds
        return got

    def stop(self) -> None:
        self.process.stop()


class Floor:
    """tests/perf/floor_server.py: plain Tornado (and aiopg) handlers doing nothing else."""

    def __init__(self, db: DbConfig) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        server = Path(__file__).with_name("floor_server.py")
        self.process = subprocess.Popen(
            [sys.executable, str(server), str(self.port), db.dsn()],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdout.readline()

    def load(self, path: str, script: Path, clients: int, seconds: int) -> dict[str, float]:
        """wrk against a floor route, with its CPU ms per request."""
        cpu = tree_cpu_seconds(self.process.pid)
        got = wrk(self.url + path, script, clients, seconds)
        settle(self.process.pid)
        got["cpu_ms"] = (tree_cpu_seconds(self.process.pid) - cpu) * 1000 / (got["rate"] * seconds)
        return got

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def floor_row(label: str, got: dict[str, float], single: float) -> str:
    return (
        f"{label:<28} {got['rate']:>8.0f} req/s | pgbench single-row {single:>6.0f} tps -> "
        f"{got['rate'] / single:.2f} | p50 {got['p50']:.2f} ms p99 {got['p99']:.2f} ms | "
        f"cpu {got['cpu_ms']:.3f} ms/req | non-2xx {got['non2xx']:.0f}"
    )


def ingest_row(label: str, got: dict[str, float], single: float, same: float) -> str:
    return (
        f"{label:<28} {got['rate']:>8.0f} msg/s | pgbench single-row {single:>6.0f} tps -> "
        f"{got['rate'] / single:.2f} (target >= 0.30) | same SQL {same:>6.0f} tps -> "
        f"{got['rate'] / same:.2f} | p50 {got['p50']:.2f} ms p99 {got['p99']:.2f} ms | "
        f"cpu {got['cpu_ms']:.3f} ms/msg (target <= 0.40) | non-2xx {got['non2xx']:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument(
        "--workers",
        default="1,2",
        help="api process counts for the scaling rows ('' skips them; needs `api --workers`)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_api: wrk is needed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="tpcap-bench-"))
    pg = LocalPg(work / "pg", durable=True)
    pg.start()
    db = DbConfig(pg.host, pg.port, "bench", "postgres", None, "tp_capital")
    migrate(db, "signals")
    scripts = {
        name: work / name
        for name in (
            "ingest.sql",
            "single.sql",
            "select.sql",
            "ingest.lua",
            "batch.lua",
            "get.lua",
            "http.lua",
            "db.lua",
        )
    }
    scripts["ingest.sql"].write_text(PGBENCH_INGEST)
    scripts["single.sql"].write_text(PGBENCH_SINGLE_ROW)
    scripts["select.sql"].write_text(PGBENCH_SELECT)
    scripts["ingest.lua"].write_text(WRK_INGEST)
    scripts["batch.lua"].write_text(WRK_BATCH)
    scripts["get.lua"].write_text("")
    # The floors get the same request (body, headers) as POST /ingest.
    scripts["http.lua"].write_text(WRK_INGEST.replace('"/ingest"', '"/floor/http"'))
    scripts["db.lua"].write_text(WRK_INGEST.replace('"/ingest"', '"/floor/db"'))
    env = {
        **pg.env("bench"),
        "GATEWAY_SECRET_TOKEN": TOKEN,
        "LOG_LEVEL": "warning",
        "DB_POOL_MAX": "40",
        "RATE_LIMIT_MAX": "100000000",
        "INGEST_RATE_LIMIT_MAX": "100000000",
    }
    s = args.seconds
    rows: list[str] = []
    floors: list[str] = []
    api = Api(pg, env)
    floor = Floor(db)
    try:
        wrk(api.url + "/ingest", scripts["ingest.lua"], 8, 2)  # warm-up
        wrk(floor.url + "/floor/db", scripts["db.lua"], 8, 2)
        for clients in (1, 8, 32):
            single = pgbench(pg, scripts["single.sql"], clients, s)
            same = pgbench(pg, scripts["ingest.sql"], clients, s)
            got = api.load("/ingest", scripts["ingest.lua"], clients, s)
            rows.append(ingest_row(f"POST /ingest c={clients}", got, single, same))
            bare = floor.load("/floor/http", scripts["http.lua"], clients, s)
            floors.append(floor_row(f"Tornado POST c={clients}", bare, single))
            bare = floor.load("/floor/db", scripts["db.lua"], clients, s)
            floors.append(floor_row(f"+ aiopg SELECT 1 c={clients}", bare, single))
        single = pgbench(pg, scripts["single.sql"], 8, s)
        batch = api.load("/ingest/batch", scripts["batch.lua"], 8, s)
        rows.append(
            f"{'POST /ingest/batch c=8 x500':<28} {batch['messages'] / s:>8.0f} rows/s | "
            f"pgbench single-row c=8 {single:.0f} tps -> {batch['messages'] / s / single:.2f} "
            f"(target >= 1.5) | p50 {batch['p50']:.1f} ms p99 {batch['p99']:.1f} ms | "
            f"cpu {batch['cpu_ms']:.3f} ms/msg"
        )
        select_base = pgbench(pg, scripts["select.sql"], 8, s)
        reads = api.load("/signals?limit=50", scripts["get.lua"], 8, s)
        rows.append(
            f"{'GET /signals?limit=50 c=8':<28} {reads['rate']:>8.0f} req/s | "
            f"pgbench same SELECT {select_base:.0f} tps -> {reads['rate'] / select_base:.2f} "
            f"(target >= 0.25) | p50 {reads['p50']:.2f} ms p99 {reads['p99']:.2f} ms | "
            f"cpu {reads['cpu_ms']:.3f} ms/req"
        )
        bare = floor.load("/floor/signals", scripts["get.lua"], 8, s)
        floors.append(
            f"{'same query, bare handler c=8':<28} {bare['rate']:>8.0f} req/s | "
            f"pgbench same SELECT {select_base:.0f} tps -> {bare['rate'] / select_base:.2f} | "
            f"p50 {bare['p50']:.2f} ms p99 {bare['p99']:.2f} ms | cpu {bare['cpu_ms']:.3f} ms/req"
        )
        latencies = asyncio.run(fixed_rate(api.url, 100, max(s, 10)))
        rows.append(
            f"{'POST /ingest at 100 req/s':<28} {len(latencies):>8} ok | "
            f"p50 {pct(latencies, 50):.2f} ms p99 {pct(latencies, 99):.2f} ms (target p99 < 10 ms)"
        )
    finally:
        api.stop()
        floor.stop()
    try:
        for workers in filter(None, args.workers.split(",")):
            api = Api(pg, env, ("--workers", workers))
            try:
                wrk(api.url + "/ingest", scripts["ingest.lua"], 8, 2)  # warm-up
                single = pgbench(pg, scripts["single.sql"], 32, s)
                same = pgbench(pg, scripts["ingest.sql"], 32, s)
                got = api.load("/ingest", scripts["ingest.lua"], 32, s)
                rows.append(ingest_row(f"--workers {workers} /ingest c=32", got, single, same))
            finally:
                api.stop()
    finally:
        pg.remove()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\napi benchmark ({os.cpu_count()} cores, durable PostgreSQL, {s}s per run)")
    print("cpu = utime+stime of the api's processes over the run / messages stored")
    for row in rows:
        print("  " + row)
    print("the stack's floor: plain Tornado handlers on uvloop (tests/perf/floor_server.py),")
    print("same requests, same database, no validation, parsing or storing")
    for row in floors:
        print("  " + row)


if __name__ == "__main__":
    main()
