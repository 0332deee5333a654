"""Reading KEY=VALUE env files (systemd EnvironmentFile / docker --env-file style)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


@dataclass(frozen=True)
class EnvFileError(Exception):
    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


def parse_env_text(text: str, path: str = "<env>") -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise EnvFileError(path, number, f"expected KEY=VALUE, got {line[:40]!r}")
        key, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif value[:1] in "'\"":
            raise EnvFileError(path, number, f"unterminated quote in the value of {key}")
        values[key] = value
    return values


def read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EnvFileError(str(path), 0, "file not found") from None
    except UnicodeDecodeError as exc:
        raise EnvFileError(str(path), 0, f"not UTF-8 (byte {exc.start})") from None
    return parse_env_text(text, str(path))
