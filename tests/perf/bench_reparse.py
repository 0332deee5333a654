"""`tpcap reparse` benchmark: CPU per message, and memory as the table grows.

    .venv/bin/python tests/perf/bench_reparse.py [--sizes 2000,20000]

Starts its own PostgreSQL, fills `telegram_messages` with N stored messages
(half TP Capital signals stored as "not_signal", as an older parser would
have left them; half chatter), runs the real `tpcap reparse --json` process
on them, and prints its CPU time (user + system, from wait4), its peak RSS,
and, as the baseline measured in the same run, the CPU time of parse_signal
alone on the same texts. Memory should not grow with N (batches of 500);
nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.config import DbConfig  # noqa: E402
from app.localpg import LocalPg  # noqa: E402
from app.migrate import migrate  # noqa: E402
from app.parsing import parse_signal  # noqa: E402

FILL = """
INSERT INTO telegram_messages (channel_id, message_id, ts, text, channel_name, parse_status)
SELECT -1001, g, timestamptz '2026-01-01' + g * interval '1 second',
       CASE WHEN g %% 2 = 0
            THEN E'🟢Swing Trade\\n\\nAtivo: PETR' || (g %% 1000) || E'\\nCompra: 1,04 a 1,06'
                 || E'\\nAlvo 1: 1,15\\nAlvo 2: 2,15\\nAlvo final: 3,00\\nStop: 0,80'
            ELSE 'bom dia, pessoal! mercado abrindo ' || g END,
       'bench', 'not_signal'
FROM generate_series(1, %s) AS g
"""


def texts(n: int) -> list[str]:
    return [
        (
            f"🟢Swing Trade\n\nAtivo: PETR{g % 1000}\nCompra: 1,04 a 1,06"
            "\nAlvo 1: 1,15\nAlvo 2: 2,15\nAlvo final: 3,00\nStop: 0,80"
        )
        if g % 2 == 0
        else f"bom dia, pessoal! mercado abrindo {g}"
        for g in range(1, n + 1)
    ]


def run_cli(env: dict[str, str], *args: str) -> tuple[dict, float, float, float]:
    """(summary, wall s, cpu s, peak RSS MiB) of one `tpcap reparse` process."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "reparse", "--json", "--progress", "never", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out = process.stdout.read()  # type: ignore[union-attr]
    err = process.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"tpcap reparse failed: {err.decode()}")
    return json.loads(out), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,20000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="tpcap-bench-reparse-"))
    pg = LocalPg(folder / "data", durable=False)
    pg.start()
    try:
        print(
            f"{'messages':>9} {'run':>8} {'wall s':>7} {'cpu s':>6} {'µs/msg':>7} "
            f"{'parse-only µs/msg':>17} {'ratio':>5} {'peak RSS MiB':>12}"
        )
        for n in sizes:
            name = f"bench_{n}"
            pg.psql(f"CREATE DATABASE {name}")
            db = DbConfig(pg.host, pg.port, name, "postgres", None, "tp_capital")
            migrate(db, "signals")
            pg.psql(f"SET search_path = tp_capital; {FILL % n}", database=name)
            env = {
                **os.environ,
                **pg.env(name),
                "TIMESCALEDB_SCHEMA": "tp_capital",
                "PYTHONPATH": str(REPO),
                "LOG_LEVEL": "warning",
            }
            sample = texts(n)
            cpu0 = time.process_time()
            for text in sample:
                parse_signal(text)
            parse_us = (time.process_time() - cpu0) / n * 1e6
            for label, extra in (("dry-run", ("--dry-run",)), ("real", ())):
                summary, wall, cpu, rss = run_cli(env, *extra)
                assert summary["scanned"] == n, summary
                per = cpu / n * 1e6
                print(
                    f"{n:>9} {label:>8} {wall:>7.2f} {cpu:>6.2f} {per:>7.0f} "
                    f"{parse_us:>17.0f} {per / parse_us:>5.1f} {rss:>12.0f}"
                )
    finally:
        pg.remove()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
