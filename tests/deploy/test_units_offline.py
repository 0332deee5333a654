"""The gateway's rendered units, scored offline by `systemd-analyze security`
(the Molecule scenario scores the installed unit on a systemd host too)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_or_skip
from tests.deploy.conftest import ROOT, run, tool_env

MAX_EXPOSURE = 2.0

# The original notes' unit: only these four hardening directives.
ORIGINAL_NOTES_UNIT = """\
[Unit]
Description=TP Capital gateway (original notes)
After=network-online.target

[Service]
User=tpcap-gateway
ExecStart=/opt/tp-capital-gateway/venv/bin/tpcap gateway
Restart=on-failure
NoNewPrivileges=true
PrivateTmp=true
ProtectSystem=strict
ProtectHome=true

[Install]
WantedBy=multi-user.target
"""


def exposure(unit: Path) -> tuple[float, str]:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", output)
    assert match, output
    return float(match.group(1)), output


@pytest.fixture(scope="module")
def rendered(deploy_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_or_skip(shutil.which("systemd-analyze") is not None, "systemd-analyze not installed")
    out = tmp_path_factory.mktemp("units")
    run(
        [
            str(deploy_bin / "ansible-playbook"),
            "-i",
            "localhost,",
            "-e",
            f"out={out}",
            "-e",
            f"ansible_python_interpreter={deploy_bin / 'python'}",
            str(ROOT / "tests" / "deploy" / "playbooks" / "render-units.yml"),
        ],
        timeout=300,
        env=tool_env(deploy_bin),
    )
    (out / "original-notes.service").write_text(ORIGINAL_NOTES_UNIT)
    return out


@pytest.mark.parametrize(
    "unit", ["tp-capital-gateway.service", "tp-capital-gateway-session-backup.service"]
)
def test_rendered_unit_exposure_is_at_most_2(rendered: Path, unit: str) -> None:
    score, output = exposure(rendered / unit)
    print(f"{unit}: exposure {score}")
    assert score <= MAX_EXPOSURE, output


def test_original_notes_unit_scores_far_higher(rendered: Path) -> None:
    ours, _ = exposure(rendered / "tp-capital-gateway.service")
    original, _ = exposure(rendered / "original-notes.service")
    print(f"exposure: ours {ours}, original notes' unit {original}")
    assert original > 5.0 > MAX_EXPOSURE >= ours


def test_unit_has_the_required_directives(rendered: Path) -> None:
    text = (rendered / "tp-capital-gateway.service").read_text()
    for line in (
        "Restart=on-failure",
        "RestartSec=10s",
        "RestartPreventExitStatus=2 73 77 78",
        "MemoryMax=500M",
        "CPUQuota=50%",
        "LimitNOFILE=65536",
        "StandardOutput=journal",
        "After=network-online.target",
        "ProtectSystem=strict",
        "UMask=0077",
        "CapabilityBoundingSet=",
    ):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    assert text.startswith("#"), "the unit starts with the ansible_managed comment"
    timer = (rendered / "tp-capital-gateway-session-backup.timer").read_text()
    assert "OnCalendar=*-*-* 02:00:00" in timer and "Persistent=true" in timer
    backup = (rendered / "tp-capital-gateway-session-backup.service").read_text()
    assert "Type=oneshot" in backup and "Nice=19" in backup


def test_systemd_verify_accepts_the_units(rendered: Path, tmp_path: Path) -> None:
    """systemd-analyze verify, with the ExecStart binaries stubbed under a root dir."""
    root = tmp_path / "root"
    for unit in (
        "tp-capital-gateway.service",
        "tp-capital-gateway-session-backup.service",
        "tp-capital-gateway-session-backup.timer",
    ):
        target = root / "etc/systemd/system" / unit
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(rendered / unit, target)
    # the host's own unit library (sysinit.target and friends)
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/systemd").symlink_to("/usr/lib/systemd")
    require_or_skip(
        Path("/usr/lib/systemd/system/sysinit.target").exists(),
        "no systemd unit library on this host",
    )
    target = root / "etc/systemd/system/tp-capital-stack.service"
    shutil.copy(rendered / "tp-capital-stack.service", target)
    (root / "etc/systemd/system/docker.service").write_text(
        "[Service]\nExecStart=/usr/bin/dockerd\n"
    )
    for binary in (
        "opt/tp-capital-gateway/venv/bin/tpcap",
        "usr/bin/python3",
        "usr/bin/dockerd",
        "usr/bin/docker-compose",
    ):
        stub = root / binary
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            f"--root={root}",
            "--man=false",
            "tp-capital-gateway.service",
            "tp-capital-gateway-session-backup.timer",
            "tp-capital-stack.service",
        ],
        capture_output=True,
        text=True,
    )
    # verify exits 0 on parse errors it "ignores": any line about our files is a problem
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "etc/systemd/system/" in line or line.startswith("tp-capital")
    ]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
