"""Workspace throughput: list and create over real HTTP, against baselines.

A script, not a test (pytest does not collect it):

    .venv/bin/python tests/perf/bench_workspace.py [--seconds 5] [--concurrency 16]

It starts its own PostgreSQL (app.localpg.LocalPg in a temporary folder),
migrates and seeds a workspace database, runs `tpcap workspace` as a child
process, and drives it with keep-alive HTTP/1.1 connections from this
process. The same statements the service runs are then driven directly:

* pgbench (C, the database's ceiling for these statements), and
* the service's own store functions over aiopg, without HTTP (what the
  Python database path costs before Tornado, validation and JSON).

Every figure is req/s with p50/p99 latency; the ratio compares the HTTP
service with each baseline in the same run, on the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import psycopg2  # noqa: E402

from app.config import DbConfig  # noqa: E402
from app.db import create_pool  # noqa: E402
from app.localpg import LocalPg, free_port  # noqa: E402
from app.migrate import migrate  # noqa: E402
from app.workspace.store import items as item_store  # noqa: E402

API_KEY = "bench-workspace-key-0123456789"
DATABASE = "bench_workspace"
SEED_ITEMS = 5000
LIST_PATH = "/api/items?status=new&limit=50"
ITEM_BODY = {
    "title": "Bench item",
    "description": "Created by the benchmark",
    "category": "dashboard",
    "tags": ["bench"],
    "metadata": {"n": 1},
}
ITEM_COLUMNS = item_store.ITEM_COLUMNS
LIST_SQL = (
    f"SELECT {ITEM_COLUMNS}, count(*) OVER () AS total FROM workspace_items"
    " WHERE status = ANY('{{new}}') ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET 0;\n"
)
CREATE_SQL = f"""BEGIN;
SELECT set_config('workspace.actor', 'bench', true), set_config('workspace.source', 'api', true), set_config('workspace.request_id', '', true);
INSERT INTO workspace_items (title, description, category, priority, status, tags, metadata, created_by, updated_by) SELECT 'Bench item', 'Created by the benchmark', c.name, 'medium', 'new', ARRAY['bench']::text[], '{{"n": 1}}'::jsonb, 'bench', 'bench' FROM workspace_categories c WHERE c.name = 'dashboard' AND c.is_active FOR SHARE OF c RETURNING {ITEM_COLUMNS};
COMMIT;
"""  # noqa: E501


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"  {self.name:<28} {self.rate:>9,.0f} req/s   p50 {self.percentile(50):>7.2f} ms"
            f"   p99 {self.percentile(99):>7.2f} ms   errors {self.errors}"
        )


# -- HTTP load ------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def http_load(
    port: int, request: bytes, expect: int, concurrency: int, seconds: float, name: str
) -> Result:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def worker(deadline: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(request)
                status, _ = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(time.perf_counter() + 1.0) for _ in range(concurrency)))
    latencies.clear()
    statuses.clear()
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    errors = sum(count for status, count in statuses.items() if status != expect)
    return Result(name, sum(statuses.values()), elapsed, latencies, errors)


def http_request(method: str, path: str, body: dict | None = None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: keep-alive",
        f"X-API-Key: {API_KEY}",
        "X-User: bench",
    ]
    if body is not None:
        headers += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + payload


# -- baselines ------------------------------------------------------------------------


def pgbench(pg: LocalPg, script: str, concurrency: int, seconds: float, name: str) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        script_path = Path(folder) / "script.sql"
        script_path.write_text(script)
        base = [
            str(pg.bindir / "pgbench"),
            "-h",
            pg.host,
            "-p",
            str(pg.port),
            "-U",
            "postgres",
            "-n",
            "-c",
            str(concurrency),
            "-j",
            "2",
            "-f",
            str(script_path),
            DATABASE,
        ]
        env = {**os.environ, "PGOPTIONS": "-c search_path=workspace,public"}
        subprocess.run([*base, "-T", "1"], env=env, check=True, capture_output=True)
        prefix = Path(folder) / "log"
        started = time.perf_counter()
        done = subprocess.run(
            [*base, "-T", str(int(seconds)), "-l", f"--log-prefix={prefix}"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        latencies: list[float] = []
        failed = 0
        for log in Path(folder).glob("log*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if fields[2] == "failed" or fields[2] == "skipped":
                    failed += 1
                else:
                    latencies.append(int(fields[2]) / 1e6)
    tps = next(
        (
            float(line.split("=")[1].split()[0])
            for line in done.stdout.splitlines()
            if line.startswith("tps")
        ),
        None,
    )
    result = Result(name, len(latencies), elapsed, latencies, failed)
    if tps is not None:  # pgbench's own measure excludes its connection set-up
        result.seconds = len(latencies) / tps
    return result


async def store_load(
    db: DbConfig,
    call: Callable[[object], Awaitable[object]],
    concurrency: int,
    seconds: float,
    name: str,
) -> Result:
    pool = await create_pool(db, minsize=concurrency, maxsize=concurrency)
    latencies: list[float] = []

    async def worker(deadline: float, keep: bool) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(pool)
            if keep:
                latencies.append(time.perf_counter() - started)

    try:
        await asyncio.gather(
            *(worker(time.perf_counter() + 1.0, False) for _ in range(concurrency))
        )
        started = time.perf_counter()
        await asyncio.gather(*(worker(started + seconds, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        pool.close()
        await pool.wait_closed()
    return Result(name, len(latencies), elapsed, latencies)


# -- set-up ---------------------------------------------------------------------------


def seed(db: DbConfig) -> None:
    migrate(db, "workspace")
    rows = [
        {
            "id": f"item-{1700000000000 + i}-{i:06d}",
            "title": f"Seed item {i}",
            "description": "Seeded for the benchmark",
            "category": ("documentacao", "dashboard", "banco-dados")[i % 3],
            "priority": ("low", "medium", "high", "critical")[i % 4],
            "status": ("new", "review", "in-progress", "completed", "rejected")[i % 5],
            "created_at": "2024-01-01T00:00:00Z",
        }
        for i in range(SEED_ITEMS)
    ]
    conn = psycopg2.connect(db.dsn())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO workspace_items (id, title, description, category, priority, status,"
                " created_at, updated_at) SELECT id, title, description, category, priority,"
                " status, created_at + random() * interval '300 days', created_at"
                " FROM jsonb_to_recordset(%s::jsonb) AS x(id text, title text, description text,"
                " category text, priority text, status text, created_at timestamptz)",
                (json.dumps(rows),),
            )
            cur.execute("ANALYZE workspace_items")
    finally:
        conn.close()


def start_service(pg: LocalPg, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PORT": str(port),
        "TIMESCALEDB_HOST": pg.host,
        "TIMESCALEDB_PORT": str(pg.port),
        "TIMESCALEDB_DATABASE": DATABASE,
        "TIMESCALEDB_USER": "postgres",
        "WORKSPACE_API_KEY": API_KEY,
        "RATE_LIMIT_MAX": "1000000000",
        "LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "workspace", "--address", "127.0.0.1"],
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"workspace exited with {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise TimeoutError("workspace did not start")


async def run_all(
    pg: LocalPg, port: int, args: argparse.Namespace
) -> list[tuple[str, list[Result]]]:
    db = DbConfig(pg.host, pg.port, DATABASE, "postgres", None, "workspace")
    c, s = args.concurrency, args.seconds
    body = dict(ITEM_BODY)

    async def store_list(pool: object) -> object:
        return await item_store.list_items(pool, item_store.ItemFilters(status=["new"], limit=50))

    async def store_create(pool: object) -> object:
        data = {**body, "priority": "medium", "status": "new"}
        return await item_store.create_item(pool, data, "bench", None)

    list_results = [
        await http_load(port, http_request("GET", LIST_PATH), 200, c, s, "http GET list"),
        await store_load(db, store_list, c, s, "store (aiopg, no HTTP)"),
        pgbench(pg, LIST_SQL, c, s, "pgbench, same SELECT"),
    ]
    create_results = [
        await http_load(
            port, http_request("POST", "/api/items", body), 201, c, s, "http POST create"
        ),
        await store_load(db, store_create, c, s, "store (aiopg, no HTTP)"),
        pgbench(pg, CREATE_SQL, c, s, "pgbench, same transaction"),
    ]
    return [("list (status=new, limit=50)", list_results), ("create", create_results)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--durable", action="store_true", help="fsync on (default: off)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-workspace-") as folder:
        pg = LocalPg(Path(folder) / "data", durable=args.durable)
        pg.start()
        service = None
        try:
            seed(DbConfig(pg.host, pg.port, DATABASE, "postgres", None, "workspace"))
            port = free_port()
            service = start_service(pg, port, Path(folder) / "workspace.log")
            sections = asyncio.run(run_all(pg, port, args))
        finally:
            if service is not None:
                service.terminate()
                service.wait(15)
            pg.remove()

    print(
        f"workspace benchmark: {os.cpu_count()} CPU(s), {args.concurrency} concurrent clients,"
        f" {args.seconds:g} s per run, {SEED_ITEMS} seeded items,"
        f" PostgreSQL fsync {'on' if args.durable else 'off'}"
    )
    for title, results in sections:
        print(title)
        for result in results:
            print(result.line())
        service = results[0]
        for baseline in results[1:]:
            ratio = service.rate / baseline.rate if baseline.rate else float("nan")
            p50 = service.percentile(50) / baseline.percentile(50)
            print(f"  ratio http / {baseline.name:<24} throughput {ratio:5.2f}   p50 x{p50:4.1f}")
    failures = sum(r.errors for _, results in sections for r in results)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
