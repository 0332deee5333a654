"""The flake and nix/ without nixpkgs (not reachable here): every file parses,
and what is pure Nix is evaluated with `nix-instantiate --eval` and compared
with its other source of truth (pyproject.toml, app/cli.py, the gateway's exit
codes and variables, the hardening list, the Ansible role's defaults).

nix/module.nix is evaluated with tests/nix/stub-lib.nix standing in for
nixpkgs' lib (mkOption, mkIf, types, ... reduced to what the module uses), so
these tests prove the module's own logic; the flake check `nixos-module`
evaluates it through the real module system where nixpkgs is available."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from app.cli import COMMANDS
from app.gateway import session
from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NIX_FILES = sorted(
    [ROOT / "flake.nix", *(ROOT / "nix").rglob("*.nix"), *HERE.glob("*.nix")],
    key=str,
)
HARDENING = json.loads((ROOT / "nix" / "gateway-hardening.json").read_text())["directives"]
ROLE = ROOT / "ansible" / "roles" / "tp_capital_gateway"

# a configuration the module accepts
GOOD = {
    "enable": True,
    "telegramApiId": 12345,
    "channels": ["-1001234567890", "@tp_capital"],
    "credentials": {
        "API_SECRET_TOKEN": "/run/keys/tpcap-gateway-token",
        "TELEGRAM_API_HASH": "/run/keys/tpcap-telegram-api-hash",
    },
}


@pytest.fixture(scope="module")
def nix_instantiate() -> str:
    path = shutil.which("nix-instantiate")
    require_or_skip(
        path is not None, "nix-instantiate not installed (scripts/ensure-nix-vagrant.sh)"
    )
    assert path is not None
    return path


def nix_literal(value: Any) -> str:
    """A Python value as a Nix expression (for --arg)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "\\${")
    if isinstance(value, list):
        return "[ " + " ".join(nix_literal(v) for v in value) + " ]"
    if isinstance(value, dict):
        return (
            "{ " + " ".join(f"{json.dumps(k)} = {nix_literal(v)};" for k, v in value.items()) + " }"
        )
    raise TypeError(value)


def run_nix(nix: str, *args: str) -> str:
    result = subprocess.run(
        [nix, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    errors = "\n".join(line for line in result.stderr.splitlines() if "nixbld" not in line)
    assert result.returncode == 0, errors
    return result.stdout


def evaluate(nix: str, expression: str) -> Any:
    return json.loads(run_nix(nix, "--eval", "--strict", "--json", "-E", expression))


def evaluate_module(nix: str, values: dict[str, Any], systemd_version: str = "256.8") -> Any:
    return json.loads(
        run_nix(
            nix,
            "--eval",
            "--strict",
            "--json",
            str(HERE / "eval-module.nix"),
            "--arg",
            "values",
            nix_literal(values),
            "--argstr",
            "systemdVersion",
            systemd_version,
        )
    )


def expected_hardening(systemd_version: int) -> dict[str, str | list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for directive in HARDENING:
        if directive.get("min_systemd", 0) <= systemd_version:
            grouped[directive["name"]].append(directive["value"])
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}


# -- every file ---------------------------------------------------------------


@pytest.mark.parametrize("path", NIX_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_nix_file_parses(nix_instantiate: str, path: Path) -> None:
    run_nix(nix_instantiate, "--parse", str(path))


def test_the_flake_files_exist() -> None:
    names = {str(p.relative_to(ROOT)) for p in NIX_FILES}
    assert {"flake.nix", "nix/module.nix", "nix/package.nix", "nix/devshell.nix"} <= names
    assert not (ROOT / "flake.lock").exists() or json.loads((ROOT / "flake.lock").read_text())


# -- flake.nix ----------------------------------------------------------------


def test_flake_has_one_input_and_the_usual_outputs(nix_instantiate: str) -> None:
    """Outputs evaluated with a stub nixpkgs: which attributes exist, that the
    systems are lib.systems.flakeExposed, and the module at the top level."""
    systems = ["x86_64-linux", "aarch64-darwin"]
    flake = evaluate(
        nix_instantiate,
        f"""
        let
          flake = import {ROOT}/flake.nix;
          nixpkgs = {{
            lib = {{
              systems.flakeExposed = {nix_literal(systems)};
              genAttrs = names: f: builtins.listToAttrs
                (map (name: {{ inherit name; value = f name; }}) names);
              optionalAttrs = cond: attrs: if cond then attrs else {{ }};
            }};
            legacyPackages = throw "packages are not evaluated here";
          }};
          outputs = flake.outputs {{ self = outputs; inherit nixpkgs; }};
        in {{
          inputs = flake.inputs;
          outputs = builtins.attrNames outputs;
          packageSystems = builtins.attrNames outputs.packages;
          checkSystems = builtins.attrNames outputs.checks;
          moduleIsTheFile = outputs.nixosModules.default == {ROOT}/nix/module.nix;
        }}
        """,
    )
    assert list(flake["inputs"]) == ["nixpkgs"]
    assert flake["inputs"]["nixpkgs"]["url"].startswith("github:NixOS/nixpkgs/")
    assert {"packages", "apps", "devShells", "checks", "nixosModules", "overlays"} <= set(
        flake["outputs"]
    )
    assert flake["packageSystems"] == sorted(systems)
    assert flake["checkSystems"] == sorted(systems)
    assert flake["moduleIsTheFile"] is True


def test_pyproject_nix_reads_what_pip_reads(nix_instantiate: str) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    project = evaluate(nix_instantiate, f"import {ROOT}/nix/pyproject.nix {{ }}")

    def name(requirement: str) -> str:
        match = re.match(r"\s*([A-Za-z0-9._-]+)", requirement)
        assert match
        return re.sub(r"[-_.]+", "-", match.group(1)).lower()

    assert project["pname"] == pyproject["name"]
    assert project["version"] == pyproject["version"]
    assert project["scripts"] == pyproject["scripts"]
    assert project["dependencies"] == [name(r) for r in pyproject["dependencies"]]
    assert project["devDependencies"] == [
        name(r) for r in pyproject["optional-dependencies"]["dev"]
    ]
    # aiopg brings psycopg2 in nixpkgs: never psycopg2-binary directly
    assert {"tornado", "telethon", "aiopg", "prometheus-client", "marshmallow"} <= set(
        project["dependencies"]
    )
    assert not {"psycopg2", "psycopg2-binary"} & set(project["dependencies"])


def test_apps_cover_every_tpcap_command(nix_instantiate: str) -> None:
    apps = evaluate(
        nix_instantiate,
        f"""import {ROOT}/nix/apps.nix {{
          package = "/pkg";
          writeShellScript = name: text: text;
        }}""",
    )
    assert set(apps) == {*COMMANDS, "default"}
    for command in COMMANDS:
        assert apps[command]["type"] == "app"
        assert apps[command]["program"].strip() == f'exec /pkg/bin/tpcap {command} "$@"'
    assert apps["default"]["program"] == "/pkg/bin/tpcap"


# -- hardening ----------------------------------------------------------------


@pytest.mark.parametrize("systemd_version", [252, 256, 241])
def test_hardening_nix_renders_the_json_list(nix_instantiate: str, systemd_version: int) -> None:
    rendered = evaluate(
        nix_instantiate,
        f'import {ROOT}/nix/hardening.nix {{ systemdVersion = "{systemd_version}.1"; }}',
    )
    assert rendered == expected_hardening(systemd_version)
    assert ("ProtectProc" in rendered) == (systemd_version >= 247)


def test_hardening_list_is_the_reviewed_one() -> None:
    """The directives DESIGN.md and EXAMPLES.md ask for are all there."""
    names = {d["name"] for d in HARDENING}
    assert {
        "NoNewPrivileges",
        "ProtectSystem",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectHome",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "ProtectClock",
        "ProtectHostname",
        "RestrictAddressFamilies",
        "RestrictNamespaces",
        "RestrictRealtime",
        "RestrictSUIDSGID",
        "LockPersonality",
        "MemoryDenyWriteExecute",
        "SystemCallFilter",
        "SystemCallArchitectures",
        "CapabilityBoundingSet",
        "UMask",
    } <= names
    assert all(isinstance(d["value"], str) for d in HARDENING)


def test_ansible_unit_has_the_same_hardening() -> None:
    """Until the role's template renders nix/gateway-hardening.json itself,
    every directive of the list must appear in it, with the same value."""
    template = ROLE / "templates" / "tp-capital-gateway.service.j2"
    if not template.exists():
        pytest.skip("the Ansible gateway role is not in this tree")
    text = template.read_text()
    if "gateway-hardening" in text or "hardening.directives" in text:
        return  # rendered from the JSON: one source, nothing to compare
    lines = {line.strip() for line in text.splitlines()}
    missing = [
        f"{d['name']}={d['value']}" for d in HARDENING if f"{d['name']}={d['value']}" not in lines
    ]
    assert not missing, f"in nix/gateway-hardening.json but not in {template.name}: {missing}"


# -- nix/module.nix -----------------------------------------------------------


@pytest.fixture(scope="module")
def good(nix_instantiate: str) -> Any:
    return evaluate_module(nix_instantiate, GOOD)


def test_module_accepts_a_complete_configuration(good: Any) -> None:
    assert good["enabled"] is True
    assert good["typeErrors"] == []
    assert good["failedAssertions"] == []


def test_module_does_nothing_unless_enabled(nix_instantiate: str) -> None:
    assert evaluate_module(nix_instantiate, {})["enabled"] is False


def test_module_unit_has_every_hardening_directive(good: Any) -> None:
    service = good["service"]["serviceConfig"]
    for name, value in expected_hardening(256).items():
        assert service[name] == value, name


def test_module_unit_restart_and_limits(good: Any) -> None:
    unit = good["service"]
    service = unit["serviceConfig"]
    assert service["Restart"] == "on-failure"
    assert service["RestartSec"] == "10s"
    assert service["MemoryMax"] == "500M"
    assert service["CPUQuota"] == "50%"
    assert service["LimitNOFILE"] == 65536
    assert service["User"] == service["Group"] == "tpcap-gateway"
    assert service["StateDirectoryMode"] == "0700"
    assert service["StateDirectory"][0] == "tp-capital-gateway"
    assert service["ExecStart"].endswith("-tp-capital-gateway-launcher gateway")
    assert unit["wantedBy"] == ["multi-user.target"]
    assert unit["after"] == unit["wants"] == ["network-online.target"]
    assert good["users"]["users"]["tpcap-gateway"]["isSystemUser"] is True


def test_module_does_not_restart_on_exit_codes_that_need_an_operator(good: Any) -> None:
    codes = {int(c) for c in good["service"]["serviceConfig"]["RestartPreventExitStatus"].split()}
    assert {session.EXIT_SESSION_CORRUPT, session.EXIT_SESSION_UNSAFE} <= codes
    doc = (ROOT / "app" / "gateway" / "main.py").read_text()
    line = re.search(r"RestartPreventExitStatus should list ([0-9, and]+)", doc)
    assert line, "app/gateway/main.py no longer documents its exit codes"
    assert codes == {int(c) for c in re.findall(r"\d+", line.group(1))}


def test_module_secrets_are_credentials_not_environment(good: Any) -> None:
    service = good["service"]
    assert sorted(service["serviceConfig"]["LoadCredential"]) == [
        "API_SECRET_TOKEN:/run/keys/tpcap-gateway-token",
        "TELEGRAM_API_HASH:/run/keys/tpcap-telegram-api-hash",
    ]
    assert not {"API_SECRET_TOKEN", "TELEGRAM_API_HASH"} & set(service["environment"])
    assert "EnvironmentFile" not in service["serviceConfig"]


def test_module_environment_is_what_the_gateway_reads(good: Any) -> None:
    environment = good["service"]["environment"]
    assert environment["GATEWAY_PORT"] == "4006"
    assert environment["API_ENDPOINT"] == "http://127.0.0.1:4005"
    assert environment["TELEGRAM_CHANNELS"] == "-1001234567890,@tp_capital"
    assert environment["SESSION_DIR"] == "/var/lib/tp-capital-gateway/.session"
    assert environment["OUTBOX_PATH"].startswith("/var/lib/tp-capital-gateway/data/")
    config = (ROOT / "app" / "gateway" / "config.py").read_text()
    config += (ROOT / "app" / "config.py").read_text()  # LOG_LEVEL
    unknown = [name for name in environment if f'"{name}"' not in config]
    assert not unknown, f"the gateway's configuration reads none of {unknown}"


def test_module_environment_matches_the_ansible_env_file(good: Any) -> None:
    template = ROLE / "templates" / "gateway.env.j2"
    if not template.exists():
        pytest.skip("the Ansible gateway role is not in this tree")
    names = set(re.findall(r"^([A-Z_]+)=", template.read_text(), re.M))
    assert set(good["service"]["environment"]) <= names


def ansible_defaults() -> dict[str, str]:
    defaults = ROLE / "defaults" / "main.yml"
    if not defaults.exists():
        pytest.skip("the Ansible gateway role is not in this tree")
    pairs = re.findall(
        r"^(tp_capital_gateway_\w+):[ \t]*(\S[^#\n]*?)\s*(?:#.*)?$", defaults.read_text(), re.M
    )
    return {key: value.strip("\"'") for key, value in pairs}


def test_module_defaults_match_the_ansible_role(good: Any) -> None:
    role = ansible_defaults()
    module = good["defaults"]
    assert module["user"] == role["tp_capital_gateway_user"]
    assert module["group"] == role["tp_capital_gateway_group"]
    assert str(module["port"]) == role["tp_capital_gateway_port"]
    assert module["restartSec"] == role["tp_capital_gateway_restart_sec"]
    assert module["memoryMax"] == role["tp_capital_gateway_memory_max"]
    assert module["cpuQuota"] == role["tp_capital_gateway_cpu_quota"]
    assert str(module["limitNofile"]) == role["tp_capital_gateway_limit_nofile"]
    assert str(module["maxRetryAttempts"]) == role["tp_capital_gateway_max_retry_attempts"]
    assert str(module["retryDelayMs"]) == role["tp_capital_gateway_retry_delay_ms"]
    assert module["logLevel"] == role["tp_capital_gateway_log_level"]
    assert f"/var/lib/{'tp-capital-gateway'}" == role["tp_capital_gateway_state_dir"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"credentials": {}}, "API_SECRET_TOKEN must come from"),
        ({"credentials": {"API_SECRET_TOKEN": "/run/keys/t"}}, "TELEGRAM_API_HASH must come from"),
        ({"telegramApiId": None}, "set `telegramApiId`"),
        ({"settings": {"API_SECRET_TOKEN": "x" * 40}}, "API_SECRET_TOKEN in `settings`"),
        ({"settings": {"TELEGRAM_SESSION": "1Aa"}}, "TELEGRAM_SESSION in `settings`"),
        ({"settings": {"OUTBOX_PATH": "/tmp/o"}}, "cannot be moved"),
        (
            {"credentials": {**GOOD["credentials"], "API_SECRET_TOKEN": "/nix/store/abc-token"}},
            "outside the Nix store",
        ),
        ({"environmentFile": "/nix/store/abc-gateway.env"}, "outside the Nix store"),
        (
            {"credentials": {**GOOD["credentials"], "bad-name": "/run/keys/x"}},
            "environment variable names",
        ),
    ],
)
def test_module_refuses_unsafe_or_incomplete_configuration(
    nix_instantiate: str, change: dict[str, Any], message: str
) -> None:
    result = evaluate_module(nix_instantiate, {**GOOD, **change})
    assert any(message in failure for failure in result["failedAssertions"]), result[
        "failedAssertions"
    ]


def test_module_channels_may_come_from_the_registry_alone(nix_instantiate: str) -> None:
    result = evaluate_module(nix_instantiate, {**GOOD, "channels": []})
    assert result["failedAssertions"] == []
    assert "TELEGRAM_CHANNELS" not in result["service"]["environment"]


def test_module_environment_file_alone_is_enough(nix_instantiate: str) -> None:
    result = evaluate_module(
        nix_instantiate, {"enable": True, "environmentFile": "/run/secrets/gateway.env"}
    )
    assert result["failedAssertions"] == []
    assert result["service"]["serviceConfig"]["EnvironmentFile"] == "/run/secrets/gateway.env"


@pytest.mark.parametrize(
    ("change", "option"),
    [
        ({"apiEndpoints": ["ftp://api:4005"]}, "apiEndpoints"),
        ({"apiEndpoints": []}, "apiEndpoints"),
        ({"credentials": {"API_SECRET_TOKEN": "run/keys/token"}}, "credentials"),
        ({"environmentFile": "secrets.env"}, "environmentFile"),
        ({"channels": ["not a channel"]}, "channels"),
        ({"port": 70000}, "port"),
    ],
)
def test_module_option_types_reject_bad_values(
    nix_instantiate: str, change: dict[str, Any], option: str
) -> None:
    assert evaluate_module(nix_instantiate, {**GOOD, **change})["typeErrors"] == [option]


def test_module_opens_the_firewall_only_when_asked(nix_instantiate: str, good: Any) -> None:
    assert good["firewallPorts"] == []
    opened = evaluate_module(nix_instantiate, {**GOOD, "openFirewall": True, "port": 4106})
    assert opened["firewallPorts"] == [4106]
    assert opened["service"]["environment"]["GATEWAY_PORT"] == "4106"


def test_login_helper_runs_with_the_service_identity(good: Any) -> None:
    login = good["loginText"]
    assert "systemd-run --pty" in login
    assert "'--uid=tpcap-gateway'" in login
    assert "'--property=LoadCredential=API_SECRET_TOKEN:/run/keys/tpcap-gateway-token'" in login
    assert "'--setenv=SESSION_DIR=/var/lib/tp-capital-gateway/.session'" in login
    assert login.rstrip().endswith("-tp-capital-gateway-launcher gateway login")


def test_launcher_turns_credentials_into_environment(nix_instantiate: str, tmp_path: Path) -> None:
    """The generated ExecStart script, run for real with a fake tpcap."""
    fake = tmp_path / "tpcap"
    fake.write_text(
        '#!/bin/sh\necho "args=$*"\nenv | grep -E "^(API_SECRET_TOKEN|TELEGRAM_API_HASH)="\n'
    )
    fake.chmod(0o755)
    text = evaluate(
        nix_instantiate,
        f"""import {ROOT}/nix/launcher.nix {{
          writeShellScript = name: text: text;
          name = "launcher";
          exe = "{fake}";
          credentials = [ "API_SECRET_TOKEN" "TELEGRAM_API_HASH" ];
        }}""",
    )
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "API_SECRET_TOKEN").write_text("token-" + "x" * 32)
    (credentials / "TELEGRAM_API_HASH").write_text("0123456789abcdef0123456789abcdef")
    script = tmp_path / "launcher"
    script.write_text("#!/bin/bash\n" + text)
    script.chmod(0o755)
    result = subprocess.run(
        [str(script), "gateway", "login"],
        env={"PATH": "/usr/bin:/bin", "CREDENTIALS_DIRECTORY": str(credentials)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(result.stdout.splitlines()) == [
        "API_SECRET_TOKEN=token-" + "x" * 32,
        "TELEGRAM_API_HASH=0123456789abcdef0123456789abcdef",
        "args=gateway login",
    ]
    missing = subprocess.run(
        [str(script), "gateway"],
        env={"PATH": "/usr/bin:/bin", "CREDENTIALS_DIRECTORY": str(tmp_path / "none")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode != 0
    assert "args=" not in missing.stdout
