"""Prometheus rules (promtool check and unit tests), the Grafana dashboard, and
the observability role applied for real (check mode, converge, idempotence)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_or_skip
from tests.deploy.conftest import ANSIBLE_DIR, ROOT, run, tool_env

FILES = ANSIBLE_DIR / "roles" / "tp_capital_observability" / "files"


def app_metric_names() -> set[str]:
    names: set[str] = set()
    for module in ROOT.glob("app/**/metrics.py"):
        names |= set(
            re.findall(r'"((?:telegram|api|workspace|tradingsystem)_[a-z_]+)"', module.read_text())
        )
    return names


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    require_or_skip(path is not None, "promtool not installed (Debian package prometheus)")
    assert path
    return path


def test_rules_pass_promtool_check(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", str(FILES / "tp-capital-alerts.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_unit_tests(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "test", "rules", "tp-capital-alerts.test.yml"],
        capture_output=True,
        text=True,
        cwd=FILES,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_required_alerts_exist() -> None:
    text = (FILES / "tp-capital-alerts.yml").read_text()
    for alert in (
        "TelegramGatewayDisconnected",
        "TelegramFailureQueueLarge",
        "TelegramPublishFailures",
        "ApiDatabaseErrors",
    ):
        assert f"alert: {alert}" in text


def test_rules_and_dashboard_use_metrics_the_app_exports() -> None:
    exported = app_metric_names()
    require_or_skip(bool(exported), "no app metrics modules found")
    used = set(
        re.findall(
            r"\b((?:telegram|api|workspace|tradingsystem)_[a-z_]+)\b",
            (FILES / "tp-capital-alerts.yml").read_text()
            + (FILES / "tp-capital-dashboard.json").read_text(),
        )
    )
    used = {
        name if name in exported else re.sub(r"_(bucket|sum|count)$", "", name) for name in used
    }
    unknown = sorted(name for name in used if name not in exported)
    assert not unknown, f"metrics not exported by app/: {unknown}"


def test_dashboard_is_valid_grafana_json() -> None:
    dashboard = json.loads((FILES / "tp-capital-dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["title"]
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert len(titles) == len(set(titles)) >= 10
    for panel in dashboard["panels"]:
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])


def test_role_check_mode_converge_and_idempotence(deploy_bin: Path, tmp_path: Path) -> None:
    out = tmp_path / "observability"
    env = tool_env(deploy_bin, ANSIBLE_ROLES_PATH=str(ANSIBLE_DIR / "roles"))
    playbook = [
        str(deploy_bin / "ansible-playbook"),
        "-i",
        "localhost,",
        "-e",
        f"ansible_python_interpreter={deploy_bin / 'python'}",
        "-e",
        f"tp_capital_observability_dir={out}",
        str(ROOT / "tests" / "deploy" / "playbooks" / "observability.yml"),
    ]
    run([*playbook, "--check"], timeout=300, env=env)
    assert not out.exists(), "check mode changed nothing"
    first = run(playbook, timeout=300, env=env)
    assert "failed=0" in first.stdout
    second = run(playbook, timeout=300, env=env)
    assert re.search(r"localhost\s*:\s*ok=\d+\s+changed=0\s", second.stdout), second.stdout
    for name in ("tp-capital-alerts.yml", "tp-capital-scrape.yml", "tp-capital-dashboard.json"):
        assert (out / name).is_file()
    assert "tp-capital-gateway" in (out / "tp-capital-scrape.yml").read_text()
