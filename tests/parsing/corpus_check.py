"""The labelled signal corpus: loading, validation and scoring (pure functions).

One TOML file per family in ``tests/parsing/corpus/<family>.toml``::

    family = "forex-market-order"
    description = "BUY NOW / SELL NOW with TP/SL lines, no entry price"

    [[case]]
    lang = "en"
    text = '''...'''
    expect = { asset = "XAUUSD", side = "buy", targets = [2350, 2355], ... }   # or "not_signal"

In ``expect`` a missing price field means null, a missing ``targets`` means ``[]`` and
``signal_type`` is compared only when present. A case is right when every compared field
matches (numbers with relative tolerance 1e-9) or, for ``"not_signal"``, when the parser
returns a ``NotASignal``. Shared by ``test_corpus.py`` and ``tests/perf/bench_parser_corpus.py``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"

NOT_SIGNAL = "not_signal"
LANGUAGES = frozenset({"en", "pt", "es", "ru", "tr", "fa", "ar", "de", "fr", "it", "mixed"})
SIGNAL_TYPES = frozenset(
    {"Swing Trade", "Day Trade", "Position", "Scalp", "Spot", "Futures", "Unspecified"}
)
PRICE_FIELDS = ("buy_min", "buy_max", "target_1", "target_2", "target_final", "stop")
# Compared on every signal case; ``signal_type`` only when the expectation names it.
COMPARED_FIELDS = ("asset", "side", "buy_min", "buy_max", "targets", *PRICE_FIELDS[2:])
EXPECT_KEYS = frozenset({*COMPARED_FIELDS, "signal_type"})
FILE_KEYS = frozenset({"family", "description", "case"})
CASE_KEYS = frozenset({"lang", "text", "expect", "note"})
REL_TOL = 1e-9

Expectation = dict[str, Any] | None  # None: the message is not a signal


class CorpusError(ValueError):
    """A corpus file is malformed; the message names the file and the case index."""


@dataclass(frozen=True, slots=True)
class Case:
    family: str
    index: int  # 0-based position of the [[case]] in its file
    lang: str
    text: str
    expect: Expectation
    note: str = ""

    @property
    def ident(self) -> str:
        return f"{self.family}#{self.index}"

    @property
    def is_signal(self) -> bool:
        return self.expect is not None


@dataclass(frozen=True, slots=True)
class Mismatch:
    field: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        return f"{self.field}: expected {self.expected!r}, got {self.got!r}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A parser result reduced to what the corpus compares."""

    fields: dict[str, Any] | None  # Signal.as_dict(), or None for a NotASignal
    reason: str = ""  # "status: reason" of a NotASignal


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    outcome: Outcome
    mismatches: tuple[Mismatch, ...]

    @property
    def right(self) -> bool:
        return not self.mismatches


@dataclass(slots=True)
class Tally:
    cases: int = 0
    right: int = 0

    @property
    def accuracy(self) -> float:
        return self.right / self.cases if self.cases else 1.0


@dataclass(slots=True)
class Score:
    results: list[CaseResult]
    families: dict[str, Tally] = field(default_factory=dict)
    languages: dict[str, Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)
    non_signals: int = 0
    false_positives: int = 0  # non-signals the parser read as signals

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.non_signals if self.non_signals else 0.0

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.right]


# --------------------------------------------------------------------------- loading


def load_corpus(directory: Path = CORPUS_DIR) -> list[Case]:
    """Every case of every ``*.toml`` in ``directory``, files in name order."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CorpusError(f"{directory}: no corpus files")
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in files:
        for case in load_family(path):
            key = case.text.strip()
            if key in seen:
                raise CorpusError(f"{path.name} case {case.index}: same text as {seen[key]}")
            seen[key] = f"{path.name} case {case.index}"
            cases.append(case)
    return cases


def load_family(path: Path) -> list[Case]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_family(data, path.name, path.stem)


def parse_family(data: Mapping[str, Any], source: str, stem: str) -> list[Case]:
    """Validate one decoded family file; ``source`` names it in errors."""
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise CorpusError(f"{source}: unknown keys {sorted(unknown)}")
    family = data.get("family")
    if family != stem:
        raise CorpusError(f"{source}: family = {family!r} must equal the file name {stem!r}")
    if not isinstance(data.get("description"), str) or not data["description"].strip():
        raise CorpusError(f"{source}: missing description")
    raw_cases = data.get("case")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise CorpusError(f"{source}: no [[case]] entries")
    return [_parse_case(raw, family, i, source) for i, raw in enumerate(raw_cases)]


def _parse_case(raw: Any, family: str, index: int, source: str) -> Case:
    where = f"{source} case {index}"
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: not a table")
    unknown = set(raw) - CASE_KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: missing text")
    lang = raw.get("lang")
    if lang not in LANGUAGES:
        raise CorpusError(f"{where}: lang {lang!r} is not one of {sorted(LANGUAGES)}")
    if "expect" not in raw:
        raise CorpusError(f"{where}: missing expect")
    try:
        expect = parse_expect(raw["expect"])
    except ValueError as exc:
        raise CorpusError(f"{where}: bad expect: {exc}") from exc
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise CorpusError(f"{where}: note must be a string")
    return Case(family, index, lang, text, expect, note)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_expect(raw: Any) -> Expectation:
    """``"not_signal"`` -> None; a table -> the full expected dict (nulls filled in).

    Besides the types, it checks that the expectation is one the contract allows, so a
    typo in the corpus shows up here rather than as a parser failure.
    """
    if raw == NOT_SIGNAL:
        return None
    if not isinstance(raw, dict):
        raise ValueError(f'must be "{NOT_SIGNAL}" or a table, not {raw!r}')
    unknown = set(raw) - EXPECT_KEYS
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    asset = raw.get("asset")
    if not isinstance(asset, str) or not asset or asset != asset.upper() or not asset.isalnum():
        raise ValueError(f"asset {asset!r} must be an upper-case alphanumeric symbol")
    if raw.get("side") not in ("buy", "sell"):
        raise ValueError(f"side {raw.get('side')!r} must be 'buy' or 'sell'")
    if "signal_type" in raw and raw["signal_type"] not in SIGNAL_TYPES:
        raise ValueError(f"signal_type {raw['signal_type']!r} is not one of the contract's")
    expect: dict[str, Any] = {"asset": asset, "side": raw["side"]}
    for name in PRICE_FIELDS:
        value = raw.get(name)
        if value is not None and (not _is_number(value) or value <= 0):
            raise ValueError(f"{name} = {value!r} must be a positive number")
        expect[name] = value
    targets = raw.get("targets", [])
    if not isinstance(targets, list) or not all(_is_number(t) and t > 0 for t in targets):
        raise ValueError(f"targets = {targets!r} must be a list of positive numbers")
    expect["targets"] = list(targets)
    if "signal_type" in raw:
        expect["signal_type"] = raw["signal_type"]
    _check_consistent(expect)
    return expect


def _check_consistent(e: dict[str, Any]) -> None:
    low, high, targets, stop = e["buy_min"], e["buy_max"], e["targets"], e["stop"]
    if (low is None) != (high is None):
        raise ValueError("buy_min and buy_max are both set or both null")
    if low is not None and low > high:
        raise ValueError(f"buy_min {low} > buy_max {high}")
    for name in ("target_1", "target_2", "target_final"):
        value = e[name]
        if value is not None and not any(_same(value, t) for t in targets):
            raise ValueError(f"{name} = {value} is not one of targets {targets}")
    # Unnumbered targets count by position, so any target fills target_1 and target_final;
    # a labelled number wins over position, so target_2 alone (`Alvo 2: X`) is allowed.
    if targets and e["target_final"] is None:
        raise ValueError("targets given but no target_final (the last target when none is final)")
    # The orientation every real signal has (and the parser validates).
    sign = 1 if e["side"] == "buy" else -1
    entry_far = high if sign == 1 else low  # targets lie beyond this entry bound
    entry_near = low if sign == 1 else high  # the stop lies beyond this one
    for target in targets:
        if entry_far is not None and sign * (target - entry_far) <= 0:
            raise ValueError(f"{e['side']} target {target} is on the wrong side of the entry")
        if stop is not None and sign * (target - stop) <= 0:
            raise ValueError(f"{e['side']} target {target} is on the wrong side of the stop")
    if stop is not None and entry_near is not None and sign * (entry_near - stop) <= 0:
        raise ValueError(f"{e['side']} stop {stop} is on the wrong side of the entry")


# --------------------------------------------------------------------------- comparing


def _same(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return math.isclose(a, b, rel_tol=REL_TOL)
    return a == b


def _same_list(a: Any, b: Any) -> bool:
    if not isinstance(a, list | tuple) or not isinstance(b, list | tuple) or len(a) != len(b):
        return False
    return all(_same(x, y) for x, y in zip(a, b, strict=True))


def compare(expect: Expectation, outcome: Outcome) -> tuple[Mismatch, ...]:
    """The fields where ``outcome`` departs from ``expect``; empty means right."""
    got = outcome.fields
    if expect is None:
        if got is None:
            return ()
        return (Mismatch("outcome", NOT_SIGNAL, _summary(got)),)
    if got is None:
        return (Mismatch("outcome", "signal", f"{NOT_SIGNAL} ({outcome.reason})"),)
    names = [*COMPARED_FIELDS, *(["signal_type"] if "signal_type" in expect else [])]
    out = []
    for name in names:
        want, have = expect.get(name), got.get(name)
        same = _same_list(want, have) if name == "targets" else _same(want, have)
        if not same:
            out.append(Mismatch(name, want, have))
    return tuple(out)


def _summary(fields: Mapping[str, Any]) -> str:
    return (
        f"signal {fields.get('asset')} {fields.get('side')} "
        f"{fields.get('buy_min')}-{fields.get('buy_max')} "
        f"targets {fields.get('targets')} stop {fields.get('stop')}"
    )


def outcome_of(result: Any, not_a_signal: type) -> Outcome:
    """Reduce a ``parse_signal`` result: ``NotASignal`` -> no fields, else ``as_dict()``."""
    if isinstance(result, not_a_signal):
        status = getattr(result, "status", "")
        reason = getattr(result, "reason", "")
        return Outcome(None, f"{status}: {reason}")
    return Outcome(dict(result.as_dict()))


def default_parser() -> Callable[[str], Outcome]:
    """``app.parsing.parse_signal`` wrapped to return an ``Outcome``."""
    from app.parsing import NotASignal, parse_signal

    return lambda text: outcome_of(parse_signal(text), NotASignal)


def check(case: Case, parse: Callable[[str], Outcome]) -> CaseResult:
    outcome = parse(case.text)
    return CaseResult(case, outcome, compare(case.expect, outcome))


def score(results: Iterable[CaseResult]) -> Score:
    out = Score(results=list(results))
    for result in out.results:
        right = int(result.right)
        for tally in (
            out.families.setdefault(result.case.family, Tally()),
            out.languages.setdefault(result.case.lang, Tally()),
            out.overall,
        ):
            tally.cases += 1
            tally.right += right
        if not result.case.is_signal:
            out.non_signals += 1
            out.false_positives += result.outcome.fields is not None
    return out


def evaluate(cases: Iterable[Case], parse: Callable[[str], Outcome] | None = None) -> Score:
    """Run every case through ``parse`` (default: today's ``app.parsing.parse_signal``)."""
    run = parse or default_parser()
    return score(check(case, run) for case in cases)
