"""The chosen stack's floor: what Tornado and aiopg cost per request doing nothing else.

    python tests/perf/floor_server.py PORT DSN

Run by `bench_api.py` as a process of its own on the api's event loop (uvloop),
so its CPU per request is read from /proc the same way as the api's. Plain
`tornado.web.RequestHandler`s on a plain `tornado.web.Application`:

* `POST /floor/http`: takes the body, answers a small JSON document. No
  validation, no parsing, no database.
* `POST /floor/db`: the same plus one aiopg round trip (`SELECT 1` on a pooled
  connection): the least a handler that touches the database can cost.
* `GET /floor/signals`: the api's own `GET /signals?limit=50` query
  (`queries.list_signals`) and page, without the api's handler stack (request
  ids, CORS, rate limit, query validation, metrics, logs).
"""

from __future__ import annotations

import asyncio
import sys

import aiopg
import tornado.httpserver
import tornado.web
import uvloop

from app.api.store import queries

ANSWER = b'{"status":"ok","duplicate":false}'


class HttpFloor(tornado.web.RequestHandler):
    def post(self) -> None:
        assert self.request.body
        self.set_header("Content-Type", "application/json")
        self.finish(ANSWER)


class DbFloor(tornado.web.RequestHandler):
    async def post(self) -> None:
        assert self.request.body
        async with self.settings["pool"].acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT 1")
            await cur.fetchall()
        self.set_header("Content-Type", "application/json")
        self.finish(ANSWER)


class SignalsFloor(tornado.web.RequestHandler):
    async def get(self) -> None:
        page = await queries.list_signals(self.settings["pool"], queries.Filters(limit=50))
        self.set_header("Content-Type", "application/json")
        self.finish(page.to_json())


async def serve(port: int, dsn: str) -> None:
    pool = await aiopg.create_pool(dsn, minsize=0, maxsize=40)
    routes = [("/floor/http", HttpFloor), ("/floor/db", DbFloor), ("/floor/signals", SignalsFloor)]
    app = tornado.web.Application(routes, pool=pool, log_function=lambda handler: None)
    tornado.httpserver.HTTPServer(app).listen(port, "127.0.0.1")
    print("listening", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(int(sys.argv[1]), sys.argv[2]))
