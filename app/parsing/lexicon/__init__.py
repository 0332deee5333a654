"""The parser's lexicon: words per language and instrument names, kept as data.

The TOML files next to this module hold, per language, the label words (entry, buy, sell,
target, final target, stop, asset, meta, ignore, market), signal-type words, follow-up words
(hit, close, cancel...) and annotation units; ``instruments.toml`` holds instrument aliases,
currency codes and names, crypto quotes and coins. An operator adds words without a release
through one more file of the same shape (``PARSER_LEXICON_PATH``, see docs/parser.md).

Everything is compiled once into ``CompiledLexicon`` (one regular expression per word class,
built as a trie so matching costs the same however many words there are); the parser only
reads the compiled form.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.parsing.fuzzy import FuzzyLabels
from app.parsing.normalise import HIT_WORD, fold
from app.parsing.numbers import token_pattern

DATA_DIR = Path(__file__).resolve().parent
LANGUAGE_FILES = ("en", "pt", "es", "ru", "tr", "fa", "ar", "de", "fr", "it")
INSTRUMENTS_FILE = "instruments"
SYMBOLS_FILE = "symbols"
HIT_MARK = HIT_WORD  # what a hit emoji ("TP1 2345 ✅") becomes; kept by normalisation
# The plain label an emoji standing for a kind becomes.
_SYMBOL_WORDS = {"entry": " entry ", "target": " tp ", "stop": " sl ", "hit": f" {HIT_MARK} "}

LABEL_KINDS = (
    "entry",
    "buy",
    "sell",
    "target",
    "target_final",
    "stop",
    "asset",
    "meta",
    "ignore",
    "market",
)
SIGNAL_TYPE_NAMES = ("Swing Trade", "Day Trade", "Position", "Scalp", "Spot", "Futures")
FOLLOWUP_KINDS = (
    "hit",
    "stopped",
    "close",
    "cancel",
    "update",
    "manage",
    "partial",
    "condition",
    "all",
)
LANGUAGE_KEYS = (
    "language",
    "decimal",
    "labels",
    "fillers",
    "connectors",
    "ordinals",
    "types",
    "followups",
    "units",
    "aliases",
    "common_words",
)

# A space inside a phrase also matches these (or nothing): "stop loss" = "stop-loss" = "SL"...
_SEPARATORS = re.compile(r"[\s.\-_/]+")
_SEP_PATTERN = r"[ \t.\-_/]+"
_LETTER_AFTER = r"(?![^\W\d_])"
# the letter runs of a text, for WordPattern.may_occur
LETTER_RUN = re.compile(r"[^\W\d_]+")


class LexiconError(ValueError):
    """A lexicon file is unreadable or malformed; the message names the file and line."""


@lru_cache(maxsize=8192)
def canonical(phrase: str) -> str:
    """The key a phrase is stored under: folded, separators removed."""
    return _SEPARATORS.sub("", fold(phrase))


@dataclass(frozen=True, slots=True)
class Label:
    kind: str
    needs_index: bool  # "t#": a label only with a digit glued to it ("T1")
    weak: bool  # "~al": a side word only at a line's start or end or before a number
    comma: bool  # only languages writing decimal commas use this word


@dataclass(slots=True)
class _Builder:
    labels: dict[str, Label] = field(default_factory=dict)
    comma_words: dict[str, bool] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    followups: dict[str, str] = field(default_factory=dict)
    units: set[str] = field(default_factory=set)
    fillers: set[str] = field(default_factory=set)
    connectors: set[str] = field(default_factory=set)
    ordinals: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    currency_names: dict[str, str] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)
    majors: set[str] = field(default_factory=set)
    quotes: set[str] = field(default_factory=set)
    spaced_quotes: set[str] = field(default_factory=set)
    coins: set[str] = field(default_factory=set)
    thousands: set[str] = field(default_factory=set)
    sats: set[str] = field(default_factory=set)
    not_assets: set[str] = field(default_factory=set)
    common_words: set[str] = field(default_factory=set)
    symbols: dict[int, str] = field(default_factory=dict)
    # the phrases as written (separators kept) per class: "labels", "types", "followups"...
    phrases: dict[str, list[str]] = field(default_factory=dict)

    def remember(self, kind: str, phrase: str) -> None:
        self.phrases.setdefault(kind, []).append(phrase)


@dataclass(frozen=True, slots=True)
class CompiledLexicon:
    label_re: WordPattern
    labels: dict[str, Label]
    market_re: WordPattern
    type_re: WordPattern
    types: dict[str, str]
    followup_re: WordPattern
    followups: dict[str, str]
    number_re: re.Pattern[str]  # numbers and the annotations around them (numbers.py)
    result_re: re.Pattern[str]  # "+40 pips", "+3.5%": a result
    # what may sit between a label and its number: "SL: 1.0800", "Buy from 1.2700", "@ 2345"
    value_prefix_re: re.Pattern[str]
    # range connectors ("1,04 a 1,06", "from 1.2700 to 1.2690"): a line of prices joined by
    # them continues the field above; a line starting with one continues an entry range
    connectors: frozenset[str]
    ordinals: dict[str, int]  # "first" -> 1: an ordinal word before a label is its index
    number_line_re: re.Pattern[str]
    continued_re: re.Pattern[str]
    alias_re: WordPattern
    aliases: dict[str, str]
    currency_names: dict[str, str]
    codes: frozenset[str]
    majors: frozenset[str]
    quotes: tuple[str, ...]  # longest first
    quote_set: frozenset[str]
    quote_sizes: tuple[int, ...]  # the quotes' lengths, longest first
    spaced_quotes: frozenset[str]
    coins: frozenset[str]
    sats_re: re.Pattern[str]
    sats_words: tuple[str, ...]  # a cheap test before sats_re
    not_assets: frozenset[str]
    symbols: dict[int, str]  # str.translate table: emoji -> label word
    symbols_re: re.Pattern[str]
    fuzzy: FuzzyLabels  # label typos ("Tarrget", "Stop-los") -> the label's key
    sources: tuple[str, ...]
    seen: dict[str, Label | None] = field(default_factory=dict)  # matched text -> label
    typo_plans: dict[str, Any] = field(default_factory=dict)  # candidate -> its corrections
    # instrument names holding a number and a space ("nikkei 225", "ftse 100"): the message
    # writes them glued before numbers are read, so 225 is no price
    numbered_names: WordPattern | None = None
    # coins priced in thousands: their "2.315" may be 2315 in a decimal-comma message
    thousands: frozenset[str] = frozenset()

    def label(self, matched: str) -> Label | None:
        try:
            return self.seen[matched]
        except KeyError:
            label = self.seen[matched] = self.labels.get(canonical(matched))
            return label


# ------------------------------------------------------------------ trie regex


def _pieces(phrase: str) -> list[str]:
    """Characters of the folded phrase; " " marks a separator position."""
    return list(" ".join(w for w in _SEPARATORS.split(fold(phrase)) if w))


def trie_pattern(phrases: Iterable[str]) -> str:
    """One alternation for all phrases, factored as a trie (no per-phrase backtracking)."""
    root: dict[str, Any] = {}
    for phrase in phrases:
        pieces = _pieces(phrase)
        # "stop loss" also matches "stoploss"; "t.p" also "tp"
        for variant in (pieces, [c for c in pieces if c != " "]):
            node = root
            for ch in variant:
                node = node.setdefault(ch, {})
            node[""] = {}
    body = _node_pattern(root)
    return body or "(?!x)x"


def _node_pattern(node: dict[str, Any]) -> str:
    alts = []
    for ch in sorted(k for k in node if k):
        head = _SEP_PATTERN if ch == " " else re.escape(ch)
        alts.append(head + _node_pattern(node[ch]))
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return f"(?:{body})?" if "" in node else body


def _first_chars(phrases: list[str]) -> str:
    """A look-ahead for the characters a phrase can start with ("" if a phrase is empty).

    Tested before the word boundary, it lets the engine reject most word starts with one set
    look-up instead of trying the trie's first-level alternatives one by one."""
    firsts = set()
    for phrase in phrases:
        pieces = _pieces(phrase)
        if not pieces:
            return ""
        firsts.add(pieces[0])
    if not firsts:
        return ""
    return "(?=[" + "".join(re.escape(ch) for ch in sorted(firsts)) + "])"


class WordPattern:
    """Phrases matched at letter boundaries.

    A word boundary (``\\b``, cheap to test) comes first so the phrase alternation is tried
    only where a word starts; a look-behind there would be tried everywhere and is several
    times slower. A phrase may end before a digit ("TP1").
    """

    __slots__ = (
        "ascii",
        "digit_phrase_runs",
        "digit_phrases",
        "first_words",
        "needs",
        "others",
        "regex",
    )

    def __init__(self, phrases: Iterable[str]) -> None:
        phrases = list(phrases)
        self.regex = re.compile(
            rf"{_first_chars(phrases)}\b(?:{trie_pattern(phrases)}){_LETTER_AFTER}"
        )
        # the same on an ASCII-only text, where the ASCII classes (\b, letters) are the
        # Unicode ones and much cheaper to test
        self.ascii = re.compile(self.regex.pattern, re.ASCII)
        # Every letter run of a match is a whole letter run of the text: the first follows a
        # word boundary, the others a separator, and no letter follows the last. So a phrase
        # can occur only where the text holds all the runs of its spaced form ("stop loss":
        # "stop", "loss") or all those of its glued form ("stoploss").
        needs: dict[str, set[frozenset[str]]] = {}
        others: list[str] = []
        # Single letters among digits ("0 a 0", breakeven): the text must hold the letter as a
        # word, but "a" is also every Portuguese range's connector ("1,04 a 1,06"), so a plain
        # search for the phrase itself decides, not the whole alternation.
        digit_phrases: list[str] = []
        digit_phrase_runs: set[str] = set()
        for phrase in phrases:
            pieces = _pieces(phrase)
            for form in ("".join(pieces), "".join(c for c in pieces if c != " ")):
                runs = LETTER_RUN.findall(form)
                if not runs:
                    others.append(phrase)  # no letter at all
                    break
                if max(len(run) for run in runs) == 1 and any(c.isdigit() for c in form):
                    digit_phrases.append(phrase)
                    digit_phrase_runs.update(runs)
                    break
                needs.setdefault(runs[0], set()).add(frozenset(runs))
        self.needs = {first: tuple(sets) for first, sets in needs.items()}
        self.first_words = frozenset(needs)
        # no boundary and no look-ahead: it may also match where the full pattern would not
        self.others = re.compile(trie_pattern(others)) if others else None
        self.digit_phrases = re.compile(trie_pattern(digit_phrases)) if digit_phrases else None
        self.digit_phrase_runs = frozenset(digit_phrase_runs)

    def may_occur(self, words: AbstractSet[str], text: str) -> bool:
        """False only when no phrase occurs in ``text`` (nor in a slice of it that cuts no
        letter run); ``words`` is the set of its letter runs (``LETTER_RUN.findall``)."""
        for first in self.first_words.intersection(words):
            if any(runs <= words for runs in self.needs[first]):
                return True
        if (
            self.digit_phrases is not None
            and not self.digit_phrase_runs.isdisjoint(words)
            and self.digit_phrases.search(text) is not None
        ):
            return True
        return self.others is not None and self.others.search(text) is not None

    def on(self, text: str) -> re.Pattern[str]:
        """The compiled pattern to run on ``text`` (``str.isascii`` is a flag look-up)."""
        return self.ascii if text.isascii() else self.regex

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        for m in self.on(text).finditer(text):
            start = m.start()
            if start == 0 or not text[start - 1].isalpha():
                yield m

    def search(self, text: str) -> re.Match[str] | None:
        # the first match finditer would yield, without a generator (called once per message)
        return self.search_from(text, 0)

    def search_from(self, text: str, pos: int) -> re.Match[str] | None:
        search = self.on(text).search
        m = search(text, pos)
        while m is not None and m.start() and text[m.start() - 1].isalpha():
            m = search(text, m.end())
        return m


def _word_re(phrases: Iterable[str]) -> WordPattern:
    return WordPattern(phrases)


# ------------------------------------------------------------------ reading files


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return 1


def _read(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"lexicon file {path}: cannot read it ({exc})") from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"lexicon file {path}: invalid TOML: {exc}") from exc


def _fail(path: Path, text: str, key: str, problem: str) -> LexiconError:
    return LexiconError(f"lexicon file {path}, line {_line_of(text, key)}: {problem}")


def _strings(path: Path, text: str, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, text, key, f"'{key}' must be a list of non-empty strings")
    return value


def _table(path: Path, text: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, text, key, f"'{key}' must be a table")
    return value


def _known(path: Path, text: str, table: dict[str, Any], allowed: Iterable[str], where: str):
    allowed = tuple(allowed)
    for key in table:
        if key not in allowed:
            raise _fail(
                path, text, key, f"unknown key '{key}' in {where} (known: {', '.join(allowed)})"
            )


def _add_language(builder: _Builder, path: Path) -> None:
    data, text = _read(path)
    _known(path, text, data, LANGUAGE_KEYS, "the top level")
    decimal = data.get("decimal", "dot")
    if decimal not in ("dot", "comma"):
        raise _fail(path, text, "decimal", '\'decimal\' must be "dot" or "comma"')
    comma = decimal == "comma"
    labels = _table(path, text, "labels", data.get("labels", {}))
    _known(path, text, labels, LABEL_KINDS, "[labels]")
    for kind, phrases in labels.items():
        for phrase in _strings(path, text, kind, phrases):
            _add_label(builder, kind, phrase, comma)
    types = _table(path, text, "types", data.get("types", {}))
    _known(path, text, types, SIGNAL_TYPE_NAMES, "[types]")
    for name, phrases in types.items():
        for phrase in _strings(path, text, name, phrases):
            builder.types[canonical(phrase)] = name
            builder.remember("types", phrase)
    followups = _table(path, text, "followups", data.get("followups", {}))
    _known(path, text, followups, FOLLOWUP_KINDS, "[followups]")
    for kind, phrases in followups.items():
        for phrase in _strings(path, text, kind, phrases):
            builder.followups[canonical(phrase)] = kind
            builder.remember("followups", phrase)
    for word, number in _table(path, text, "ordinals", data.get("ordinals", {})).items():
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 20:
            raise _fail(path, text, word, f"ordinal '{word}' must be a number from 1 to 20")
        builder.ordinals[fold(word)] = number
    builder.connectors.update(
        fold(c) for c in _strings(path, text, "connectors", data.get("connectors", []))
    )
    builder.fillers.update(
        fold(f) for f in _strings(path, text, "fillers", data.get("fillers", []))
    )
    units = _table(path, text, "units", data.get("units", {}))
    _known(path, text, units, ("ignore",), "[units]")
    builder.units.update(fold(u) for u in _strings(path, text, "ignore", units.get("ignore", [])))
    aliases = _table(path, text, "aliases", data.get("aliases", {}))
    _add_aliases(builder, path, text, aliases)
    common = _strings(path, text, "common_words", data.get("common_words", []))
    builder.common_words.update(canonical(w) for w in common)


def _add_label(builder: _Builder, kind: str, phrase: str, comma: bool) -> None:
    weak = phrase.startswith("~")
    needs_index = phrase.endswith("#")
    phrase = phrase.strip("~#")
    key = canonical(phrase)
    if key in builder.comma_words:
        builder.comma_words[key] = builder.comma_words[key] and comma
    else:
        builder.comma_words[key] = comma
    old = builder.labels.get(key)
    if old is not None and old.kind == kind:
        needs_index = needs_index and old.needs_index
        weak = weak and old.weak
    builder.labels[key] = Label(kind, needs_index, weak, builder.comma_words[key])
    builder.remember("labels", phrase)


def _add_aliases(builder: _Builder, path: Path, text: str, aliases: dict[str, Any]) -> None:
    for name, symbol in aliases.items():
        if not isinstance(symbol, str) or not re.fullmatch(r"[A-Za-z0-9.]{1,20}", symbol):
            raise _fail(path, text, name, f"alias '{name}' must name a symbol like \"XAUUSD\"")
        builder.aliases[canonical(name)] = symbol.upper()
        builder.remember("names", name)


def _add_instruments(builder: _Builder, path: Path) -> None:
    data, text = _read(path)
    _known(path, text, data, ("aliases", "currencies", "crypto", "words"), "the top level")
    _add_aliases(builder, path, text, _table(path, text, "aliases", data.get("aliases", {})))
    currencies = _table(path, text, "currencies", data.get("currencies", {}))
    _known(path, text, currencies, ("codes", "majors", "names"), "[currencies]")
    builder.codes.update(fold(c) for c in _strings(path, text, "codes", currencies["codes"]))
    builder.majors.update(fold(c) for c in _strings(path, text, "majors", currencies["majors"]))
    for name, code in _table(path, text, "names", currencies.get("names", {})).items():
        builder.currency_names[canonical(name)] = str(code).upper()
        builder.remember("names", name)
    crypto = _table(path, text, "crypto", data.get("crypto", {}))
    _known(
        path, text, crypto, ("quotes", "spaced_quotes", "coins", "sats", "thousands"), "[crypto]"
    )
    builder.quotes.update(fold(q) for q in _strings(path, text, "quotes", crypto["quotes"]))
    builder.spaced_quotes.update(
        fold(q) for q in _strings(path, text, "spaced_quotes", crypto["spaced_quotes"])
    )
    builder.coins.update(fold(c) for c in _strings(path, text, "coins", crypto["coins"]))
    builder.sats.update(fold(s) for s in _strings(path, text, "sats", crypto["sats"]))
    builder.thousands.update(
        fold(c) for c in _strings(path, text, "thousands", crypto.get("thousands", []))
    )
    words = _table(path, text, "words", data.get("words", {}))
    _known(path, text, words, ("not_assets",), "[words]")
    builder.not_assets.update(
        w.upper() for w in _strings(path, text, "not_assets", words.get("not_assets", []))
    )


# ------------------------------------------------------------------ compiling


def _compile(builder: _Builder, sources: tuple[str, ...]) -> CompiledLexicon:
    labels = {k: v for k, v in builder.labels.items() if v.kind != "market"}
    label_phrases = builder.phrases.get("labels", [])
    market = [p for p in label_phrases if canonical(p) not in labels]
    names = {**builder.aliases, **{k: "=" + v for k, v in builder.currency_names.items()}}
    not_assets = set(builder.not_assets)
    numbered = [
        p
        for p in builder.phrases.get("names", [])
        if any(c.isdigit() for c in p) and _SEPARATORS.search(p.strip())
    ]
    return CompiledLexicon(
        label_re=_word_re(p for p in label_phrases if canonical(p) in labels),
        labels=labels,
        market_re=_word_re(market),
        type_re=_word_re(builder.phrases.get("types", [])),
        types=dict(builder.types),
        followup_re=_word_re(builder.phrases.get("followups", [])),
        followups=dict(builder.followups),
        # a number followed by a unit ("35 pips", "10x", "0.5 lot") is an annotation
        number_re=token_pattern(trie_pattern(builder.units)),
        result_re=re.compile(
            rf"\+[ \t]*\d[\d.,]*[ \t]*(?:%|(?:{trie_pattern(builder.units)}){_LETTER_AFTER})"
        ),
        value_prefix_re=re.compile(
            rf"[ \t:=>\-@#.)(\[\]|,;~]*(?:(?:{trie_pattern(builder.fillers)})"
            rf"{_LETTER_AFTER}[ \t:=>\-@]*)?(?:r?\$|us\$|€|£)?[ \t]*(?=\d)"
        ),
        connectors=frozenset(builder.connectors),
        ordinals=dict(builder.ordinals),
        number_line_re=re.compile(
            rf"(?:[\s\d.,;/|\-~$€£@()\[\]]|(?<![^\W\d_])(?:{trie_pattern(builder.connectors)})"
            rf"{_LETTER_AFTER})*"
        ),
        continued_re=re.compile(
            rf"(?:[-/~]|(?:{trie_pattern(builder.connectors)}){_LETTER_AFTER})[ \t]*\$?\d"
        ),
        alias_re=_word_re(builder.phrases.get("names", [])),
        aliases=names,
        currency_names=dict(builder.currency_names),
        codes=frozenset(builder.codes),
        majors=frozenset(builder.majors),
        quotes=tuple(sorted(builder.quotes, key=len, reverse=True)),
        quote_set=frozenset(builder.quotes),
        quote_sizes=tuple(sorted({len(q) for q in builder.quotes}, reverse=True)),
        spaced_quotes=frozenset(builder.spaced_quotes),
        coins=frozenset(builder.coins),
        sats_re=re.compile(rf"\d[ \t]*(?:{'|'.join(map(re.escape, builder.sats))}){_LETTER_AFTER}"),
        sats_words=tuple(sorted(builder.sats)),
        not_assets=frozenset(not_assets),
        symbols=dict(builder.symbols),
        symbols_re=re.compile("[" + "".join(re.escape(chr(c)) for c in builder.symbols) + "]")
        if builder.symbols
        else re.compile("(?!x)x"),
        fuzzy=_fuzzy(builder),
        sources=sources,
        numbered_names=_word_re(numbered) if numbered else None,
        thousands=frozenset(builder.thousands),
    )


def _fuzzy(builder: _Builder) -> FuzzyLabels:
    labels = {
        key: (None if label.weak or label.needs_index else label.kind)
        for key, label in builder.labels.items()
    }
    other = {
        *builder.fillers,
        *builder.connectors,
        *builder.followups,
        *builder.types,
        *builder.ordinals,
        *builder.units,
        *builder.aliases,
        *builder.currency_names,
        *builder.codes,
        *builder.coins,
    }
    return FuzzyLabels(
        {k: v for k, v in labels.items() if v is not None},
        other | {k for k, v in labels.items() if v is None},
        builder.common_words,
    )


def _add_symbols(builder: _Builder, path: Path) -> None:
    data, text = _read(path)
    _known(path, text, data, ("symbols",), "the top level")
    for symbol, kind in _table(path, text, "symbols", data.get("symbols", {})).items():
        if len(symbol) != 1 or kind not in _SYMBOL_WORDS:
            raise _fail(
                path,
                text,
                symbol,
                f"symbol '{symbol}' must be one character mapped to "
                f"one of {', '.join(_SYMBOL_WORDS)}",
            )
        builder.symbols[ord(symbol)] = _SYMBOL_WORDS[kind]


def _builtin() -> _Builder:
    builder = _Builder()
    for name in LANGUAGE_FILES:
        path = DATA_DIR / f"{name}.toml"
        _add_language(builder, path)
    _add_instruments(builder, DATA_DIR / f"{INSTRUMENTS_FILE}.toml")
    _add_symbols(builder, DATA_DIR / f"{SYMBOLS_FILE}.toml")
    return builder


def load_lexicon(path: str | Path | None = None) -> CompiledLexicon:
    """The built-in lexicon plus the operator's file at ``path``; LexiconError when bad."""
    builder = _builtin()
    sources = tuple(f"{n}.toml" for n in LANGUAGE_FILES)
    if path:
        extra = Path(path)
        _add_language(builder, extra)
        sources += (str(extra),)
    return _compile(builder, sources)


_ACTIVE: CompiledLexicon | None = None


def active() -> CompiledLexicon:
    """The lexicon the parser uses (built-in until ``install`` is called)."""
    global _ACTIVE
    if _ACTIVE is None:
        _ACTIVE = load_lexicon(None)
    return _ACTIVE


def install(path: str | Path | None) -> CompiledLexicon:
    """Validate and compile the lexicon with the operator's file, and make it the active one.

    Called once at start-up (the api, each parse worker process, the CLI).
    """
    global _ACTIVE
    _ACTIVE = load_lexicon(path)
    return _ACTIVE
