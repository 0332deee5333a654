"""The parser's lexicon: built-in data files, the operator's PARSER_LEXICON_PATH file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api.config import ApiConfig
from app.config import ConfigError, Env
from app.parsing import NotASignal, Signal, lexicon, parse_signal
from app.parsing.lexicon import LETTER_RUN, LexiconError, load_lexicon
from app.parsing.normalise import lower, normalise
from tests.parsing.corpus_check import load_corpus

TOKEN = "t" * 32
ROOT = Path(__file__).resolve().parents[2]

OPERATOR_FILE = """\
# words one channel writes
language = "operator"
decimal = "dot"

[labels]
entry = ["einstieg"]
target = ["kursziel"]
stop = ["absicherung"]
buy = ["kaufen"]

[aliases]
"yellow metal" = "XAUUSD"
"""
MESSAGE = "Yellow metal kaufen\nEinstieg 2340\nKursziel 2352\nAbsicherung 2331"


@pytest.fixture
def restore_lexicon() -> Iterator[None]:
    yield
    lexicon.install(None)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lexicon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_lexicon_has_every_language_and_instrument_file() -> None:
    lex = load_lexicon(None)
    assert {"en.toml", "pt.toml", "es.toml", "ru.toml", "tr.toml", "fa.toml"} <= set(lex.sources)
    for word, kind in [
        ("alvo", "target"),
        ("objetivo", "target"),
        ("тейк", "target"),
        ("hedef", "target"),
        ("حد ضرر", "stop"),
        ("стоп-лосс", "stop"),
        ("zarar durdur", "stop"),
        ("compra", "buy"),
        ("шорт", "sell"),
        ("ورود", "entry"),
    ]:
        label = lex.label(word)
        assert label is not None and label.kind == kind, word
    assert lex.aliases["gold"] == "XAUUSD" and lex.aliases["dowjones"] == "US30"


def test_operator_file_adds_labels_and_aliases(tmp_path: Path, restore_lexicon: None) -> None:
    assert isinstance(parse_signal(MESSAGE), NotASignal)
    lexicon.install(write(tmp_path, OPERATOR_FILE))
    got = parse_signal(MESSAGE)
    assert isinstance(got, Signal), got
    assert (got.asset, got.side, float(got.buy_min or 0), got.as_dict()["stop"]) == (
        "XAUUSD",
        "buy",
        2340.0,
        2331.0,
    )
    assert got.as_dict()["targets"] == [2352.0]
    # the built-in words still work next to the operator's
    assert isinstance(parse_signal("Ativo: PETR4\nCompra: 36,20"), Signal)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("[labels\nentry = []\n", "line 1", id="invalid-toml"),
        pytest.param(
            'decimal = "dot"\n\n[labels]\nentri = ["x"]\n', "line 4: unknown key 'entri'", id="kind"
        ),
        pytest.param('langauge = "x"\n', "line 1: unknown key 'langauge'", id="top-level"),
        pytest.param('[labels]\nentry = "einstieg"\n', "line 2: 'entry' must be a list", id="type"),
        pytest.param('[labels]\nstop = ["sl", ""]\n', "line 2: 'stop' must be a list", id="empty"),
        pytest.param(
            '[aliases]\n"yellow metal" = "XAU USD!"\n', "line 2: alias 'yellow metal'", id="alias"
        ),
        pytest.param('decimal = "comma-ish"\n', "line 1: 'decimal' must be", id="decimal"),
    ],
)
def test_a_bad_file_is_named_with_its_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LexiconError) as caught:
        load_lexicon(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="cannot read it"):
        load_lexicon(tmp_path / "nope.toml")


def test_api_config_validates_the_file(tmp_path: Path) -> None:
    good = write(tmp_path, OPERATOR_FILE)
    env = {"GATEWAY_SECRET_TOKEN": TOKEN, "PARSER_LEXICON_PATH": str(good)}
    assert ApiConfig.from_env(Env(env)).parser_lexicon_path == str(good)
    assert ApiConfig.from_env(Env({"GATEWAY_SECRET_TOKEN": TOKEN})).parser_lexicon_path is None
    bad = tmp_path / "bad.toml"
    bad.write_text('[labels]\nentry = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        ApiConfig.from_env(Env({**env, "PARSER_LEXICON_PATH": str(bad)}))
    assert caught.value.variable == "PARSER_LEXICON_PATH"
    assert f"{bad}, line 2" in str(caught.value)


def test_api_refuses_to_start_with_a_bad_file(tmp_path: Path) -> None:
    bad = write(tmp_path, '[labels]\ntarget = ["kursziel"]\nstopp = ["x"]\n')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TIMESCALEDB", "PARSER"))},
        "GATEWAY_SECRET_TOKEN": TOKEN,
        "PARSER_LEXICON_PATH": str(bad),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "api"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "PARSER_LEXICON_PATH" in lines[0] and f"{bad}, line 3" in lines[0]
    assert "unknown key 'stopp'" in lines[0]


def test_word_pattern_precheck_never_hides_a_match() -> None:
    """``may_occur`` says False only where the pattern finds nothing, on every corpus message
    and line, for every word class; and it does spare scans (most signals name no type)."""
    lex = lexicon.active()
    classes = {
        "label": lex.label_re,
        "market": lex.market_re,
        "type": lex.type_re,
        "followup": lex.followup_re,
        "alias": lex.alias_re,
    }
    spared = dict.fromkeys(classes, 0)
    cases = load_corpus()
    for case in cases:
        text = lower("\n".join(normalise(case.text, lex.symbols, lex.symbols_re)))
        for piece in (text, *text.split("\n")):
            words = frozenset(LETTER_RUN.findall(piece))
            for name, pattern in classes.items():
                if not pattern.may_occur(words, piece):
                    assert pattern.search(piece) is None, (name, case.ident, piece)
                    assert pattern.regex.search(piece) is None, (name, case.ident, piece)
                    spared[name] += piece is text
    assert spared["type"] > len(cases) // 2
    assert spared["followup"] > len(cases) // 2


def test_word_pattern_with_a_phrase_of_no_letter() -> None:
    """A phrase of digits and single letters ("0 a 0", breakeven) is pre-checked by its own
    plain search, so the connector of a Portuguese range ("1,04 a 1,06") lets no scan pass."""
    pattern = lexicon.WordPattern(["0 a 0", "stop loss"])
    cases = {
        "stop no 0 a 0": True,
        "sl 0a0": True,
        "compra: 1,04 a 1,06": False,
        "alvo 10 a 20": False,
        "stoploss 1.0800": True,
        "stop-loss: 1.0800": True,
        "stop 1.0800": False,
        "loss 1.0800": False,
    }
    for text, expected in cases.items():
        words = frozenset(LETTER_RUN.findall(text))
        assert pattern.may_occur(words, text) is expected, text
        assert (pattern.search(text) is not None) is expected, text
