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

LABELLED, PAIR, SHAPE, WORD, UNIT = 0, 1, 2, 3, 4
# UNIT: a quote written after a price ("0.000270 BTC"): the currency of the prices

_PAIR_SEP = re.compile(r"[ \t]*(?:/|-|_|\||\\|[ \t]vs\.?[ \t]|[ \t]x[ \t])?[ \t]*")
_B3 = re.compile(r"[A-Z]{4,5}\d{1,3}")
# a B3 ticker written in title case: four letters and a share-class number (3 ON, 4 PN,
# 5/6 PNA/PNB, 11 units, 31-35 BDRs); a bare "Week1" is not one
_B3_MIXED = re.compile(r"[A-Z][a-z]{3}(?:[3-6]|11|3[1-5])|[A-Z][a-z]{3}[A-Z]?\d{2}")
# a word: letters and digits, with the #/$ of a tag; "&" keeps "S&P" whole
_WORD = re.compile(r"([#$]?)([^\W_]+)")
_PAIR_SEPARATORS = frozenset({"/", "-", "_", "|", "\\", ".", "//"})
_NOT_TICKER = re.compile(r"[HMDW]\d{1,3}|(?:TP|SL|T|E|X|R|S|L|N)\d+|\d+[A-Z]?")
_FIRST_WORD = re.compile(r"[#$]?([^\W_][\w.]{0,19})")


@dataclass(slots=True)
class AssetFinder:
    lex: CompiledLexicon
    found: list[tuple[int, int, str]] = field(default_factory=list)
    names: bool = True  # False when the message names no alias at all (one pass decides)
    # a pair, alias, tag or ticker is found: later lines would not change the asset
    settled: bool = False

    def add(self, rank: int, symbol: str) -> None:
        self.found.append((rank, len(self.found), symbol))
        self.settled = self.settled or rank <= SHAPE

    def best(self) -> str | None:
        if not self.found:
            return None
        rank, _, symbol = min(self.found)
        if rank == UNIT:
            return symbol
        quotes = self.lex.quote_set
        for _, _, other in sorted(self.found):
            # "Bitcoin (BTC/USDT)", "$NEAR #NEARUSDT": the pair names the coin more fully
            if other.startswith(symbol) and other[len(symbol) :].lower() in quotes:
                return other
        if symbol.lower() in self.lex.coins:
            # "#LINK ⏎ Buy zone: 0.000262 - 0.000270 BTC": the coin priced in BTC
            for unit_rank, _, unit in sorted(self.found):
                if unit_rank == UNIT and unit != symbol:
                    return symbol + unit
        return symbol

    def scan(self, line: str, low: str) -> None:
        for rank, symbol in _candidates(line, low, self.lex, names=self.names):
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
    for size in lex.quote_sizes:  # longest first
        if (
            len(word) > size + 1
            and word[-size:] in lex.quote_set
            and (upper or word[:-size] in lex.coins)
        ):
            return _canonical_pair(word, lex)
    return None


def _candidates(
    line: str, low: str, lex: CompiledLexicon, labelled: bool = False, names: bool = True
) -> list[tuple[int, str]]:
    """(rank, symbol) for every instrument the text names, best first."""
    out: list[tuple[int, int, str]] = []  # (rank, position, symbol)
    currency: list[tuple[int, int, str]] = []
    for m in lex.alias_re.finditer(low) if names else ():
        symbol = lex.aliases.get(canonical(m.group()))
        if symbol and not symbol.startswith("="):
            out.append((PAIR, m.start(), symbol))
        elif symbol:
            currency.append((m.start(), m.end(), symbol[1:]))
    words = [(m.start(), m.end(), m.group(1), m.group(2)) for m in _WORD.finditer(low)]
    if currency:
        _currency_names(low, currency, words, lex, out)
    upper_text = labelled or not line.islower()
    for i, (start, end, mark, word) in enumerate(words):
        if word.isdigit():
            continue
        nxt = words[i + 1] if i + 1 < len(words) else None
        gap = low[end : nxt[0]] if nxt else ""
        tagged = labelled or bool(mark)
        if nxt and not nxt[2] and (symbol := _pair_of(word, gap, nxt[3], lex, tagged)):
            out.append((PAIR, start, symbol))
            continue
        if (
            i
            and not mark
            and word in lex.quote_set
            and words[i - 1][3].isdigit()
            and not low[words[i - 1][1] : start].strip(" \t")
        ):
            out.append((UNIT, start, word.upper()))  # "0.000270 BTC", "3150 USDT"
            continue
        if mark:
            symbol = _tagged(word, mark, lex)
            if mark == "$" or symbol not in lex.not_assets or word in lex.coins:
                out.append((PAIR, start, symbol))  # not "#VIP", "#signal"
            continue
        orig = line[start:end]
        if upper_text and orig.isupper():
            if _B3.fullmatch(orig):
                out.append((SHAPE, start, orig))
            elif orig not in lex.not_assets and not _NOT_TICKER.fullmatch(orig):
                symbol = _split_concatenated(word, lex, upper=True)
                if symbol:
                    out.append((PAIR, start, symbol))
                elif word.isalpha() or labelled:
                    out.append((WORD, start, orig))
            continue
        if _B3_MIXED.fullmatch(orig):
            out.append((WORD, start, orig.upper()))  # "Petr4", "Vale3", "Bova11"
            continue
        if word in lex.coins and word not in lex.codes:
            out.append((WORD, start, word.upper()))
        elif len(word) == 6 and word[:3] in lex.codes and word[3:] in lex.codes:
            out.append((PAIR, start, _canonical_pair(word, lex)))
        elif len(word) > 6 and (symbol := _split_concatenated(word, lex, upper=labelled)):
            out.append((SHAPE, start, symbol))
        elif labelled:
            out.append((WORD, start, word.upper()))
    out.sort()
    return [(rank, symbol) for rank, _, symbol in out]


def _pair_of(base: str, gap: str, quote: str, lex: CompiledLexicon, labelled: bool) -> str | None:
    """``eur gbp``, ``Gbp/Cad``, ``USD.CHF``, ``BTC/USDT``, ``btc usdt`` -> the pair symbol.

    ``labelled``: the base is a label's value or a tag (``#NEAR USDT``), so any coin counts."""
    if len(gap) > 3:
        return None
    sep = gap.strip(" \t")
    if sep and sep not in _PAIR_SEPARATORS:
        return None
    if base in lex.codes and quote in lex.codes and base != quote:
        if not sep and gap and not (base in lex.majors and quote in lex.majors):
            return None  # "try usd" is no pair; "eur gbp" is
        return _canonical_pair(base + quote, lex) if gap or sep else None
    if sep and sep != "." and quote in lex.quotes:
        return _canonical_pair(base + quote, lex)
    if gap and not sep and quote in lex.spaced_quotes and (base in lex.coins or labelled):
        return _canonical_pair(base + quote, lex)
    return None


def _tagged(word: str, mark: str, lex: CompiledLexicon) -> str:
    symbol = lex.aliases.get(canonical(word))
    if symbol and not symbol.startswith("="):
        return symbol
    return _split_concatenated(word, lex, upper=True) or word.upper()


def _currency_names(
    low: str,
    hits: list[tuple[int, int, str]],
    words: list[tuple[int, int, str, str]],
    lex: CompiledLexicon,
    out: list[tuple[int, int, str]],
) -> None:
    """``Euro / US Dollar``, ``euro dólar``: two currency names (or codes) in a row."""
    for start, end, _, word in words:
        if word in lex.codes:
            hits.append((start, end, word.upper()))
    hits.sort()
    for (s1, e1, c1), (s2, _, c2) in pairwise(hits):
        if c1 != c2 and _PAIR_SEP.fullmatch(low[e1:s2]):
            out.append((PAIR, s1, c1 + c2))
