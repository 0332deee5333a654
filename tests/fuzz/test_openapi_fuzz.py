"""Schemathesis against the real api and workspace processes: the OpenAPI
documents must declare every status, content type and field the servers
answer, negative data must be refused with a 4xx, and nothing may answer 5xx.

Runs the schemathesis CLI (its own process, as CI would) with both services'
credentials, all four phases (examples, coverage, fuzzing, stateful links)
and a bounded number of examples per operation, so the run stays within a
few minutes on two cores. The summary is printed (pytest -s shows it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import DbConfig
from tests.conftest import API_KEY, GATEWAY_TOKEN, api_env, require_or_skip
from tests.support.api import ApiProcess
from tests.workspace.support import API_KEY as WORKSPACE_KEY
from tests.workspace.support import workspace_env

WORKSPACE_CONFIG = Path(__file__).with_name("schemathesis-workspace.toml")
MAX_EXAMPLES = int(os.environ.get("TPCAP_FUZZ_EXAMPLES", "15"))
PHASES = os.environ.get("TPCAP_FUZZ_PHASES", "examples,coverage,fuzzing,stateful")
EXTRA = os.environ.get("TPCAP_FUZZ_ARGS", "").split()  # e.g. --include-path /ingest
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
    ]
)


def schemathesis_cli() -> str | None:
    beside = Path(sys.executable).with_name("schemathesis")
    return str(beside) if beside.exists() else shutil.which("schemathesis")


def run_schemathesis(
    url: str, headers: dict[str, str], report: Path, config: Path | None = None
) -> tuple[int, str]:
    cli = schemathesis_cli()
    assert cli is not None
    command = [cli, "--no-color"]
    if config is not None:
        command += ["--config-file", str(config)]
    command += [
        "run",
        f"{url}/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        PHASES,
        "--mode",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261130",
        # One worker: with two, hypothesis's lambda-source cache (used to describe
        # recursive strategies) races and the run aborts with a KeyError/SystemError.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--output-truncate",
        "false",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += EXTRA
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=report.parent,  # its .schemathesis and .hypothesis caches land there, not in the repo
    )
    output = done.stdout + done.stderr
    report.with_suffix(".txt").write_text(output)
    return done.returncode, output


@pytest.fixture
def api_process(signals_db: DbConfig, tmp_path: Path) -> Iterator[ApiProcess]:
    env = api_env(signals_db, RATE_LIMIT_MAX="10000000")
    process = ApiProcess(env, log_path=tmp_path / "api.log").start()
    yield process
    process.stop()


@pytest.fixture
def workspace_process(workspace_db: DbConfig, tmp_path: Path) -> Iterator[ApiProcess]:
    env = workspace_env(workspace_db, RATE_LIMIT_MAX="10000000")
    process = ApiProcess(env, log_path=tmp_path / "workspace.log", service="workspace").start()
    yield process
    process.stop()


def summarise(output: str) -> str:
    keep = re.compile(r"(API Operations|Test Phases|Test cases|Seed|passed|failed|errors?)", re.I)
    return "\n".join(line for line in output.splitlines() if keep.search(line))


def test_api_matches_its_openapi_document(api_process: ApiProcess, tmp_path: Path) -> None:
    require_or_skip(schemathesis_cli() is not None, "schemathesis is not installed")
    code, output = run_schemathesis(
        api_process.url,
        {"X-API-Key": API_KEY, "X-Gateway-Token": GATEWAY_TOKEN},
        tmp_path / "api-junit.xml",
    )
    print(f"\n--- schemathesis, api ---\n{summarise(output)}")
    assert code == 0, output[-20000:]
    assert "Internal Server Error" not in output


def test_workspace_matches_its_openapi_document(
    workspace_process: ApiProcess, tmp_path: Path
) -> None:
    require_or_skip(schemathesis_cli() is not None, "schemathesis is not installed")
    code, output = run_schemathesis(
        workspace_process.url,
        {"X-API-Key": WORKSPACE_KEY},
        tmp_path / "workspace-junit.xml",
        WORKSPACE_CONFIG,
    )
    print(f"\n--- schemathesis, workspace ---\n{summarise(output)}")
    assert code == 0, output[-20000:]
