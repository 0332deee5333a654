"""Each role's meta/argument_specs.yml describes defaults/main.yml key for key,
and the roles keep their naming tiers (role_* inputs, _role_* internals)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import ANSIBLE_DIR

ROLES = sorted(p.name for p in (ANSIBLE_DIR / "roles").iterdir() if (p / "defaults").is_dir())

LOAD = """
import json, sys, yaml
defaults = yaml.safe_load(open(sys.argv[1])) or {}
specs = yaml.safe_load(open(sys.argv[2]))["argument_specs"]["main"]["options"]
internal = yaml.safe_load(open(sys.argv[3])) if len(sys.argv) > 3 else {}
print(json.dumps({"defaults": list(defaults), "specs": specs, "internal": list(internal or {})}))
"""


def load(deploy_bin: Path, role: str) -> dict:
    base = ANSIBLE_DIR / "roles" / role
    args = [str(base / "defaults" / "main.yml"), str(base / "meta" / "argument_specs.yml")]
    if (base / "vars" / "main.yml").exists():
        args.append(str(base / "vars" / "main.yml"))
    out = subprocess.run(
        [str(deploy_bin / "python"), "-c", LOAD, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_there_are_roles() -> None:
    assert {"tp_capital_gateway", "tp_capital_stack", "tp_capital_observability"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_match_defaults_key_for_key(role: str, deploy_bin: Path) -> None:
    data = load(deploy_bin, role)
    defaults, specs = data["defaults"], data["specs"]
    assert sorted(defaults) == sorted(specs), (
        f"only in defaults: {sorted(set(defaults) - set(specs))}; "
        f"only in argument_specs: {sorted(set(specs) - set(defaults))}"
    )
    for name, spec in specs.items():
        assert spec.get("description"), f"{name} has no description"
        assert spec.get("type"), f"{name} has no type"


@pytest.mark.parametrize("role", ROLES)
def test_variable_tiers(role: str, deploy_bin: Path) -> None:
    data = load(deploy_bin, role)
    assert all(name.startswith(f"{role}_") for name in data["defaults"])
    assert all(name.startswith(f"_{role}_") for name in data["internal"])
