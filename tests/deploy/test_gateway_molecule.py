"""The gateway role's Molecule scenarios on a systemd host (a container with
systemd as PID 1): check mode on the fresh host, converge, idempotence, and
verify against a real api and PostgreSQL started beside it (see
ansible/roles/tp_capital_gateway/molecule/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.deploy.conftest import ANSIBLE_DIR, Images, run, tool_env

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROLE = ANSIBLE_DIR / "roles" / "tp_capital_gateway"
# profile_tasks' closing line of a playbook: "... (0:00:00.902)       0:00:50.684"
ELAPSED = re.compile(r"\(\d+:\d\d:\d\d\.\d+\)\s+(\d+):(\d\d):(\d\d)\.\d+")


def step_seconds(output: str, step: str) -> float | None:
    """Duration of one molecule step, from the last profile_tasks total inside it."""
    match = re.search(
        rf"(?:➜|>) {step}\]?:? Executing(.*?)(?:➜|>) {step}\]?:? Executed", output, re.S
    )
    if not match:
        return None
    totals = ELAPSED.findall(match.group(1))
    if not totals:
        return None
    hours, minutes, seconds = (int(x) for x in totals[-1])
    return hours * 3600 + minutes * 60 + seconds


@pytest.mark.parametrize("scenario", ["default", "custom"])
def test_gateway_role_molecule(
    scenario: str, images: Images, deploy_bin: Path, tmp_path: Path, remove_images: None
) -> None:
    env = tool_env(
        deploy_bin,
        TPCAP_WHEELHOUSE=str(images.wheelhouse),
        TPCAP_APP_IMAGE=images.app,
        TPCAP_DB_IMAGE=images.db,
        TPCAP_MOLECULE_REPORT_DIR=str(tmp_path),
        ANSIBLE_STDOUT_CALLBACK="default",
    )
    result = run(
        [
            str(deploy_bin / "molecule"),
            "--base-config",
            "molecule/base.yml",
            "test",
            "--scenario-name",
            scenario,
            "--destroy",
            "always",
        ],
        timeout=1800,
        env=env,
        cwd=ROLE,
        merge_stderr=True,
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    (tmp_path / "molecule.log").write_text(output)
    for step in ("check", "converge", "idempotence", "verify"):
        assert re.search(rf"{scenario} (?:➜|>) {step}\]?: Executed: Successful", output), output[
            -8000:
        ]
    report = json.loads((tmp_path / f"tpcap-gw-{scenario}.json").read_text())
    timings = {step: step_seconds(output, step) for step in ("check", "converge", "idempotence")}
    print(
        f"molecule {scenario}: exposure {report['exposure']} (original notes' unit "
        f"{report['exposure_original']}), check mode {timings['check']}s, "
        f"converge {timings['converge']}s, idempotence {timings['idempotence']}s"
    )
    assert report["exposure"] <= 2.0
