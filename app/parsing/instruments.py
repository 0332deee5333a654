"""Finding the instrument a message is about, in its canonical form.

Canonical forms: forex pairs and metals as six letters (``eur gbp``, ``Gbp/Cad``, ``#EURUSD``,
``Euro / US Dollar`` -> ``EURGBP``, ``GBPCAD``, ``EURUSD``, ``EURUSD``); nicknames and index
names through the lexicon's aliases (gold -> XAUUSD, cable -> GBPUSD, Dow -> US30, DAX ->
GER40, ouro/золото/altın/طلا -> XAUUSD...); crypto pairs concatenated (``BTC/USDT``,
``btc usdt``, ``#BTCUSDT`` -> ``BTCUSDT``), a coin alone stays the coin (``$SOL`` -> ``SOL``);
stock tickers upper-case without ``#``/``$`` (``PETR4``, ``AAPL``).

Candidates are ranked: a labelled value (``Ativo:``, ``Pair:``, ``Пара:``) first, then pairs,
aliases and tags, then ticker shapes (B3 tickers, upper-case pairs), then other upper-case
words; within a rank the first in the message wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from app.parsing.lexicon import CompiledLexicon, canonical

LABELLED, PAIR, SHAPE, WORD = 0, 1, 2, 3

_PAIR_SEP = re.compile(r"[ \t]*(?:/|-|_|\||\\|[ \t]vs\.?[ \t]|[ \t]x[ \t])?[ \t]*")
_CODE_PAIR = re.compile(
    r"(?<![^\W_])[#$]?([a-z]{3})([ \t]*[/\-_|\\.][ \t]*|[ \t]+|)([a-z]{3})(?![^\W_])"
)
_SLASH_PAIR = re.compile(r"(?<![\w/])[#$]?([a-z0-9]{2,15})[ \t]?[/\-_][ \t]?([a-z]{3,5})(?![\w/])")
_SPACED_PAIR = re.compile(r"(?<![\w/])[#$]?([a-z0-9]{2,12})[ \t]+([a-z]{3,5})(?![\w/])")
_TAG = re.compile(r"(?<![\w#$])([#$])([a-z][a-z0-9]{0,19})(?![\w/]|[-_.][a-z])")
_B3 = re.compile(r"(?<![\w#$])[A-Z]{4,5}\d{1,3}(?![\w])")
_UPPER = re.compile(r"(?<![\w#$/.])[A-Z0-9]*[A-Z][A-Z0-9]{1,15}(?![\w/])")
_NOT_TICKER = re.compile(r"[HMDW]\d{1,3}|(?:TP|SL|T|E|X|R|S|L|N)\d+|\d+[A-Z]?")
_LOWER_WORD = re.compile(r"(?<![\w#$/])([a-z0-9]{2,14})(?![\w/])")
_FIRST_WORD = re.compile(r"[#$]?([^\W_][\w.]{0,19})")


@dataclass(slots=True)
class AssetFinder:
    lex: CompiledLexicon
    found: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, rank: int, symbol: str) -> None:
        self.found.append((rank, len(self.found), symbol))

    def best(self) -> str | None:
        return min(self.found)[2] if self.found else None

    def scan(self, line: str, low: str) -> None:
        for rank, symbol in _candidates(line, low, self.lex):
            self.add(rank, symbol)

    def labelled(self, value: str, low: str) -> None:
        """The value of an ``Ativo:``/``Pair:`` label."""
        cands = _candidates(value, low, self.lex, labelled=True)
        if cands:
            self.add(LABELLED, min(cands)[1])
            return
        m = _FIRST_WORD.search(value)
        if m and any(c.isalpha() for c in m.group(1)):
            self.add(LABELLED, m.group(1).upper().rstrip("."))


def _pair_symbol(base: str, quote: str, lex: CompiledLexicon) -> str | None:
    if (base in lex.codes and quote in lex.codes) or (
        quote in lex.quotes and any(c.isalpha() for c in base)
    ):
        return _canonical_pair(base + quote, lex)
    return None


def _canonical_pair(word: str, lex: CompiledLexicon) -> str:
    """``xbrusd`` -> UKOIL: a pair that is also an alias takes the alias's symbol."""
    symbol = lex.aliases.get(word)
    return symbol if symbol and not symbol.startswith("=") else word.upper()


def _split_concatenated(word: str, lex: CompiledLexicon, upper: bool) -> str | None:
    """``eurusd`` / ``BTCUSDT`` -> the pair symbol, else None."""
    if len(word) == 6 and word[:3] in lex.codes and word[3:] in lex.codes:
        return _canonical_pair(word, lex)
    for quote in lex.quotes:
        if len(word) > len(quote) + 1 and word.endswith(quote):
            base = word[: -len(quote)]
            if upper or base in lex.coins:
                return _canonical_pair(word, lex)
    return None


def _candidates(
    line: str, low: str, lex: CompiledLexicon, labelled: bool = False
) -> list[tuple[int, str]]:
    out: list[tuple[int, int, str]] = []  # (rank, position, symbol)
    has_digit_or_upper = labelled or not line.islower()
    names: list[tuple[int, int, str]] = []
    for m in lex.alias_re.finditer(low):
        symbol = lex.aliases.get(canonical(m.group()))
        if symbol and not symbol.startswith("="):
            out.append((PAIR, m.start(), symbol))
        elif symbol:
            names.append((m.start(), m.end(), symbol[1:]))
    if names:
        _currency_names(low, names, lex, out)
    for m in _CODE_PAIR.finditer(low):
        base, sep, quote = m.group(1), m.group(2), m.group(3)
        if base in lex.codes and quote in lex.codes and base != quote:
            spaced = sep.strip() == "" and sep != ""
            if spaced and not (base in lex.majors and quote in lex.majors):
                continue
            out.append((PAIR, m.start(), _canonical_pair(base + quote, lex)))
    if "/" in low or "-" in low or "_" in low:
        for m in _SLASH_PAIR.finditer(low):
            symbol = _pair_symbol(m.group(1), m.group(2), lex)
            if symbol:
                out.append((PAIR, m.start(), symbol))
    for m in _SPACED_PAIR.finditer(low):
        base, quote = m.group(1), m.group(2)
        if quote in lex.spaced_quotes and (base in lex.coins or labelled):
            out.append((PAIR, m.start(), (base + quote).upper()))
    if "#" in low or "$" in low:
        for m in _TAG.finditer(low):
            word = m.group(2)
            symbol = lex.aliases.get(canonical(word))
            if symbol and not symbol.startswith("="):
                out.append((PAIR, m.start(), symbol))
                continue
            symbol = _split_concatenated(word, lex, upper=True)
            if symbol:
                out.append((PAIR, m.start(), symbol))
            elif m.group(1) == "$" or word.upper() not in lex.not_assets or word in lex.coins:
                out.append((PAIR, m.start(), word.upper()))
    if has_digit_or_upper:
        for m in _B3.finditer(line):
            out.append((SHAPE, m.start(), m.group()))
        for m in _UPPER.finditer(line):
            word = m.group()
            if word in lex.not_assets or _NOT_TICKER.fullmatch(word):
                continue
            symbol = _split_concatenated(word.lower(), lex, upper=True)
            if symbol:
                out.append((SHAPE, m.start(), symbol))
            elif not any(c.isdigit() for c in word) or labelled:
                out.append((WORD, m.start(), word))
    for m in _LOWER_WORD.finditer(low):
        word = m.group(1)
        if word in lex.coins and word not in lex.codes:
            out.append((WORD, m.start(), word.upper()))
        elif len(word) > 6 and line[m.start() : m.end()].islower():
            symbol = _split_concatenated(word, lex, upper=labelled)
            if symbol:
                out.append((SHAPE, m.start(), symbol))
    out.sort()
    return [(rank, symbol) for rank, _, symbol in out]


def _currency_names(
    low: str,
    hits: list[tuple[int, int, str]],
    lex: CompiledLexicon,
    out: list[tuple[int, int, str]],
) -> None:
    """``Euro / US Dollar``, ``euro dólar``: two currency names (or codes) in a row."""
    for m in re.finditer(r"(?<![^\W_])[a-z]{3}(?![^\W_])", low):
        if m.group() in lex.codes:
            hits.append((m.start(), m.end(), m.group().upper()))
    hits.sort()
    for (s1, e1, c1), (s2, _, c2) in pairwise(hits):
        if c1 != c2 and _PAIR_SEP.fullmatch(low[e1:s2]):
            out.append((PAIR, s1, c1 + c2))
