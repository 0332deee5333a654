"""Build hook: the signal parser's modules are compiled to C with mypyc when a C compiler is here.

pyproject.toml holds everything else. The compiled parser runs the same source, about 1.6x
faster (docs/parser.md, tests/perf/bench_parser.py); without a compiler, Python.h or mypyc,
or with TPCAP_PURE_PARSER=1, the package is built as plain Python and behaves the same.
"""

from __future__ import annotations

import os
import runpy
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import setup

# The parser's pure modules, as listed by app/parsing/compiled.py (read without importing the
# package, which would import the parser)
_HERE = Path(__file__).resolve().parent
_LISTED = runpy.run_path(str(_HERE / "app" / "parsing" / "compiled.py"))
PARSER_MODULES = [
    str(_LISTED["source_path"](name, Path("app/parsing"))) for name in _LISTED["MODULES"]
]


def _why_not_compiled() -> str | None:
    if os.environ.get("TPCAP_PURE_PARSER") == "1":
        return "TPCAP_PURE_PARSER=1"
    if sys.implementation.name != "cpython":
        return f"{sys.implementation.name} is not CPython"
    if not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        return "Python.h is missing (install python3-dev)"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler}; install gcc)"
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return "mypyc is not installed in the build environment"
    return None


def _ext_modules() -> list:
    reason = _why_not_compiled()
    if reason is not None:
        print(f"tp-capital: building the parser as plain Python: {reason}", file=sys.stderr)
        return []
    from mypyc.build import mypycify

    try:
        # debug_level 0: no debug info, so the build directory is not written into the binary
        # and the same sources give the same wheel (scripts/build-wheelhouse.sh relies on it)
        return mypycify(
            PARSER_MODULES, opt_level="3", debug_level="0", group_name="tpcap_parser"
        )
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error in the parser
        print(
            f"tp-capital: mypyc could not compile the parser ({exc!r}; its type errors are "
            "printed above); building it as plain Python",
            file=sys.stderr,
        )
        return []


setup(ext_modules=_ext_modules())
