"""`tpcap validate-env GATEWAY_ENV_FILE API_ENV_FILE`: catch a token mismatch or a
missing variable before a service is (re)started, not at 3 a.m."""

from __future__ import annotations

import argparse
import hmac
import sys
from pathlib import Path

from app.config import MIN_TOKEN_LENGTH
from app.envfile import EnvFileError, read_env_file

GATEWAY_REQUIRED = ("API_ENDPOINT", "API_SECRET_TOKEN")
GATEWAY_TELEGRAM = ("TELEGRAM_API_ID", "TELEGRAM_API_HASH")
API_REQUIRED = (
    "GATEWAY_SECRET_TOKEN",
    "TIMESCALEDB_HOST",
    "TIMESCALEDB_DATABASE",
    "TIMESCALEDB_USER",
)
# Decision 6 of DESIGN.md: each process sees only its own secrets.
NOT_IN_GATEWAY = ("TIMESCALEDB_PASSWORD",)
NOT_IN_API = ("TELEGRAM_API_HASH", "TELEGRAM_SESSION", "TELEGRAM_INGESTION_BOT_TOKEN")


def check(
    gateway: dict[str, str], api: dict[str, str], gw_path: str, api_path: str
) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    for name in GATEWAY_REQUIRED:
        if not gateway.get(name):
            errors.append(f"{gw_path}: {name} is required but not set")
    for name in API_REQUIRED:
        if not api.get(name):
            errors.append(f"{api_path}: {name} is required but not set")
    for name in GATEWAY_TELEGRAM:
        if not gateway.get(name):
            warnings.append(
                f"{gw_path}: {name} is not set: the gateway will run but stay "
                "'not logged in' to Telegram"
            )
    for name in NOT_IN_GATEWAY:
        if gateway.get(name):
            errors.append(f"{gw_path}: {name} must not be in the gateway's env file")
    for name in NOT_IN_API:
        if api.get(name):
            errors.append(f"{api_path}: {name} must not be in the api's env file")
    gw_token = gateway.get("API_SECRET_TOKEN", "")
    api_token = api.get("GATEWAY_SECRET_TOKEN", "")
    for path, name, token in (
        (gw_path, "API_SECRET_TOKEN", gw_token),
        (api_path, "GATEWAY_SECRET_TOKEN", api_token),
    ):
        if token and len(token) < MIN_TOKEN_LENGTH:
            errors.append(
                f"{path}: {name} must be at least {MIN_TOKEN_LENGTH} characters, got {len(token)}"
            )
    if gw_token and api_token and not hmac.compare_digest(gw_token.encode(), api_token.encode()):
        errors.append(
            f"token mismatch: API_SECRET_TOKEN in {gw_path} differs from "
            f"GATEWAY_SECRET_TOKEN in {api_path}; the api would answer 401 to every message"
        )
    return errors, warnings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gateway_env", type=Path, help="the gateway's env file")
    parser.add_argument("api_env", type=Path, help="the api's env file")


def run(args: argparse.Namespace) -> int:
    try:
        gateway = read_env_file(args.gateway_env)
        api = read_env_file(args.api_env)
    except EnvFileError as exc:
        print(f"validate-env: {exc}", file=sys.stderr)
        return 1
    errors, warnings = check(gateway, api, str(args.gateway_env), str(args.api_env))
    for warning in warnings:
        print(f"validate-env: warning: {warning}", file=sys.stderr)
    for error in errors:
        print(f"validate-env: error: {error}", file=sys.stderr)
    if errors:
        return 1
    print("validate-env: ok: tokens match and required variables are present")
    return 0
