"""`tpcap local`: the whole appliance on this machine, no Telegram account needed.

A private PostgreSQL in .local/pg (durable settings, password auth with a
generated password in .local/pg-password), migrations, then the api, the
workspace service and the gateway as supervised child processes, a banner
with URLs and the generated token, and a demo signal sent through the real
ingest path. A crashed service is restarted with backoff while the rest, and
PostgreSQL, keep running. Ctrl-C (or SIGTERM) stops everything in reverse
order, each service with every process it started.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from app.config import DbConfig
from app.localpg import LocalPg, LocalPgError, free_port, read_or_create_secret
from app.migrate import migrate
from app.supervisor import Service, Supervisor

DEMO_SIGNAL = (
    "🟢Swing Trade\n\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\n"
    "Alvo 1: 1,15\nAlvo 2: 2,15\nAlvo final: 3,00\nStop: 0,80"
)
DEMO_CHANNEL = -1001000000001


@dataclass
class Appliance:
    home: Path
    supervisor: Supervisor
    pg: LocalPg | None = None

    @property
    def children(self) -> list[Service]:
        return self.supervisor.services


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(".local"),
        help="folder for the database, logs and the token (default: .local)",
    )
    parser.add_argument("--api-port", type=int, default=4005)
    parser.add_argument("--workspace-port", type=int, default=3200)
    parser.add_argument("--gateway-port", type=int, default=4006)
    parser.add_argument(
        "--pg-port",
        type=int,
        default=0,
        help="PostgreSQL port (default: 5433 if free, else any free port)",
    )
    parser.add_argument("--no-demo", action="store_true", help="skip the demo signal")
    parser.add_argument(
        "--exit-after-demo",
        action="store_true",
        help="stop everything after the demo (for smoke tests)",
    )


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the servers do: a port held only by TIME_WAIT leftovers is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _token(home: Path) -> str:
    return read_or_create_secret(home / "gateway-token")


def _http(
    method: str, url: str, body: object = None, headers: dict | None = None
) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _wait(
    child: Service, path: str, timeout: float = 30.0, accept: tuple[int, ...] = (200,)
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process is not None and child.process.poll() is not None:
            raise RuntimeError(
                f"{child.name} exited with {child.process.returncode}; see {child.log}"
            )
        try:
            status, _ = _http("GET", child.url + path)
            if status in accept:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{child.name} did not become healthy in {timeout:.0f}s; see {child.log}")


def _spawn(app: Appliance, name: str, args: list[str], env: dict[str, str], url: str) -> Service:
    service = Service(
        name,
        [sys.executable, "-m", "app", *args],
        {**_base_env(), **env},
        url,
        app.home / "logs" / f"{name}.log",
    )
    return app.supervisor.add(service)


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")) if p
    )
    return env


def _stop(app: Appliance) -> None:
    app.supervisor.stop()
    if app.pg is not None:
        app.pg.stop()


def _say(line: str) -> None:
    print(f"tpcap local: {line}", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    home = args.home.resolve()
    (home / "logs").mkdir(parents=True, exist_ok=True)
    # Others may traverse (the postgres user must reach pg/) but not list it.
    os.chmod(home, 0o711)
    os.chmod(home / "logs", 0o700)
    for port, name in (
        (args.api_port, "api"),
        (args.workspace_port, "workspace"),
        (args.gateway_port, "gateway"),
    ):
        if not _port_free(port):
            print(
                f"tpcap local: port {port} for the {name} is in use; stop what holds it or "
                f"pass --{name}-port",
                file=sys.stderr,
            )
            return 1
    app = Appliance(home, Supervisor(_say))
    pg_port = args.pg_port or (5433 if _port_free(5433) else free_port())
    app.pg = LocalPg(home / "pg", pg_port, durable=True, password_file=home / "pg-password")
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        print(f">> PostgreSQL in {app.pg.datadir} on 127.0.0.1:{pg_port}", flush=True)
        try:
            app.pg.start()
        except LocalPgError as exc:
            print(f"tpcap local: {exc}", file=sys.stderr)
            return 1
        token = _token(home)
        api_key = secrets.token_urlsafe(24)
        signals_db = DbConfig(
            "127.0.0.1", pg_port, "tp_capital", "postgres", app.pg.password, "tp_capital"
        )
        applied = migrate(signals_db, "signals")
        print(f">> migrations: {len(applied)} applied to tp_capital", flush=True)
        db_env = {k: v for k, v in app.pg.env("tp_capital").items()}
        api = _spawn(
            app,
            "api",
            ["api", "--address", "127.0.0.1"],
            {
                **db_env,
                "PORT": str(args.api_port),
                "GATEWAY_SECRET_TOKEN": token,
                "TP_CAPITAL_API_KEY": api_key,
                "CORS_ORIGIN": "http://localhost:3103",
                "LOG_LEVEL": "info",
            },
            f"http://127.0.0.1:{args.api_port}",
        )
        optional = _start_optional(app, args, pg_port, token, api_key)
        _wait(api, "/health")
        for child, path, accept in optional:
            _wait(child, path, accept=accept)
        _banner(app, token, api_key)
        if not args.no_demo:
            _demo(api.url, token)
        if args.exit_after_demo:
            return 0
        print("\nRunning. Press Ctrl-C to stop everything.", flush=True)
        while True:
            app.supervisor.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\n>> stopping", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"tpcap local: {exc}", file=sys.stderr)
        return 1
    finally:
        _stop(app)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print(">> stopped", flush=True)


def _start_optional(
    app: Appliance, args: argparse.Namespace, pg_port: int, token: str, api_key: str
) -> list[tuple[Service, str, tuple[int, ...]]]:
    """The workspace and the gateway, when this checkout has them."""
    started: list[tuple[Service, str, tuple[int, ...]]] = []
    assert app.pg is not None
    if importlib.util.find_spec("app.workspace.main") is not None:
        ws_db = DbConfig(
            "127.0.0.1", pg_port, "APPS-WORKSPACE", "postgres", app.pg.password, "workspace"
        )
        migrate(ws_db, "workspace")
        child = _spawn(
            app,
            "workspace",
            ["workspace"],
            {
                **app.pg.env("APPS-WORKSPACE"),
                "TIMESCALEDB_SCHEMA": "workspace",
                "PORT": str(args.workspace_port),
                "WORKSPACE_API_KEY": api_key,
                "TP_CAPITAL_API_KEY": api_key,
                "LOG_LEVEL": "info",
            },
            f"http://127.0.0.1:{args.workspace_port}",
        )
        started.append((child, "/health", (200,)))
    if importlib.util.find_spec("app.gateway.main") is not None:
        gw = app.home / "gateway"
        gw.mkdir(mode=0o700, exist_ok=True)
        child = _spawn(
            app,
            "gateway",
            ["gateway"],
            {
                "GATEWAY_PORT": str(args.gateway_port),
                "API_ENDPOINT": f"http://127.0.0.1:{args.api_port}",
                "API_SECRET_TOKEN": token,
                "OUTBOX_PATH": str(gw / "outbox.sqlite3"),
                "SESSION_DIR": str(gw / ".session"),
                "FAILURE_QUEUE_PATH": str(gw / "failure-queue.jsonl"),
                "LOG_LEVEL": "info",
            },
            f"http://127.0.0.1:{args.gateway_port}",
        )
        # Without Telegram credentials the gateway runs and says so with 503.
        started.append((child, "/health", (200, 503)))
    return started


def _banner(app: Appliance, token: str, api_key: str) -> None:
    lines = ["", "TP Capital appliance is up", ""]
    for child in app.children:
        lines.append(f"  {child.name:<10} {child.url:<28} log: {child.log}")
        if child.name == "gateway":
            try:
                _, health = _http("GET", child.url + "/health")
            except (OSError, ValueError):
                health = None
            reasons = health.get("reasons") if isinstance(health, dict) else None
            if reasons:
                lines.append(
                    f"  {'':<10} {'; '.join(reasons)}: set TELEGRAM_API_ID and "
                    "TELEGRAM_API_HASH, run `tpcap gateway login`, and name channels in "
                    "TELEGRAM_CHANNELS or POST /telegram-channels"
                )
    assert app.pg is not None
    api_url = next(c.url for c in app.children if c.name == "api")
    lines += [
        f"  {'database':<10} postgresql://postgres@127.0.0.1:{app.pg.port}/tp_capital"
        f"   (password in {app.pg.password_file})",
        "",
        f"  X-Gateway-Token: {token}   (saved in {app.home / 'gateway-token'})",
        f"  X-API-Key:       {api_key}   (this run only)",
        "",
        "  Try:",
        f"    curl -s {api_url}/signals | python3 -m json.tool",
        f"    curl -s -X POST {api_url}/ingest -H 'X-Gateway-Token: {token}' \\",
        "         -H 'Content-Type: application/json' \\",
        '         -d \'{"channelId": -1001, "messageId": 1, '
        '"timestamp": "2026-11-23T10:00:00Z", "text": "hello"}\'',
    ]
    print("\n".join(lines), flush=True)


def _demo(api_url: str, token: str) -> None:
    message_id = int(time.time())
    body = {
        "channelId": DEMO_CHANNEL,
        "messageId": message_id,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "text": DEMO_SIGNAL,
        "channelName": "TP Capital (demo)",
    }
    status, answer = _http("POST", api_url + "/ingest", body, {"X-Gateway-Token": token})
    outcome = answer.get("parse", {}).get("status") if isinstance(answer, dict) else answer
    print(f"\n>> demo: POST /ingest -> {status} (parsed as: {outcome})", flush=True)
    status, listing = _http("GET", api_url + f"/signals?channel={DEMO_CHANNEL}&limit=1")
    newest = listing["data"][0] if isinstance(listing, dict) and listing.get("data") else None
    print(f">> demo: GET /signals -> {status}", flush=True)
    print(json.dumps(newest, indent=2, ensure_ascii=False), flush=True)
