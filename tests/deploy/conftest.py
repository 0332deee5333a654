"""Fixtures for the deployment tests: a Docker engine, the Ansible/Molecule
tool virtualenv and the locally built images.

Without a Docker engine these tests skip, except in CI (TPCAP_CI set), where
scripts/ensure-docker.sh first installs and starts everything they need
(docker.io, dockerd, the debootstrap base images) and a missing engine fails.
Set TPCAP_DEPLOY_PROVISION=1 to provision outside CI too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = ROOT / "ansible"
SCRIPTS = ROOT / "scripts"


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def run(
    cmd: list[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    merge_stderr: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a command, keeping its output; on failure the output is in the message."""
    result = subprocess.run(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {result.returncode}\n--- stdout (tail)\n"
            f"{result.stdout[-12000:]}\n--- stderr (tail)\n{(result.stderr or '')[-6000:]}",
            pytrace=False,
        )
    return result


@pytest.fixture(scope="session")
def docker_engine() -> None:
    if os.environ.get("TPCAP_CI") or os.environ.get("TPCAP_DEPLOY_PROVISION"):
        run([str(SCRIPTS / "ensure-docker.sh")], timeout=1200)
    require_or_skip(
        _docker_works(), "no usable Docker engine (scripts/ensure-docker.sh starts one)"
    )


@pytest.fixture(scope="session")
def deploy_bin() -> Path:
    """bin/ of the virtualenv with ansible, molecule and its docker driver
    (made by scripts/ensure-deploy-tools.sh from PyPI, cached outside the tree)."""
    result = run([str(SCRIPTS / "ensure-deploy-tools.sh")], timeout=900)
    return Path(result.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Images:
    wheelhouse: Path
    app: str
    db: str


@pytest.fixture(scope="session")
def images(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Images:
    wheelhouse = tmp_path_factory.mktemp("wheelhouse")
    tag = f"ci-{os.getpid()}"
    app, db = f"tp-capital-app:{tag}", f"tp-capital-db:{tag}"
    env = dict(os.environ, APP_IMAGE=app, DB_IMAGE=db)
    run([str(SCRIPTS / "build-images.sh"), str(wheelhouse)], timeout=900, env=env)
    return Images(wheelhouse, app, db)


@pytest.fixture(scope="session")
def remove_images(images: Images) -> Iterator[None]:
    yield
    subprocess.run(["docker", "image", "rm", "-f", images.app, images.db], capture_output=True)


def tool_env(deploy_bin: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{deploy_bin}:{env.get('PATH', '')}"
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["PY_COLORS"] = "0"
    env.update(extra)
    return env
