"""The compiled parser (setup.py builds app/parsing with mypyc): used, current, and the same.

The compiled and the interpreted forms run the same sources; these tests check that the
installed build is the compiled one (in CI a plain-Python build is a failure, since the speed
target depends on it), that both forms give the same outcome on every corpus, held-out and
benchmark message, and that a stale build steps aside for the sources.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.parsing import compiled, parse_signal
from tests.conftest import require_or_skip
from tests.parsing.corpus_check import load_corpus
from tests.perf.bench_parser import build_corpus

ROOT = Path(__file__).resolve().parents[2]
SUFFIX = compiled.importlib.machinery.EXTENSION_SUFFIXES[0]

_DUMP = """
import json, sys
from app.parsing import compiled, parse_signal
texts = json.load(sys.stdin)
out = [repr(parse_signal(t)) for t in texts]
print(json.dumps({"state": compiled.state(), "outcomes": out}))
"""


def _messages() -> list[str]:
    texts = [case.text for case in load_corpus()]
    texts += [case.text for case in load_corpus(Path(__file__).parent / "holdout")]
    texts += build_corpus(1500, seed=11)
    texts += ["", " ", "\x00", "TP1 " * 2000, "𝐁𝐔𝐘 ۱۲۳ ➊ 1,2,3", "\ud800 buy 1 tp 2 sl 0.5"]
    return texts


def test_the_parser_runs_compiled() -> None:
    require_or_skip(
        compiled.state() == "compiled",
        "the parser was installed as plain Python: no C compiler or Python.h when "
        "`pip install -e .` ran, or mypyc refused a type error (its output says which; "
        "`pip install -v -e .` shows it; see setup.py)",
    )


def test_compiled_and_interpreted_parsers_agree_on_every_message() -> None:
    require_or_skip(compiled.state() == "compiled", "the parser is not compiled here")
    texts = _messages()
    child = subprocess.run(
        [sys.executable, "-c", _DUMP],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "TPCAP_PARSER_INTERPRETED": "1"},
    )
    interpreted = json.loads(child.stdout)
    assert interpreted["state"] == "interpreted"
    ours = [repr(parse_signal(t)) for t in texts]
    differ = [
        (text[:60], a, b)
        for text, a, b in zip(texts, ours, interpreted["outcomes"], strict=True)
        if a != b
    ]
    assert len(ours) > 1500
    assert differ == []


def _touch(path: Path, when: float) -> None:
    path.write_text("")
    os.utime(path, (when, when))


def test_a_source_newer_than_its_build_is_stale(tmp_path: Path) -> None:
    now = time.time()
    _touch(tmp_path / "fields.py", now)
    _touch(tmp_path / f"fields{SUFFIX}", now - 60)
    _touch(tmp_path / "tokens.py", now - 60)
    _touch(tmp_path / f"tokens{SUFFIX}", now)
    _touch(tmp_path / "numbers.py", now)  # no build: interpreted, not stale
    # an installer writing the source a moment after the build is not an edit
    _touch(tmp_path / "signals.py", now + 1)
    _touch(tmp_path / f"signals{SUFFIX}", now)
    assert compiled.stale_modules(tmp_path) == ["fields"]


def test_a_stale_build_runs_every_parser_module_from_source(tmp_path: Path) -> None:
    require_or_skip(compiled.state() == "compiled", "the parser is not compiled here")
    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "app", copy / "app", ignore=shutil.ignore_patterns("__pycache__"))
    for lib in ROOT.glob("tpcap_parser__mypyc*"):
        shutil.copy2(lib, copy)
    fields = copy / "app" / "parsing" / "fields.py"
    later = time.time() + 60
    os.utime(fields, (later, later))
    probe = (
        "from app.parsing import compiled, parse_signal\n"
        "import sys\n"
        "print(compiled.state(), sys.modules['app.parsing.tokens'].__file__.endswith('.py'))\n"
        "print(parse_signal('XAUUSD BUY NOW\\nTP 2350\\nSL 2330').side)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TPCAP_PARSER_INTERPRETED"}
    env["PYTHONPATH"] = str(copy)
    child = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=copy,
        env=env,
    )
    assert child.stdout.split() == ["interpreted", "True", "buy"]
    assert "older than its sources (fields.py)" in child.stderr


@pytest.mark.parametrize("value", ["1", "0"])
def test_the_interpreted_switch(value: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import app.parsing as p; print(p.compiled.state())"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "TPCAP_PARSER_INTERPRETED": value},
    )
    if value == "1":
        assert child.stdout.strip() == "interpreted"
    else:
        assert child.stdout.strip() == compiled.state()


def test_outcomes_survive_pickling() -> None:
    # parse workers send outcomes back to the api pickled
    import pickle

    for text in ("XAUUSD BUY NOW\nTP 2350\nSL 2330", "Bom dia pessoal!"):
        outcome = parse_signal(text)
        again = pickle.loads(pickle.dumps(outcome))
        assert again == outcome
        assert type(again) is type(outcome)
