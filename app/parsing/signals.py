"""Trading-signal parser: one Telegram message text in, a ``Signal`` or a ``NotASignal`` out.

Pure (no I/O, no clock) and total: ``parse_signal`` never raises on any ``str``; stored raw
messages can be re-parsed at any time and ``PARSER_VERSION`` says which rules produced a row.

The pipeline, one module per step:

1. ``normalise``: NFKC, a digit map (Arabic-Indic, Persian, dingbat and keycap digits),
   decoration (emoji, arrows, bullets, markdown) stripped;
2. ``tokens``: each line cut into a header and labelled segments, the labels found through
   the ``lexicon`` (words per language and instrument aliases, kept as data in TOML);
3. ``followups``: notices about an earlier signal (hits, closes, stop moves) are no signals;
4. ``fields`` (with ``numbers`` and ``instruments``): numbers assigned to entry, targets and
   stop; side, asset and signal type found;
5. ``validate``: prices checked against the side.

A signal needs an asset, a side (written or inferred) and an entry (prices, or a market
order: ``BUY NOW``, ``at market``, ``CMP``, or a side word with no price) plus at least one
target or a stop; except TP Capital's entry-only form: a labelled asset (``Ativo:``) and a
side label carrying the entry price (``Compra: 36,20``) are a signal on their own.

Targets keep message order. ``target_N`` is the target the trader labelled N (``Alvo 1``,
``TP2``, ``T.P 2``, ``TP²``, ``➋``); when no target is numbered, the 1st and 2nd targets in
order (leaving out one labelled final). ``target_final`` is the target labelled final
(``Alvo final``, ``Final target``), else the last one; so a lone ``Alvo 1`` fills both
``target_1`` and ``target_final``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from app.parsing import lexicon
from app.parsing.fields import Draft, Target, assign
from app.parsing.followups import follow_up, is_result
from app.parsing.fuzzy import correct_typos
from app.parsing.lexicon import LETTER_RUN
from app.parsing.normalise import lower, normalise
from app.parsing.numbers import decimal_style, to_decimals
from app.parsing.validate import infer_side, problem

PARSER_VERSION: int = 3

MAX_MESSAGE_CHARS = 10_000

UNSPECIFIED = "Unspecified"
SIGNAL_TYPES: tuple[str, ...] = (
    "Swing Trade",
    "Day Trade",
    "Position",
    "Scalp",
    "Spot",
    "Futures",
    UNSPECIFIED,
)

NOT_SIGNAL = "not_signal"
INVALID = "invalid"

CHATTER = "chatter: no entry, target or stop"
_SATOSHI = Decimal("0.00000001")
_COLON = re.compile(r"[ \t]*[:=]")
_DIGIT = re.compile(r"\d")
_NAME_GAP = re.compile(r"[ \t.\-_/]+")
_MAYBE_GROUPED = re.compile(r"\d[.,]\d{3}(?!\d)")  # "2.315": decimals or a thousands group


@dataclass(frozen=True, slots=True)
class Signal:
    asset: str
    signal_type: str
    side: str
    buy_min: Decimal | None
    buy_max: Decimal | None
    targets: tuple[Decimal, ...]
    stop: Decimal | None
    target_1: Decimal | None = None
    target_2: Decimal | None = None
    target_final: Decimal | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # explicit, since the compiled class does not get dataclasses' frozen-slots pickling
        # (parse workers send outcomes back pickled)
        return (Signal, tuple(getattr(self, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "signal_type": self.signal_type,
            "side": self.side,
            "buy_min": _float(self.buy_min),
            "buy_max": _float(self.buy_max),
            "targets": [float(t) for t in self.targets],
            "target_1": _float(self.target_1),
            "target_2": _float(self.target_2),
            "target_final": _float(self.target_final),
            "stop": _float(self.stop),
        }


@dataclass(frozen=True, slots=True)
class NotASignal:
    status: str
    reason: str

    def __reduce__(self) -> tuple[Any, ...]:
        return (NotASignal, tuple(getattr(self, f.name) for f in fields(self)))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def parse_signal(text: object) -> Signal | NotASignal:
    """Parse one message; pure and total (never raises)."""
    try:
        return _parse(text)
    except Exception as exc:  # a parser bug must not lose the message upstream
        return NotASignal(NOT_SIGNAL, f"parser error: {type(exc).__name__}")


def _parse(text: object) -> Signal | NotASignal:
    if not isinstance(text, str) or not text.strip():
        return NotASignal(NOT_SIGNAL, "empty message")
    if len(text) > MAX_MESSAGE_CHARS:
        return NotASignal(NOT_SIGNAL, f"message too long ({len(text)} characters)")
    lex = lexicon.active()
    joined = "\n".join(normalise(text, lex.symbols, lex.symbols_re, lex.label_re.regex))
    full_text = lower(joined)
    corrected = correct_typos(joined, full_text, lex.fuzzy, lex.labels, lex.typo_plans)
    if corrected is not joined:
        joined, full_text = corrected, lower(corrected)
    # the message's letter runs: one pass that tells which word classes need no scan at all
    words = frozenset(LETTER_RUN.findall(full_text))
    names = lex.numbered_names
    if (
        names is not None
        and names.may_occur(words, full_text)
        and (m := names.search(full_text)) is not None
    ):
        joined, full_text = _glue_names(joined, full_text, names, m)  # letter runs unchanged
    lines = joined.split("\n")
    lows = full_text.split("\n")
    if not _DIGIT.search(full_text):
        # no number, no price: chatter or a notice ("Stopped out", "Bom dia")
        follow = follow_up(lows, [[] for _ in lows], lex, full_text, words)
        return NotASignal(NOT_SIGNAL, follow.reason if follow else CHATTER)
    draft = assign(lines, lows, lex)
    follow = follow_up(lows, draft.line_kinds, lex, full_text, words)
    if follow is not None and follow.strong:
        return NotASignal(NOT_SIGNAL, follow.reason)
    if not draft.has_fields:
        return NotASignal(NOT_SIGNAL, follow.reason if follow else CHATTER)
    draft.assets.names = lex.alias_re.may_occur(words, full_text)
    return _build(draft, lows, full_text, words, follow.reason if follow else None)


def _build(
    draft: Draft, lows: list[str], full_text: str, words: frozenset[str], follow: str | None
) -> Signal | NotASignal:
    lex = draft.lex
    asset = draft.asset()
    # "Giriş: 2.215 - 2.240" on FETUSDT: a coin priced under a thousand has no thousands
    # mark, whatever the language
    tokens = draft.tokens()
    small = _small_coin(asset, lex) if _MAYBE_GROUPED.search(" ".join(tokens)) else False
    style = decimal_style(tokens, draft.comma_language, small)
    entries = [d for n in draft.entries for d in to_decimals(n, style)]
    if not entries and draft.loose_numbers:
        entries = [d for n in draft.loose_numbers for d in to_decimals(n, style)]
    targets: list[Decimal] = []
    indexes: list[int | None] = []
    final_at: int | None = None
    near = _near(entries)
    for target in draft.targets:
        if target.num is None:
            if target.maybe_price is None or not near(Decimal(target.maybe_price.text)):
                continue
            target = Target(target.maybe_price, None, target.final)
        assert target.num is not None
        values = to_decimals(target.num, style)
        for i, value in enumerate(values):
            targets.append(value)
            indexes.append(target.index if i == 0 else None)
        if target.final and values and final_at is None:
            final_at = len(targets) - 1
    stops = [d for n in draft.stops for d in to_decimals(n, style)]
    stop = stops[0] if stops else None
    line_side = draft.line_side
    if (
        any(word in full_text for word in lex.sats_words)
        and lex.sats_re.search(full_text)
        and (asset is None or _may_be_crypto(asset, lex))
    ):
        if draft.line_side_unit:
            line_side = None  # "1020 - 1050 sat" is a price in satoshis, not "sell"
        entries, targets = [e * _SATOSHI for e in entries], [t * _SATOSHI for t in targets]
        stop = None if stop is None else stop * _SATOSHI
        if asset and not asset.endswith("BTC"):
            asset = _coin_of(asset, lex) + "BTC"

    if stop is None and (not entries or _later_targets_only(indexes)) and is_result(lows, lex):
        # "+2.4% ... TP2 3175 is close": a result and only target 2 or later, no stop: the
        # progress of an earlier signal
        return NotASignal(NOT_SIGNAL, "follow-up notice: result")
    side = draft.entry_side or draft.meta_side or line_side
    has_entry = bool(entries) or draft.market or (side is not None and draft.side_line)
    entry_only = draft.side_label and draft.labelled_asset and bool(entries)
    complete = asset is not None and has_entry and bool(targets or stop is not None or entry_only)
    if follow is not None and not complete:
        return NotASignal(NOT_SIGNAL, follow)
    if asset is None:
        return NotASignal(INVALID, "no asset")
    if not has_entry:
        return NotASignal(INVALID, "no entry price")
    if not (targets or stop is not None or entry_only):
        return NotASignal(INVALID, "no target or stop")

    low = min(entries) if entries else None
    high = max(entries) if entries else None
    if side is None:
        side = infer_side(low, high, targets, stop)
    found = problem(side, low, high, targets, stop)
    if found:
        return NotASignal(INVALID, found)
    t1, t2, final = _target_fields(targets, indexes, final_at)
    return Signal(
        asset=asset,
        signal_type=_signal_type(full_text, words, lex),
        side=side,
        buy_min=low,
        buy_max=high,
        targets=tuple(targets),
        stop=stop,
        target_1=t1,
        target_2=t2,
        target_final=final,
    )


def _small_coin(asset: str | None, lex: lexicon.CompiledLexicon) -> bool:
    if asset is None:
        return False
    low = asset.lower()
    coin = _coin_of(asset, lex).lower()
    if coin in lex.thousands:
        return False
    # a known coin, or any coin of a pair with a crypto quote ("OPUSDT"; not "EURUSD")
    return coin in lex.coins or (coin != low and low[len(coin) :] not in lex.codes)


def _later_targets_only(indexes: list[int | None]) -> bool:
    return bool(indexes) and all(i is not None and i >= 2 for i in indexes)


def _glue_names(
    text: str, low: str, names: lexicon.WordPattern, first: re.Match[str]
) -> tuple[str, str]:
    """ "NIKKEI 225 buy now" -> "NIKKEI225 buy now": the name's number is not a price."""
    out, out_low, last = [], [], 0
    m: re.Match[str] | None = first
    while m is not None:
        start, end = m.span()
        if low[end : end + 1].isdecimal():  # "DAX 40000"? not the name
            m = names.search_from(low, end)
            continue
        out.append(text[last:start])
        out_low.append(low[last:start])
        out.append(_NAME_GAP.sub("", text[start:end]))
        out_low.append(_NAME_GAP.sub("", low[start:end]))
        last = end
        m = names.search_from(low, end)
    out.append(text[last:])
    out_low.append(low[last:])
    return "".join(out), "".join(out_low)


def _near(entries: list[Decimal]):  # type: ignore[no-untyped-def]
    """Whether a value is of the entry's magnitude ("🎯 11" after "Compra: 10")."""
    if not entries:
        return lambda value: False
    low, high = min(entries) / 3, max(entries) * 3
    return lambda value: low <= value <= high


def _target_fields(
    targets: list[Decimal], indexes: list[int | None], final_at: int | None
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    if not targets:
        return None, None, None
    final = targets[final_at if final_at is not None else -1]
    numbered = {}
    for i, (value, index) in enumerate(zip(targets, indexes, strict=True)):
        if index is not None and i != final_at and index not in numbered:
            numbered[index] = value
    if numbered:
        # "TP 1.0870 ... TP2 1.0900": an unnumbered target takes the first free number
        for i, (value, index) in enumerate(zip(targets, indexes, strict=True)):
            if index is None and i != final_at:
                free = next(n for n in range(1, len(targets) + 2) if n not in numbered)
                numbered[free] = value
        return numbered.get(1), numbered.get(2), final
    rest = [t for i, t in enumerate(targets) if i != final_at]
    return (
        rest[0] if rest else None,
        rest[1] if len(rest) > 1 else None,
        final,
    )


def _signal_type(full_text: str, words: frozenset[str], lex: lexicon.CompiledLexicon) -> str:
    """The first type word that is not a label ("Position: Long" names a side)."""
    if not lex.type_re.may_occur(words, full_text):
        return UNSPECIFIED
    for m in lex.type_re.finditer(full_text):
        if not _COLON.match(full_text, m.end()):
            return lex.types.get(lexicon.canonical(m.group()), UNSPECIFIED)
    return UNSPECIFIED


_B3_TICKER = re.compile(r"[A-Z]{4}\d{1,2}")


def _may_be_crypto(asset: str, lex: lexicon.CompiledLexicon) -> bool:
    """Not a forex pair or metal, index, oil or B3 ticker: "GBPJPY 191.20 SAT" is Turkish
    for sell, not a price in satoshis."""
    low = asset.lower()
    if len(low) == 6 and low[:3] in lex.codes and low[3:] in lex.codes:
        return False
    if low not in lex.coins and asset in lex.aliases.values():  # indices, oil (rare: sats only)
        return False
    return _B3_TICKER.fullmatch(asset) is None


def _coin_of(asset: str, lex: lexicon.CompiledLexicon) -> str:
    for quote in lex.quotes:
        if asset.endswith(quote.upper()) and len(asset) > len(quote):
            return asset[: -len(quote)]
    return asset


__all__ = [
    "CHATTER",
    "INVALID",
    "MAX_MESSAGE_CHARS",
    "NOT_SIGNAL",
    "PARSER_VERSION",
    "SIGNAL_TYPES",
    "NotASignal",
    "Signal",
    "Target",
    "parse_signal",
]
