"""site.yml, the example inventory and the group_vars hold together."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.deploy.conftest import ANSIBLE_DIR, run, tool_env


def test_site_playbook_syntax(deploy_bin: Path) -> None:
    run(
        [
            str(deploy_bin / "ansible-playbook"),
            "-i",
            "inventory/example.yml",
            "site.yml",
            "--syntax-check",
        ],
        timeout=300,
        env=tool_env(deploy_bin, ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg")),
        cwd=ANSIBLE_DIR,
    )


def test_group_vars_wire_the_roles_together(deploy_bin: Path) -> None:
    """The gateway gets one endpoint per api replica and the stack's token."""
    result = run(
        [
            str(deploy_bin / "ansible"),
            "appliance.example.internal",
            "-i",
            "inventory/example.yml",
            "-m",
            "ansible.builtin.debug",
            "-a",
            "msg={{ {'endpoints': tp_capital_gateway_api_endpoints, "
            "'same_token': tp_capital_gateway_api_token == tp_capital_stack_gateway_token, "
            "'targets': tp_capital_observability_api_targets} | to_json }}",
            "-e",
            "playbook_dir=.",
        ],
        timeout=300,
        env=tool_env(deploy_bin, ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg")),
        cwd=ANSIBLE_DIR,
    )
    payload = json.loads(re.search(r'"msg": "(.*)"', result.stdout).group(1).replace('\\"', '"'))
    assert payload["endpoints"] == ["http://127.0.0.1:4005", "http://127.0.0.1:4105"]
    assert payload["same_token"] is True
    assert payload["targets"] == ["127.0.0.1:4005", "127.0.0.1:4105"]


def test_vault_file_holds_only_placeholders() -> None:
    text = (ANSIBLE_DIR / "group_vars" / "all" / "vault.yml").read_text()
    for line in text.splitlines():
        match = re.match(r"^(vault_\w+):\s*\"(.*)\"$", line)
        if match:
            assert match.group(2) == "" or match.group(2).startswith("CHANGE-ME"), line
