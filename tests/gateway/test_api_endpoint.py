"""API_ENDPOINT: the base URL and the full /ingest URL both work; a wrong one is loud.

Each form and each "wrong configuration" answer is driven through a running
gateway. 404 and 401 come from the real api (a wrong path, a wrong token);
405 and 400-on-the-whole-request cannot be provoked from the real api by a
gateway configuration, so a small HTTP server on loopback stands in for "some
other service at that URL" (a reverse proxy, a static site).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tornado.web

from app.config import ConfigError, DbConfig
from app.gateway.config import parse_endpoints
from app.localpg import free_port
from app.web.server import listen
from tests.gateway.conftest import (
    CHANNEL_ID,
    eventually,
    gateway_config,
    running_gateway,
    stored_counts,
)
from tests.gateway.fake_telegram import FakeTelegram
from tests.support.http import call


@pytest.mark.parametrize("suffix", ["", "/", "/ingest", "/ingest/"])
async def test_each_api_endpoint_form_delivers(
    suffix: str, tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    config = gateway_config(tmp_path, api_url + suffix)
    assert config.endpoints == (api_url,)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        for n in range(3):
            await telegram.post(CHANNEL_ID, f"form {suffix!r} {n}")
        await eventually(lambda: stored_counts(signals_db)[0] == 3)
        health = await call("GET", f"http://127.0.0.1:{config.port}/health")
        assert health.status == 200, health.json


def test_endpoint_forms_are_normalised() -> None:
    assert parse_endpoints(
        ("http://a:4005/ingest", "http://b:4005/", "https://c/tp/ingest/", "http://d/ingest/batch")
    ) == ("http://a:4005", "http://b:4005", "https://c/tp", "http://d")
    with pytest.raises(ConfigError, match="API_ENDPOINT"):
        parse_endpoints(("localhost:4005/ingest",))


class _Answers(tornado.web.RequestHandler):
    def initialize(self, status: int) -> None:
        self.status = status

    def _answer(self, *_: str) -> None:
        self.set_status(self.status)
        self.finish({"error": {"code": "nope", "status": self.status}})

    get = post = _answer


@contextlib.asynccontextmanager
async def other_service(status: int) -> AsyncIterator[str]:
    port = free_port()
    app = tornado.web.Application([(r"/.*", _Answers, {"status": status})])
    server = listen(app, port, "127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


async def assert_loud_and_kept(
    tmp_path: Path,
    telegram: FakeTelegram,
    endpoint: str,
    status: int,
    caplog: pytest.LogCaptureFixture,
    **overrides: str,
) -> None:
    config = gateway_config(tmp_path, endpoint, **overrides)
    url = config.endpoints[0]
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        for n in range(4):
            await telegram.post(CHANNEL_ID, f"kept {n}")

        def counted() -> float:
            value = gateway.registry.get_sample_value(
                "telegram_api_misconfigured_total", {"status": str(status)}
            )
            return value or 0

        await eventually(lambda: counted() >= 1, message=f"misconfigured {status} metric")
        health = await call("GET", f"http://127.0.0.1:{config.port}/health")
        assert health.status == 503
        reason = [r for r in health.json["reasons"] if r.startswith("api: ")]
        assert reason and url in reason[0] and str(status) in reason[0], health.json
        stats = await gateway.outbox.run(gateway.outbox.store.stats)
        # Nothing dead-lettered, nothing lost: everything waits for the operator's fix.
        assert stats.dead == 0 and stats.pending == 4
        assert (
            gateway.registry.get_sample_value(
                "telegram_publish_failures_total", {"reason": "exhausted"}
            )
            == 0
        )
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(url in line and str(status) in line for line in lines), lines


async def test_404_from_a_wrong_path_is_loud_and_keeps_messages(
    tmp_path: Path,
    api_url: str,
    signals_db: DbConfig,
    telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="app.gateway.publisher")
    await assert_loud_and_kept(tmp_path, telegram, api_url + "/api/v1/ingest", 404, caplog)
    # Fixed configuration, same outbox: the kept messages go out.
    async with running_gateway(gateway_config(tmp_path, api_url), telegram):
        await eventually(lambda: stored_counts(signals_db)[0] == 4)


async def test_401_from_a_wrong_token_is_loud_and_keeps_messages(
    tmp_path: Path,
    api_url: str,
    signals_db: DbConfig,
    telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="app.gateway.publisher")
    await assert_loud_and_kept(tmp_path, telegram, api_url, 401, caplog, API_SECRET_TOKEN="w" * 40)
    assert stored_counts(signals_db)[0] == 0


@pytest.mark.parametrize("status", [405, 400])
async def test_405_and_whole_request_400_are_loud_and_keep_messages(
    status: int, tmp_path: Path, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="app.gateway.publisher")
    async with other_service(status) as url:
        await assert_loud_and_kept(tmp_path, telegram, url + "/ingest", status, caplog)
