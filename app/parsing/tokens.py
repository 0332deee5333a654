"""Cutting a normalised line into a header and labelled segments.

A label is a lexicon phrase (``TP``, ``Alvo``, ``Stop loss``, ``Вход``...) found by the
lexicon's compiled expression. At the start of a line every label counts; past the start a
price label counts only when a number (or its index and a number) follows, any label counts
when a colon follows, and market words (``now``, ``CMP``) always count. A one- or two-digit
number glued to a label (``TP1``, ``Tg2``, ``T.P 3:``, ``Alvo 1:``, ``TP 2 1.0850``) is its
index, not a price; so is an ordinal written before it (``1st entry``, ``2nd target``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.parsing.lexicon import CompiledLexicon

PRICE_KINDS = frozenset({"entry", "buy", "sell", "target", "target_final", "stop", "ignore"})
SIDE_KINDS = frozenset({"buy", "sell"})
INDEXED_KINDS = frozenset({"entry", "target", "buy", "sell"})
TARGET_KINDS = frozenset({"target", "target_final"})

# The index after a label: glued ("tp1") or spaced and followed by a mark or another number.
_INDEX = re.compile(r"([ \t]*)(?:#|№|n[ºo°]\.?|-|\()?[ \t]*(\d{1,2})(?!\d)(?![.,]\d)")
_INDEX_FIRST = frozenset(" \t#№n-(")
# An entry's spaced index needs a mark after it ("Entry 1: 1.0850"); "Buy 12" is a price.
_AFTER_SPACED_ENTRY_INDEX = re.compile(r"[ \t]*(?:[:=)\](\-]|[ \t]\$?\d)")
_ORDINAL_BEFORE = re.compile(r"(?<![\w.,])(\d)(?:st|nd|rd|th|º|ª|°|-?[ыйяео]|\.)?[ \t]*$")
_COLON_AFTER = re.compile(r"[ \t]*[:=]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(slots=True)
class Segment:
    kind: str
    index: int | None
    value: str  # original case, from after the label (and its index) to the next label
    low: str
    at_start: bool
    colon: bool
    # "TP 11" ending a line: index 11, or a price of 11 when the entry is near 11
    maybe_price: str | None = None


@dataclass(slots=True)
class Line:
    header: str  # the text before the first label
    segments: list[Segment]
    sides: list[str]  # buy/sell words seen anywhere in the line
    comma: bool  # a word only decimal-comma languages use
    unit_side: bool = False  # a side word that may be a unit: "191.20 sat"


def _index_after(low: str, end: int, kind: str) -> tuple[int | None, int, bool]:
    """(index, end of the index) when a label's index follows at ``end``.

    After a target label a one- or two-digit number is always an index ("TP 2 ✅" is a
    notice about target 2, not a target at 2); after an entry label only when glued or
    followed by a mark.
    """
    nxt = low[end : end + 1]
    if not nxt or (nxt not in _INDEX_FIRST and not nxt.isdecimal()):
        return None, end, False  # "TP:", "Entry zone": no index (the common case, no regex)
    m = _INDEX.match(low, end)
    if m is None:
        return None, end, False
    spaced = bool(m.group(1))
    value = int(m.group(2))
    if spaced and value > (10 if kind in TARGET_KINDS else 5):
        return None, end, False  # "Targets 48 / 55": prices
    if kind not in TARGET_KINDS and spaced and not _AFTER_SPACED_ENTRY_INDEX.match(low, m.end()):
        return None, end, False
    ambiguous = spaced and not low[m.end() :].strip()
    return int(m.group(2)), m.end(), ambiguous


_ORDINAL_ENDS = ("st", "nd", "rd", "th", "º", "ª", "°", ".", "ый", "й", "я", "е", "о")


def _index_before(low: str, start: int, lex: CompiledLexicon) -> tuple[int | None, int]:
    """An ordinal before a label: "1st entry", "2nd target", "first target", "primer objetivo"."""
    if not start:
        return None, start
    head = low[max(0, start - 12) : start]
    tail = head.rstrip()
    if not tail:
        return None, start
    if tail[-1].isdigit() or tail.endswith(_ORDINAL_ENDS):
        m = _ORDINAL_BEFORE.search(head)
        if m is not None:
            return int(m.group(1)), start - (len(head) - m.start())
    word = tail.rsplit(None, 1)[-1]
    if word in lex.ordinals:
        return lex.ordinals[word], start - (len(head) - head.rfind(word))
    return None, start


def _after_number(low: str, start: int) -> bool:
    before = low[:start].rstrip(" \t")
    return bool(before) and before[-1].isdecimal()


def segments(line: str, low: str, lex: CompiledLexicon) -> Line:
    """The line cut into its header and labelled segments."""
    if not _LETTER.search(low):
        return Line(line, [], [], False)  # "1) 2350": no label here
    # (start, value start, kind, index, index is maybe a price, colon after)
    found: list[tuple[int, int, str, int | None, bool, bool]] = []
    sides: list[str] = []
    comma = False
    unit_side = False
    seen = lex.seen
    for m in lex.label_re.on(low).finditer(low):
        start = m.start()
        if start and low[start - 1].isalpha():
            continue  # inside a word
        text = m.group()
        label = seen[text] if text in seen else lex.label(text)
        if label is None:
            continue
        kind = label.kind
        comma = comma or label.comma
        end = m.end()
        ambiguous = False
        if kind in INDEXED_KINDS:
            index, end, ambiguous = _index_after(low, end, kind)
        else:
            index = None
        at_start = start == 0 or not low[:start].strip(" \t-:|>*")
        if label.needs_index and (
            (index is None and not (at_start and _COLON_AFTER.match(low, end)))
            or (index is not None and end - m.end() > len(str(index)))
        ):
            continue  # "t#" reads "T1" and a line's "T:", not a lone "t" nor "t 1"
        if index is None and kind in INDEXED_KINDS:
            index, ord_start = _index_before(low, start, lex)
            if index is not None and ord_start == 0:
                at_start = True
        colon = _COLON_AFTER.match(low, end) is not None
        number_follows = (
            label.weak or kind in SIDE_KINDS or not (at_start or colon)
        ) and lex.value_prefix_re.match(low, end) is not None
        if kind in SIDE_KINDS and (
            not label.weak or at_start or number_follows or not low[end:].strip()
        ):
            sides.append(kind)
            # "1050 sat": Turkish "sat" (sell), or satoshis when the asset is a coin
            unit_side = unit_side or (text in lex.sats_words and _after_number(low, start))
        if label.weak and not (at_start or number_follows or not low[end:].strip()):
            continue
        if not (at_start or colon or (kind in PRICE_KINDS and number_follows)):
            continue
        if found and start < found[-1][1]:
            continue
        if found and found[-1][2] in PRICE_KINDS and not low[found[-1][1] : start].strip():
            # "Entry Targets: 61500", "Take-Profit Targets:": the first word tells the field
            s0, _, k0, i0, a0, _ = found[-1]
            found[-1] = (s0, end, k0, i0 if i0 is not None else index, a0 or ambiguous, colon)
            continue
        found.append((start, end, kind, index, ambiguous, colon))
    if not found:
        return Line(line, [], sides, comma, unit_side)
    result = []
    for i, (start, end, kind, index, ambiguous, colon) in enumerate(found):
        stop = found[i + 1][0] if i + 1 < len(found) else len(line)
        result.append(
            Segment(
                kind,
                index,
                line[end:stop],
                low[end:stop],
                i == 0 and not line[:start].strip(" \t-:|>*"),
                colon,
                str(index) if ambiguous else None,
            )
        )
    return Line(line[: found[0][0]], result, sides, comma, unit_side)
