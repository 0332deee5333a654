"""`tpcap`: one console command for every process and tool of the appliance.

Each sub-command lives in its own module exposing `add_arguments(parser)` and
`run(args) -> int`; modules are imported only when their command runs, so a
tool does not pay for (or depend on) the others' imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from app.config import ConfigError

# command -> (module, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "api": ("app.api.main", "run the signals api (Tornado, PORT 4005)"),
    "migrate": ("app.migrate_cli", "apply the SQL migrations in sql/"),
    "validate-env": ("app.validate_env", "check a gateway and an api env file against each other"),
    "gateway": ("app.gateway.main", "run the Telegram gateway (or `gateway login`)"),
    "recover": ("app.gateway.recover", "export or replay the JSONL failure queue"),
    "workspace": ("app.workspace.main", "run the workspace service (PORT 3200)"),
    "import-lowdb": ("app.workspace.importer", "import a LowDB library.json into the workspace"),
    "parse": ("app.parse_cli", "show what the parser makes of a message or a JSONL file"),
    "reparse": ("app.reparse_cli", "re-apply the parser to stored messages, report what changed"),
    "local": ("app.local", "run the whole appliance locally with a private PostgreSQL"),
}

EXIT_CONFIG = 2


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(prog="tpcap", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules: dict[str, object] = {}
    wanted = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text)
        if name == wanted:
            module = importlib.import_module(module_name)
            module.add_arguments(command_parser)  # type: ignore[attr-defined]
            modules[name] = module
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    parser, modules = build_parser()
    args = parser.parse_args()
    module = modules.get(args.command) or importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)  # type: ignore[attr-defined]
    except ConfigError as exc:
        print(f"tpcap {args.command}: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
