"""`tpcap api --workers N` as real processes: each copy serves on the one port,
/metrics adds them up, SIGTERM stops them all, and none is left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from app.config import DbConfig
from tests.conftest import GATEWAY_TOKEN, api_env
from tests.support.api import ApiProcess
from tests.support.proctree import alive, descendants, parent

WORKERS = 2


def ingest(url: str, message_id: int) -> dict:
    body = {
        "channelId": -1001234,
        "messageId": message_id,
        "timestamp": "2026-11-20T13:00:00Z",
        "text": "Ativo: PETR4\nCompra: 30,10\nStop: 29,00",
    }
    request = urllib.request.Request(
        url + "/ingest",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Gateway-Token": GATEWAY_TOKEN},
    )
    # urllib opens a new connection per request, so the kernel picks a copy each time.
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def copies(api: ApiProcess) -> list[int]:
    """The supervisor's children: the api copies (their parse workers are below them)."""
    assert api.process is not None
    return [pid for pid in descendants(api.process.pid) if parent(pid) == api.process.pid]


def counter(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return value or 0.0


def one_process_metrics(metrics_dir: Path, pid: int, into: Path) -> CollectorRegistry:
    """What a single copy counted: its own files of the shared directory."""
    into.mkdir()
    for path in metrics_dir.glob(f"*_{pid}.db"):
        shutil.copy(path, into / path.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(into))
    return registry


@pytest.fixture
def workers_api(signals_db: DbConfig, tmp_path: Path) -> Iterator[tuple[ApiProcess, Path]]:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by an earlier run")
    log = tmp_path / "api.log"
    env = api_env(signals_db, LOG_LEVEL="info", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    api = ApiProcess(env, log_path=log, args=("--workers", str(WORKERS))).start()
    wait_until(
        lambda: log.read_text().count('"message": "api listening"') == WORKERS,
        "every copy to listen",
    )
    try:
        yield api, metrics_dir
    finally:
        api.kill()


def test_each_copy_serves_the_port_and_metrics_add_up(
    workers_api: tuple[ApiProcess, Path], tmp_path: Path
) -> None:
    api, metrics_dir = workers_api
    pids = copies(api)
    assert len(pids) == WORKERS
    listening = [
        json.loads(line)
        for line in (tmp_path / "api.log").read_text().splitlines()
        if '"message": "api listening"' in line
    ]
    # each copy froze its start-up heap (the lexicon's tables: tens of thousands of objects)
    assert [entry["frozen_objects"] > 10_000 for entry in listening] == [True] * WORKERS
    assert not (metrics_dir / "counter_1.db").exists(), "stale metrics files are cleared"

    sent = 40
    answers = [ingest(api.url, message_id) for message_id in range(1, sent + 1)]
    assert all(a["status"] == "ok" and not a["duplicate"] for a in answers)
    assert ingest(api.url, 1)["duplicate"] is True  # idempotency holds across copies

    per_copy = [
        counter(
            one_process_metrics(metrics_dir, pid, tmp_path / str(pid)),
            "api_ingestion_requests_total",
            status="stored",
        )
        for pid in pids
    ]
    assert all(count > 0 for count in per_copy), per_copy
    assert sum(per_copy) == sent

    with urllib.request.urlopen(api.url + "/metrics", timeout=10) as answer:
        text = answer.read().decode()
    assert f'api_ingestion_requests_total{{status="stored"}} {float(sent)}' in text
    assert 'api_ingestion_requests_total{status="duplicate"} 1.0' in text
    assert "api_timescaledb_up 1.0" in text


def test_sigterm_stops_every_copy_and_leaves_no_process(
    workers_api: tuple[ApiProcess, Path],
) -> None:
    api, _ = workers_api
    assert api.process is not None
    # A batch large enough for the parse workers, so that they exist too.
    messages = [
        {"channelId": -1005, "messageId": i, "timestamp": "2026-11-20T13:00:00Z", "text": "x"}
        for i in range(1, 65)
    ]
    request = urllib.request.Request(
        api.url + "/ingest/batch",
        data=json.dumps({"messages": messages}).encode(),
        headers={"Content-Type": "application/json", "X-Gateway-Token": GATEWAY_TOKEN},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.loads(answer.read())["accepted"] == 64
    tree = descendants(api.process.pid)
    assert len(tree) > WORKERS

    assert api.stop(signal.SIGTERM) == 0
    wait_until(lambda: not any(alive(pid) for pid in tree), "the copies and their workers to exit")


def test_killed_supervisor_takes_its_copies_along(workers_api: tuple[ApiProcess, Path]) -> None:
    api, _ = workers_api
    assert api.process is not None
    tree = descendants(api.process.pid)
    os.kill(api.process.pid, signal.SIGKILL)
    api.process.wait()
    wait_until(lambda: not any(alive(pid) for pid in tree), "the orphaned copies to exit")


def test_a_copy_that_dies_stops_the_set_with_an_error(
    workers_api: tuple[ApiProcess, Path],
) -> None:
    api, _ = workers_api
    assert api.process is not None
    tree = descendants(api.process.pid)
    os.kill(copies(api)[0], signal.SIGKILL)
    assert api.process.wait(timeout=30) != 0
    wait_until(lambda: not any(alive(pid) for pid in tree), "the other copies to exit")


@pytest.mark.parametrize("setting", [("--workers", "0"), ("API_WORKERS", "0")])
def test_zero_workers_is_a_configuration_error(
    signals_db: DbConfig, tmp_path: Path, setting: tuple[str, str]
) -> None:
    name, value = setting
    env = api_env(signals_db, **({name: value} if name.isupper() else {}))
    log = tmp_path / "api.log"
    api = ApiProcess(env, log_path=log, args=setting if name.startswith("--") else ())
    api.start(wait=False)
    assert api.process is not None
    assert api.process.wait(timeout=30) == 2
    assert "configuration error" in log.read_text()
