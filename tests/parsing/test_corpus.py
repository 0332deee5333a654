"""The labelled corpus: well-formed, and the parser meets issue 9's accuracy targets on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.parsing.corpus_check import (
    Case,
    CorpusError,
    Outcome,
    check,
    compare,
    evaluate,
    load_corpus,
    load_family,
    parse_expect,
    score,
)

REQUIRED_LANGUAGES = {"en", "pt", "es", "ru", "tr", "fa"}
TP_CAPITAL = "tp-capital"
# Families whose targets are unnumbered (or numbered in order): they count by position.
POSITIONAL_FAMILIES = frozenset({"unnumbered-targets", "compact-one-line"})


@pytest.fixture(scope="module")
def corpus() -> list[Case]:
    return load_corpus()


# --------------------------------------------------------------------------- (a) shape


def test_corpus_size_and_coverage(corpus: list[Case]) -> None:
    families = {c.family for c in corpus}
    assert len(corpus) >= 600
    assert len(families) >= 40
    assert sum(not c.is_signal for c in corpus) >= 150
    assert {c.lang for c in corpus} >= REQUIRED_LANGUAGES
    assert TP_CAPITAL in families


def test_every_family_has_10_to_25_cases(corpus: list[Case]) -> None:
    sizes: dict[str, int] = {}
    for case in corpus:
        sizes[case.family] = sizes.get(case.family, 0) + 1
    assert {f: n for f, n in sizes.items() if not 10 <= n <= 25} == {}


def test_unnumbered_targets_count_by_position(corpus: list[Case]) -> None:
    wrong = []
    for case in corpus:
        if case.family not in POSITIONAL_FAMILIES or case.expect is None:
            continue
        e, targets = case.expect, case.expect["targets"]
        by_position = (targets[0], targets[1] if len(targets) > 1 else None, targets[-1])
        if targets == [] or (e["target_1"], e["target_2"], e["target_final"]) != by_position:
            wrong.append(case.ident)
    assert wrong == []


# --------------------------------------------------------------------------- (b) targets


@pytest.fixture(scope="module")
def parsed(corpus: list[Case]):
    return evaluate(corpus)


def test_overall_accuracy_at_least_97_percent(parsed) -> None:
    failures = [f"{r.case.ident}: {'; '.join(map(str, r.mismatches))}" for r in parsed.failures]
    assert parsed.overall.accuracy >= 0.97, "\n".join(failures[:40])


def test_every_family_at_least_85_percent(parsed) -> None:
    low = {
        name: f"{t.right}/{t.cases}"
        for name, t in sorted(parsed.families.items())
        if t.accuracy < 0.85
    }
    assert low == {}


def test_non_signals_read_as_signals_at_most_1_percent(parsed) -> None:
    fps = [r.case.ident for r in parsed.results if not r.case.is_signal and not r.right]
    assert parsed.false_positive_rate <= 0.01, fps


def test_tp_capital_family_exact(parsed) -> None:
    wrong = {
        r.case.ident: [str(m) for m in r.mismatches]
        for r in parsed.results
        if r.case.family == TP_CAPITAL and not r.right
    }
    assert wrong == {}


# --------------------------------------------------------------------------- (c) comparison


def _signal(**fields) -> Outcome:
    base = {
        "asset": "EURUSD",
        "signal_type": "Unspecified",
        "side": "buy",
        "buy_min": 1.085,
        "buy_max": 1.085,
        "targets": [1.09, 1.095],
        "target_1": 1.09,
        "target_2": 1.095,
        "target_final": 1.095,
        "stop": 1.08,
    }
    return Outcome({**base, **fields})


EXPECT = {
    "asset": "EURUSD",
    "side": "buy",
    "buy_min": 1.085,
    "buy_max": 1.085,
    "targets": [1.09, 1.095],
    "target_1": 1.09,
    "target_2": 1.095,
    "target_final": 1.095,
    "stop": 1.08,
}


def test_matching_signal_is_right_within_relative_tolerance() -> None:
    assert compare(parse_expect(EXPECT), _signal(buy_min=1.085 * (1 + 1e-12))) == ()


def test_each_differing_field_is_reported() -> None:
    got = compare(parse_expect(EXPECT), _signal(stop=1.07, targets=[1.09]))
    assert [m.field for m in got] == ["targets", "stop"]
    assert got[1].expected == 1.08 and got[1].got == 1.07


def test_missing_keys_mean_null_and_empty_targets() -> None:
    expect = parse_expect({"asset": "PETR4", "side": "buy", "buy_min": 30.5, "buy_max": 30.5})
    entry_only = Outcome(
        {
            "asset": "PETR4",
            "side": "buy",
            "buy_min": 30.5,
            "buy_max": 30.5,
            "targets": [],
            "target_1": None,
            "target_2": None,
            "target_final": None,
            "stop": None,
        }
    )
    assert compare(expect, entry_only) == ()
    with_stop = Outcome({**entry_only.fields, "stop": 29.0})
    assert [m.field for m in compare(expect, with_stop)] == ["stop"]


def test_signal_type_compared_only_when_expected() -> None:
    assert compare(parse_expect(EXPECT), _signal(signal_type="Scalp")) == ()
    typed = parse_expect({**EXPECT, "signal_type": "Swing Trade"})
    assert [m.field for m in compare(typed, _signal(signal_type="Scalp"))] == ["signal_type"]


def test_not_signal_expectations() -> None:
    assert compare(None, Outcome(None, "not_signal: chatter")) == ()
    assert [m.field for m in compare(None, _signal())] == ["outcome"]
    missed = compare(parse_expect(EXPECT), Outcome(None, "invalid: no asset"))
    assert len(missed) == 1 and "no asset" in missed[0].got


def test_score_counts_families_languages_and_false_positives() -> None:
    cases = [
        Case("a", 0, "en", "s1", parse_expect(EXPECT)),
        Case("a", 1, "en", "n1", None),
        Case("b", 0, "pt", "n2", None),
    ]
    answers = {"s1": _signal(), "n1": _signal(), "n2": Outcome(None, "not_signal: x")}
    result = score(check(c, answers.__getitem__) for c in cases)
    assert (result.overall.cases, result.overall.right) == (3, 2)
    assert (result.families["a"].right, result.families["b"].right) == (1, 1)
    assert result.languages["pt"].accuracy == 1.0
    assert (result.non_signals, result.false_positives) == (2, 1)
    assert result.false_positive_rate == 0.5
    assert [r.case.ident for r in result.failures] == ["a#1"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({**EXPECT, "colour": "red"}, "unknown fields"),
        ({**EXPECT, "side": "long"}, "side"),
        ({**EXPECT, "asset": "eur/usd"}, "asset"),
        ({**EXPECT, "stop": "1.08"}, "stop"),
        ({**EXPECT, "target_final": None}, "target_final"),
        ({**EXPECT, "target_1": 1.2}, "target_1"),
        ({**EXPECT, "buy_max": None}, "both set"),
        ({**EXPECT, "stop": 1.1}, "stop"),
        ({**EXPECT, "signal_type": "Swing"}, "signal_type"),
        ("signal", "not_signal"),
    ],
)
def test_bad_expectations_are_refused(bad, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_expect(bad)


@pytest.mark.parametrize(
    "targets",
    [
        {"targets": [1.095], "target_1": 1.095, "target_final": 1.095},  # `TP: 1.0950` alone
        {"targets": [1.09, 1.095], "target_1": 1.09, "target_2": 1.095, "target_final": 1.095},
        {"targets": [1.095], "target_2": 1.095, "target_final": 1.095},  # `TP 2: 1.0950` alone
    ],
)
def test_targets_by_position_or_label_are_accepted(targets: dict) -> None:
    base = {k: v for k, v in EXPECT.items() if not k.startswith("target")}
    expect = parse_expect({**base, **targets})
    assert expect is not None and expect["targets"] == targets["targets"]


def _write(tmp_path: Path, body: str, name: str = "fam") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'family = "{name}"\ndescription = "d"\n{body}', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[case]]\nlang = "en"\ntext = "x"\nexpect = "not_signal"\n'
            '[[case]]\nlang = "en"\nexpect = "not_signal"\n',
            "fam.toml case 1: missing text",
        ),
        (
            '[[case]]\nlang = "en"\ntext = "x"\nexpect = "not_signal"\nwho = 1\n',
            "fam.toml case 0: unknown keys",
        ),
        (
            '[[case]]\nlang = "en"\ntext = "x"\nexpect = { asset = "X" }\n',
            "fam.toml case 0: bad expect",
        ),
        ('[[case]]\nlang = "xx"\ntext = "x"\nexpect = "not_signal"\n', "fam.toml case 0: lang"),
        ('[[case]]\nlang = "en"\ntext = "x"\n', "fam.toml case 0: missing expect"),
        ("colour = 1\n", "fam.toml: unknown keys"),
        ("[[case]\n", "fam.toml: not valid TOML"),
    ],
)
def test_malformed_files_name_file_and_case(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(CorpusError, match=message.replace("(", r"\(")):
        load_family(_write(tmp_path, body))


def test_family_must_match_file_name_and_texts_be_unique(tmp_path: Path) -> None:
    path = tmp_path / "one.toml"
    path.write_text('family = "two"\ndescription = "d"\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"one\.toml: family"):
        load_family(path)
    path.unlink()
    case = '[[case]]\nlang = "en"\ntext = "hello"\nexpect = "not_signal"\n'
    _write(tmp_path, case, "a")
    _write(tmp_path, case, "b")
    with pytest.raises(CorpusError, match=r"b\.toml case 0: same text as a\.toml case 0"):
        load_corpus(tmp_path)
