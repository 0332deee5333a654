"""Memory of the api under oversized unauthenticated posts (issue 10, bug 5).

    .venv/bin/python tests/perf/bench_oversized_posts.py [--clients 8] [--mib 60]

Starts its own PostgreSQL and a real `tpcap api` process, then sends N
parallel posts of M MiB without credentials to /ingest/batch, first with a
declared Content-Length, then chunked, and prints the api's RSS and peak RSS
(VmRSS, VmHWM from /proc) around each wave, with the statuses and how much of each body the
server let the client send before it answered and closed. Nothing here
asserts (tests/integration/test_http_limits.py does).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.config import DbConfig  # noqa: E402
from app.localpg import LocalPg  # noqa: E402
from app.migrate import migrate  # noqa: E402
from tests.support.api import ApiProcess  # noqa: E402
from tests.support.flood import (  # noqa: E402
    MIB,
    parallel_oversized_posts,
    peak_rss_bytes,
    rss_bytes,
)

TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--mib", type=int, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tpcap-bench-oversized-"))
    pg = LocalPg(work / "pg")
    pg.start()
    api = None
    try:
        db = DbConfig(pg.host, pg.port, "bench", "postgres", None, "tp_capital")
        migrate(db, "signals")
        env = {**pg.env("bench"), "GATEWAY_SECRET_TOKEN": TOKEN, "LOG_LEVEL": "warning"}
        api = ApiProcess(env).start()
        pid = api.process.pid  # type: ignore[union-attr]
        json_only = {"Content-Type": "application/json"}
        parallel_oversized_posts(api.port, "/ingest/batch", json_only, 64 * 1024, clients=2)
        print(f"{'wave':<34} {'RSS before':>11} {'RSS after':>10} {'peak':>10}  statuses")
        for chunked in (False, True):
            before = rss_bytes(pid)
            peak_before = peak_rss_bytes(pid)
            started = time.perf_counter()
            results = parallel_oversized_posts(
                api.port, "/ingest/batch", json_only, args.mib * MIB, args.clients, chunked
            )
            elapsed = time.perf_counter() - started
            after = rss_bytes(pid)
            peak = peak_rss_bytes(pid)
            statuses = Counter(status for status, _ in results)
            sent = max(sent for _, sent in results)
            name = f"{args.clients} x {args.mib} MiB, {'chunked' if chunked else 'declared'}"
            print(
                f"{name:<34} {before / MIB:>8.1f} MiB {after / MIB:>7.1f} MiB"
                f" {peak / MIB:>7.1f} MiB  {dict(statuses)}"
                f" (at most {sent / MIB:.2f} MiB pushed per client, {elapsed:.1f} s)"
            )
            print(f"{'':<34} peak before the wave: {peak_before / MIB:.1f} MiB")
        print("target: no growth of the peak beyond a few MiB (before the fix: ~1 GB)")
    finally:
        if api is not None:
            api.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
