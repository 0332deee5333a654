"""Serving a Tornado application until SIGTERM/SIGINT, then shutting down in order."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

import tornado.httpserver
import tornado.web

log = logging.getLogger(__name__)


def listen(
    app: tornado.web.Application,
    port: int,
    address: str = "",
    *,
    xheaders: bool = False,
    reuse_port: bool = False,
) -> tornado.httpserver.HTTPServer:
    # Bodies above each handler's own limit are answered 413 by the handler;
    # the server limit only stops absurd uploads from being buffered at all.
    server = tornado.httpserver.HTTPServer(
        app, xheaders=xheaders, max_body_size=64 * 1024 * 1024, idle_connection_timeout=75
    )
    server.listen(port, address, reuse_port=reuse_port)
    return server


async def wait_for_stop_signal() -> str:
    loop = asyncio.get_running_loop()
    stopped: asyncio.Future[str] = loop.create_future()

    def _on_signal(name: str) -> None:
        if not stopped.done():
            stopped.set_result(name)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _on_signal, sig.name)
    try:
        return await stopped
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def graceful_shutdown(
    server: tornado.httpserver.HTTPServer,
    cleanups: list[Callable[[], Awaitable[None]]],
    drain_seconds: float = 5.0,
) -> None:
    """Stop accepting, let in-flight requests finish, then run cleanups in order."""
    server.stop()
    inflight = server.request_callback.settings.setdefault("inflight", [0])  # type: ignore[union-attr]
    deadline = asyncio.get_running_loop().time() + drain_seconds
    while inflight[0] > 0 and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(server.close_all_connections(), drain_seconds)
    except TimeoutError:
        log.warning("connections still open after drain period; closing anyway")
    for cleanup in cleanups:
        try:
            await cleanup()
        except Exception:
            log.exception("error during shutdown")
