"""Large batches are parsed in a worker process, with the same outcomes as inline."""

from __future__ import annotations

import os
import signal

import pytest

from app.api.parse_pool import ParsePool, parse_many
from app.config import DbConfig
from app.parsing import Signal
from tests.conftest import GATEWAY_TOKEN
from tests.integration.test_ingest import rows
from tests.support.http import call
from tests.support.messages import message, signal_text
from tests.support.proctree import alive, descendants

TEXTS = [signal_text(f"PETR{i}") for i in range(40)] + ["bom dia", "Alvo 1 atingido ✅"] * 10


async def test_pool_gives_the_inline_outcomes_and_survives_a_dead_worker() -> None:
    pool = ParsePool(1, min_batch=8)
    try:
        assert await pool.parse(TEXTS) == parse_many(TEXTS)
        executor = pool._pool()
        for pid in list(executor._processes):
            os.kill(pid, signal.SIGKILL)
        assert await pool.parse(TEXTS) == parse_many(TEXTS)  # inline this time
        assert await pool.parse(TEXTS) == parse_many(TEXTS)  # a new worker
    finally:
        pool.close()


async def test_small_batches_and_zero_workers_parse_inline() -> None:
    pool = ParsePool(0)
    assert await pool.parse(TEXTS) == parse_many(TEXTS)
    assert pool._executor is None


async def test_a_large_batch_is_stored_like_single_messages(
    api_url: str, signals_db: DbConfig
) -> None:
    batch = [message(i + 1, text) for i, text in enumerate(TEXTS)]
    answer = await call(
        "POST",
        api_url + "/ingest/batch",
        json_body=batch,
        headers={"X-Gateway-Token": GATEWAY_TOKEN},
    )
    assert answer.status == 200, answer.body
    statuses = [r["parse"]["status"] for r in answer.json["results"]]
    assert statuses == ["signal"] * 40 + ["not_signal"] * 20
    assert rows(signals_db, "SELECT count(*) FROM tp_capital_signals") == [(40,)]
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(60,)]


def test_the_api_process_keeps_one_worker(signals_db: DbConfig, tmp_path) -> None:
    """`python -m app api` spawns its worker once; the worker must not rerun the CLI."""
    import json
    import urllib.request

    from tests.conftest import api_env
    from tests.support.api import ApiProcess

    log = tmp_path / "api.log"
    api = ApiProcess(api_env(signals_db, LOG_LEVEL="info"), log_path=log).start()
    try:
        for n in range(3):
            body = json.dumps([message(n * 100 + i + 1, signal_text("A")) for i in range(60)])
            request = urllib.request.Request(
                api.url + "/ingest/batch",
                data=body.encode(),
                headers={"X-Gateway-Token": GATEWAY_TOKEN, "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert json.loads(answer.read())["accepted"] == 60
    finally:
        assert api.stop() == 0
    text = log.read_text()
    assert "parse worker died" not in text
    assert "usage: tpcap" not in text
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(180,)]


def _wait_gone(pids: set[int], timeout: float = 30.0) -> set[int]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


def _api_with_a_busy_worker(signals_db: DbConfig):  # type: ignore[no-untyped-def]
    import json
    import urllib.request

    from tests.conftest import api_env
    from tests.support.api import ApiProcess

    api = ApiProcess(api_env(signals_db, PARSE_WORKERS="1")).start()
    body = json.dumps([message(i + 1, signal_text("A")) for i in range(60)])
    request = urllib.request.Request(
        api.url + "/ingest/batch",
        data=body.encode(),
        headers={"X-Gateway-Token": GATEWAY_TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.loads(answer.read())["accepted"] == 60
    assert api.process is not None
    children = set(descendants(api.process.pid))
    assert children, "the batch should have started a parse worker"
    return api, children


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_no_parse_worker_outlives_the_api(signals_db: DbConfig, sig: int) -> None:
    api, children = _api_with_a_busy_worker(signals_db)
    try:
        api.stop(sig)
        assert _wait_gone(children) == set()
    finally:
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


async def test_workers_use_the_operator_lexicon(tmp_path) -> None:
    """A spawned worker installs PARSER_LEXICON_PATH's words, as the api process does."""
    path = tmp_path / "lexicon.toml"
    path.write_text('[aliases]\n"yellow metal" = "XAUUSD"\n', encoding="utf-8")
    texts = ["Yellow metal BUY 2340\nTP 2352\nSL 2331"] * 8
    pool = ParsePool(1, min_batch=4, lexicon_path=str(path))
    try:
        outcomes = await pool.parse(texts)
    finally:
        pool.close()
    assert [getattr(o, "asset", None) for o in outcomes] == ["XAUUSD"] * 8
    assert all(not isinstance(o, Signal) for o in parse_many(texts))  # not built in
