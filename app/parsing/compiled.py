"""Which parser modules setup.py compiles with mypyc, and the guard against a stale build.

An editable install (``pip install -e .``, the dev virtualenv) puts the compiled modules next
to their sources, and Python imports a compiled module before its ``.py``. Once a source is
edited, its compiled form is out of date; compiled modules call each other directly, so they
are used all together or not at all. When any source is newer than its build, every module
here is loaded from source, with one warning, until the next ``pip install -e .`` (which
``scripts/bootstrap.sh`` runs when the parser's sources change).

``TPCAP_PARSER_INTERPRETED=1`` runs the sources even when the build is current (to compare the
two, or to rule the compiled form out when a result looks wrong).

Standard library only: setup.py reads ``MODULES`` from this file before anything is built.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
from pathlib import Path
from types import ModuleType

PACKAGE = "app.parsing"
# module names under app.parsing; "lexicon" is a package (lexicon/__init__.py, beside its TOML)
MODULES = (
    "lexicon",
    "normalise",
    "numbers",
    "fuzzy",
    "tokens",
    "instruments",
    "fields",
    "followups",
    "validate",
    "signals",
)
HERE = Path(__file__).resolve().parent
# installers write files one after another: a source a moment newer than its build is not an edit
_SLACK_S = 2.0


PACKAGES = frozenset({"lexicon"})


def source_path(name: str, directory: Path = HERE) -> Path:
    """The module's source file, relative paths as setup.py passes them to mypyc."""
    return directory / name / "__init__.py" if name in PACKAGES else directory / f"{name}.py"


def _built(name: str, directory: Path = HERE) -> Path | None:
    stem = source_path(name, directory).with_suffix("")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = stem.with_name(stem.name + suffix)
        if candidate.exists():
            return candidate
    return None


def stale_modules(directory: Path = HERE) -> list[str]:
    """Compiled modules whose source was changed after they were built."""
    stale = []
    for name in MODULES:
        built = _built(name, directory)
        source = source_path(name, directory)
        if (
            built is not None
            and source.exists()
            and source.stat().st_mtime > built.stat().st_mtime + _SLACK_S
        ):
            stale.append(name)
    return stale


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the parser's modules as their ``.py`` files, ahead of the compiled ones."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != PACKAGE or name not in MODULES:
            return None
        source = source_path(name, self.directory)
        if name in PACKAGES:
            return importlib.util.spec_from_file_location(
                fullname, source, submodule_search_locations=[str(source.parent)]
            )
        return importlib.util.spec_from_file_location(fullname, source)


def guard(directory: Path = HERE) -> None:
    """Load every parser module from source when any compiled one is stale (or when asked)."""
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        return
    if os.environ.get("TPCAP_PARSER_INTERPRETED") == "1":
        sys.meta_path.insert(0, _SourceFinder(directory))
        return
    stale = stale_modules(directory)
    if not stale:
        return
    sys.meta_path.insert(0, _SourceFinder(directory))
    logging.getLogger(PACKAGE).warning(
        "the compiled parser is older than its sources (%s); running the sources, slower, "
        "until `pip install -e .` rebuilds it",
        ", ".join(str(source_path(name, directory).relative_to(directory)) for name in stale),
    )


def state() -> str:
    """``compiled`` or ``interpreted``: how the parser runs in this process."""
    module = sys.modules.get(f"{PACKAGE}.signals")
    if module is None:
        return "not loaded"
    origin = getattr(module, "__file__", "") or ""
    return "compiled" if origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)) else (
        "interpreted"
    )
