"""The gateway's configuration, read once from the environment (original variable names)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.config import ConfigError, Env, log_level

DEFAULT_OUTBOX_MAX_BYTES = 100 * 1024 * 1024
_USERNAME = re.compile(r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$")
_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Backfill:
    """How much history to read: the newest `limit` messages, or those newer than `since`."""

    limit: int | None = None
    since: dt.timedelta | None = None

    def describe(self) -> str:
        return f"last {self.limit} messages" if self.limit is not None else f"last {self.since}"


@dataclass(frozen=True)
class DcOverride:
    """A fixed data centre: Telegram's test servers or a self-hosted MTProto server."""

    dc_id: int
    host: str
    port: int
    public_key_path: Path | None


@dataclass(frozen=True)
class GatewayConfig:
    api_id: int
    api_hash: str
    phone_number: str | None
    session_string: str | None
    session_dir: Path
    bot_token: str | None
    channels: tuple[int | str, ...]
    destination_channel: int | str | None
    port: int
    endpoints: tuple[str, ...]
    token: str
    max_retry_attempts: int
    retry_delay_ms: int
    request_timeout_s: float
    failure_queue_path: Path
    outbox_path: Path
    outbox_max_bytes: int
    log_level: str
    dc: DcOverride | None
    catchup_interval_s: float
    telegram_configured: bool = True
    channel_refresh_s: float = 60.0
    backfill: Backfill | None = None
    edit_rescan_window: dt.timedelta | None = dt.timedelta(hours=48)

    @property
    def session_file(self) -> Path:
        """Telethon appends `.session` to the name it is given; this is the full path."""
        return self.session_dir / "gateway.session"

    @property
    def bot_session_file(self) -> Path:
        return self.session_dir / "bot.session"

    @classmethod
    def from_env(
        cls, env: Env | None = None, *, telegram_required: bool = True, login: bool = False
    ) -> GatewayConfig:
        """`telegram_required=False` is for `tpcap recover`, which never talks to Telegram;
        `login=True` for `tpcap gateway login`, which needs only the Telegram settings."""
        env = env or Env()
        token = env.token("API_SECRET_TOKEN", required=not login) or ""
        telegram_names = ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_CHANNELS")
        # None of the three: an honest Telegram-less gateway (a local demo, a staging host
        # before its first login) that delivers its outbox and says so on /health.
        # Some but not all of the id and hash: a mistake, reported by the readers below.
        # TELEGRAM_CHANNELS may be empty: the api's channel registry can supply them.
        telegram_configured = any(env.raw(name) for name in telegram_names)
        if telegram_required and (telegram_configured or login):
            api_id = env.int("TELEGRAM_API_ID", minimum=1)
            api_hash = env.str("TELEGRAM_API_HASH", required=True)
            if not re.fullmatch(r"[0-9a-fA-F]{32}", api_hash):
                raise ConfigError("TELEGRAM_API_HASH", "must be 32 hexadecimal characters")
            channels = (
                () if login else parse_channels("TELEGRAM_CHANNELS", env.list("TELEGRAM_CHANNELS"))
            )
        else:
            api_id, api_hash, channels = 0, "", ()
        destination = env.optional_str("TELEGRAM_DESTINATION_CHANNEL_ID")
        bot_token = env.optional_str("TELEGRAM_INGESTION_BOT_TOKEN")
        if bot_token is not None and not re.fullmatch(r"\d{5,12}:[A-Za-z0-9_-]{30,64}", bot_token):
            raise ConfigError("TELEGRAM_INGESTION_BOT_TOKEN", "is not a bot token (id:secret)")
        outbox_path = Path(env.str("OUTBOX_PATH", "./data/outbox.sqlite3"))
        return cls(
            api_id=api_id,
            api_hash=api_hash,
            phone_number=env.optional_str("TELEGRAM_PHONE_NUMBER"),
            session_string=env.optional_str("TELEGRAM_SESSION"),
            session_dir=Path(env.str("SESSION_DIR", "./.session")),
            bot_token=bot_token,
            channels=channels,
            destination_channel=(
                parse_channels("TELEGRAM_DESTINATION_CHANNEL_ID", (destination,))[0]
                if destination
                else None
            ),
            port=env.port("GATEWAY_PORT", 4006),
            endpoints=parse_endpoints(env.list("API_ENDPOINT", ("http://localhost:4005",))),
            token=token,
            max_retry_attempts=env.int("MAX_RETRY_ATTEMPTS", 3, minimum=1, maximum=100),
            retry_delay_ms=env.int("RETRY_DELAY_MS", 5000, minimum=1, maximum=3_600_000),
            request_timeout_s=env.int("API_TIMEOUT_MS", 10_000, minimum=100) / 1000,
            failure_queue_path=Path(env.str("FAILURE_QUEUE_PATH", "./data/failure-queue.jsonl")),
            outbox_path=outbox_path,
            outbox_max_bytes=env.int("OUTBOX_MAX_BYTES", DEFAULT_OUTBOX_MAX_BYTES, minimum=65536),
            log_level=log_level(env),
            dc=parse_dc(env),
            catchup_interval_s=env.int("CATCHUP_INTERVAL_S", 300, minimum=1),
            telegram_configured=telegram_configured,
            channel_refresh_s=env.int("CHANNEL_REFRESH_SECONDS", 60, minimum=0, maximum=86400),
            backfill=parse_backfill("TELEGRAM_BACKFILL", env.raw("TELEGRAM_BACKFILL")),
            edit_rescan_window=parse_window(env.raw("EDIT_RESCAN_WINDOW")),
        )


def parse_channels(variable: str, values: tuple[str, ...]) -> tuple[int | str, ...]:
    """Marked ids (-100...) stay ints; usernames keep their text (without @)."""
    channels: list[int | str] = []
    for value in values:
        if re.fullmatch(r"-?\d+", value):
            channels.append(int(value))
        elif _USERNAME.match(value):
            channels.append(value.lstrip("@"))
        else:
            raise ConfigError(variable, f"{value!r} is neither a channel id nor a username")
    return tuple(channels)


def parse_duration(variable: str, value: str) -> dt.timedelta:
    match = _DURATION.match(value.strip().lower())
    if not match:
        raise ConfigError(variable, f"{value!r} is not a duration such as 30d, 48h or 90m")
    return dt.timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def parse_backfill(variable: str, value: str | None) -> Backfill | None:
    """`none` (or unset, or 0), a number of messages, or a duration such as `30d`."""
    text = (value or "").strip().lower()
    if text in ("", "none", "0", "off"):
        return None
    if text.isdigit():
        return Backfill(limit=int(text))
    return Backfill(since=parse_duration(variable, text))


def parse_window(value: str | None) -> dt.timedelta | None:
    """EDIT_RESCAN_WINDOW: a duration (default 48h); 0 or none turns the rescan off."""
    text = (value or "48h").strip().lower()
    if text in ("0", "none", "off"):
        return None
    return parse_duration("EDIT_RESCAN_WINDOW", text)


def parse_endpoints(values: tuple[str, ...]) -> tuple[str, ...]:
    """Each api's base URL. The full `.../ingest` URL of the original notes and their
    `.env` examples names the same api: the suffix is dropped (trailing slash or not)."""
    endpoints = []
    for value in values:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError("API_ENDPOINT", f"{value!r} is not an http(s) URL")
        if parts.query or parts.fragment:
            raise ConfigError("API_ENDPOINT", f"{value!r}: no query or fragment, please")
        base = value.rstrip("/")
        for suffix in ("/ingest/batch", "/ingest"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        endpoints.append(base.rstrip("/"))
    if not endpoints:
        raise ConfigError("API_ENDPOINT", "is empty")
    return tuple(endpoints)


def parse_dc(env: Env) -> DcOverride | None:
    dc_id = env.optional_str("TELEGRAM_DC_ID")
    address = env.optional_str("TELEGRAM_DC_ADDRESS")
    key = env.optional_str("TELEGRAM_SERVER_PUBLIC_KEY")
    if dc_id is None and address is None and key is None:
        return None
    if dc_id is None or address is None:
        missing = "TELEGRAM_DC_ID" if dc_id is None else "TELEGRAM_DC_ADDRESS"
        raise ConfigError(missing, "is required when a DC override is configured")
    number = env.int("TELEGRAM_DC_ID", minimum=1, maximum=1000)
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError("TELEGRAM_DC_ADDRESS", f"must be host:port, got {address!r}")
    key_path = Path(key) if key else None
    if key_path is not None and not key_path.is_file():
        raise ConfigError("TELEGRAM_SERVER_PUBLIC_KEY", f"no such file: {key_path}")
    return DcOverride(number, host.strip("[]"), int(port_text), key_path)
