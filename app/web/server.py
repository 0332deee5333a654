"""Serving a Tornado application until SIGTERM/SIGINT, then shutting down in order."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import tornado.httpserver
import tornado.iostream
import tornado.web
from tornado.ioloop import IOLoop

from app.config import Env

log = logging.getLogger(__name__)

# The largest body any route takes (POST /ingest/batch); handlers refuse theirs earlier.
LARGEST_BODY = 16 * 1024 * 1024
_BUSY_BODY = (
    b'{"error":{"code":"too_many_connections","message":"connection limit reached",'
    b'"status":503}}'
)
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(_BUSY_BODY)
) + _BUSY_BODY


@dataclass(frozen=True)
class ServerLimits:
    """What one process lets its clients hold: bytes, seconds and sockets."""

    max_body_bytes: int = LARGEST_BODY
    body_timeout: float = 60.0  # the whole body must arrive within this
    idle_timeout: float = 75.0  # headers, and keep-alive between requests
    max_connections: int = 1000  # per process; more are answered 503 and closed

    @classmethod
    def from_env(cls, env: Env | None = None) -> ServerLimits:
        env = env or Env()
        return cls(
            max_body_bytes=env.int("HTTP_MAX_BODY_BYTES", LARGEST_BODY, minimum=1024),
            body_timeout=env.int("HTTP_BODY_TIMEOUT_S", 60, minimum=1, maximum=3600),
            idle_timeout=env.int("HTTP_IDLE_TIMEOUT_S", 75, minimum=1, maximum=3600),
            max_connections=env.int("HTTP_MAX_CONNECTIONS", 1000, minimum=1, maximum=100_000),
        )


class CappedHTTPServer(tornado.httpserver.HTTPServer):
    """An HTTPServer that answers 503 and closes past `max_connections` open sockets."""

    max_connections = 1000

    def handle_stream(self, stream: tornado.iostream.IOStream, address: tuple) -> None:
        if len(self._connections) >= self.max_connections:
            IOLoop.current().spawn_callback(_refuse, stream)
            return
        super().handle_stream(stream, address)


async def _refuse(stream: tornado.iostream.IOStream) -> None:
    try:
        await stream.write(_BUSY)
    except tornado.iostream.StreamClosedError:
        pass
    finally:
        stream.close()


def listen(
    app: tornado.web.Application,
    port: int,
    address: str = "",
    *,
    xheaders: bool = False,
    limits: ServerLimits | None = None,
    reuse_port: bool = False,
) -> tornado.httpserver.HTTPServer:
    limits = limits or ServerLimits.from_env()
    server = CappedHTTPServer(
        app,
        xheaders=xheaders,
        max_body_size=limits.max_body_bytes,
        body_timeout=limits.body_timeout,
        idle_connection_timeout=limits.idle_timeout,
    )
    server.max_connections = limits.max_connections
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
