"""The staging Vagrantfile: `vagrant validate` (the real Vagrant, for the
default provider and for docker), and that the staging machine is
provisioned by the real ansible/site.yml with differences only in extra
vars that the playbook actually reads."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
VAGRANTFILE = ROOT / "Vagrantfile"
ANSIBLE = ROOT / "ansible"


@pytest.fixture(scope="module")
def vagrant() -> str:
    path = shutil.which("vagrant")
    require_or_skip(path is not None, "vagrant not installed (scripts/ensure-nix-vagrant.sh)")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def ruby() -> str:
    path = shutil.which("ruby")  # comes with Debian's vagrant
    require_or_skip(path is not None, "ruby not installed (it comes with vagrant)")
    assert path is not None
    return path


def load_yaml(ruby: str, path: Path) -> Any:
    """YAML through Ruby's Psych (the project's Python has no YAML library)."""
    result = subprocess.run(
        [
            ruby,
            "-ryaml",
            "-rjson",
            "-e",
            "puts JSON.generate(YAML.safe_load(File.read(ARGV[0]), aliases: true))",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(result.stdout)


def validate(vagrant: str, tmp_path: Path, *args: str, **env: str) -> None:
    result = subprocess.run(
        [vagrant, "validate", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "VAGRANT_CHECKPOINT_DISABLE": "1",
            "VAGRANT_HOME": str(tmp_path / "vagrant.d"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


def test_vagrant_validate_every_provider(vagrant: str, tmp_path: Path) -> None:
    """Configuration of all providers, whether or not VirtualBox/libvirt are installed."""
    validate(vagrant, tmp_path, "--ignore-provider")


def test_vagrant_validate_docker_provider(vagrant: str, tmp_path: Path) -> None:
    """With the docker provider's own usability checks (needs the docker CLI)."""
    require_or_skip(shutil.which("docker") is not None, "docker CLI not installed")
    validate(vagrant, tmp_path, VAGRANT_DEFAULT_PROVIDER="docker")


def test_staging_machine_settings() -> None:
    text = VAGRANTFILE.read_text()
    assert 'vm.box = "debian/bookworm64"' in text
    assert "ssh.insert_key = false" in text
    assert 'synced_folder ".", "/vagrant", disabled: true' in text
    assert re.search(r'"private_network", ip: STAGING_IP', text)
    assert re.search(r'STAGING_IP = ENV.fetch\("TPCAP_STAGING_IP", "192\.168\.\d+\.\d+"\)', text)
    ports = dict(re.findall(r'"(\w+)" => (\d+)', text.split("FORWARDED_PORTS =")[1].split("\n")[0]))
    assert ports == {"api": "4005", "gateway": "4006", "workspace": "3200"}
    for provider in ("virtualbox", "libvirt", "docker"):
        assert f'vm.provider "{provider}"' in text
    # libvirt only where its plugin is installed
    assert 'if Vagrant.has_plugin?("vagrant-libvirt")' in text


def test_provisioned_by_the_real_site_yml(ruby: str) -> None:
    text = VAGRANTFILE.read_text()
    playbook = re.search(r'ansible\.playbook = "([^"]+)"', text)
    assert playbook and playbook.group(1) == "ansible/site.yml"
    site = ROOT / playbook.group(1)
    if not site.exists():
        pytest.skip("ansible/site.yml is not in this tree yet")
    plays = load_yaml(ruby, site)
    wanted = {play["hosts"] for play in plays} - {"localhost"}
    groups = set(re.findall(r'"(tp_capital_\w+)" => \["staging"\]', text))
    assert wanted <= groups, f"site.yml plays for {wanted - groups} would skip the staging machine"
    # the controller play (wheelhouse) must not be limited away
    assert re.search(r'ansible\.limit = "staging,localhost"', text)


def known_variables(ruby: str) -> set[str]:
    names: set[str] = set()
    for path in [
        *ANSIBLE.glob("roles/*/defaults/main.yml"),
        *ANSIBLE.glob("group_vars/all/*.yml"),
    ]:
        data = load_yaml(ruby, path)
        if isinstance(data, dict):
            names |= set(data)
    return names


@pytest.mark.parametrize("extra_vars", ["staging.yml", "staging-docker.yml"])
def test_staging_extra_vars_are_variables_the_playbook_reads(ruby: str, extra_vars: str) -> None:
    """A typo in an extra var would silently leave production's value."""
    if not (ANSIBLE / "site.yml").exists():
        pytest.skip("ansible/ is not in this tree yet")
    values = load_yaml(ruby, ROOT / "vagrant" / extra_vars)
    unknown = set(values) - known_variables(ruby)
    assert not unknown, (
        f"vagrant/{extra_vars} sets variables no role or group_vars defines: {unknown}"
    )


def test_staging_token_is_long_enough(ruby: str) -> None:
    values = load_yaml(ruby, ROOT / "vagrant" / "staging.yml")
    assert len(values["vault_tp_capital_gateway_token"]) >= 32


def test_docker_box_has_the_vagrant_insecure_key() -> None:
    """insert_key = false: the box must accept Vagrant's well-known key."""
    key = (ROOT / "vagrant" / "docker" / "vagrant.pub").read_text().split()
    assert key[0] == "ssh-rsa"
    bundled = list(
        Path("/usr/share/rubygems-integration/all/gems").glob("vagrant-*/keys/vagrant.pub")
    )
    if bundled:
        assert bundled[0].read_text().split()[1] == key[1]
