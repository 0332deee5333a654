"""Prices in a field's text, and the decimal rule.

``price_tokens`` drops what is not a price before reading numbers: parenthesised notes with
words or percentages (``(+50 pips)``), percentages, a number followed by a unit (pips,
points, lots, ``10x``, ``2R``; words per language in the lexicon), a ``+``-signed number (a
result), ``#123``/``№ 5`` (signal numbers), dates (``12.05.2024``, ``2024-05-12``), times and
ratios (``14:30``, ``1:3``). A number glued to letters (``US30``, ``H4``) is no price either.

A token is digits with ``.`` and ``,`` inside. Per token:

* both marks (``1.234,56``, ``1,234.56``): the last one is the decimal mark;
* one mark repeated (``1.234.567``, ``1,234,567``): thousands separators, groups of 3;
* one mark once with other than exactly 3 digits after it, or a ``0``-led/4+ digit head
  (``1,04``, ``0.00001234``, ``0,800``, ``64250.5``): a decimal mark;
* one mark once with exactly 3 digits after it (``64,250``, ``1.500``) is ambiguous and
  follows the message's decimal style, decided in this order: (1) the tokens above vote
  (each decimal mark, and the opposite of each thousands mark); (2) on a tie, plain integers
  in the message fix the scale: the reading that puts the ambiguous tokens closest (log
  scale) to their median wins (``Entry 64.000 - 64.500 / TP 66000`` -> 64000); (3) else a
  message using words only decimal-comma languages use (the lexicon files marked
  ``decimal = "comma"``: Portuguese, Spanish, Russian, Turkish, German, French, Italian)
  uses decimal commas and any other decimal dots.

A space is never a thousands separator. ``1.15,2.15,3.00`` in a dot-decimal message is
read as three prices. Shorthand ranges: ``134.30/35`` is 134.30 and 134.35 and
``1.0850-60`` is 1.0850 and 1.0860 when that reading is closer to the first price than the
plain number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.parsing.lexicon import CompiledLexicon

# One pass finds both the annotations to skip and the numbers to keep. Every branch starts
# with a digit or a literal, which lets the regex engine jump between candidate positions;
# the left boundaries (no letter or digit right before) are checked in Python.
_SKIP = (
    r"\([^()]*[%:A-Za-z\u00c0-\uffff][^()]*\)"  # (+50 pips), (RR 1:3)
    r"|(?:19|20)\d\d(?P<d1>[./-])\d{1,2}(?P=d1)\d{1,2}(?!\d)"  # 2024-05-12
    r"|\d{1,2}(?P<d2>[./-])\d{1,2}(?P=d2)(?:19|20)?\d\d(?!\d)"  # 12.05.2024
    r"|\d+(?:[.,]\d+)?:\d+(?:[.,]\d+)?"  # 14:30, 1:3
    r"|[+\-]?\d[\d.,]*[ \t]*%"  # 2.5%
    r"|\+[ \t]*\d[\d.,]*"  # +50: a result
    r"|(?:#|№[ \t]*|n[ºo°]\.?[ \t]*)\d+(?![.,]\d)"  # signal #123
    r"|[x×][ \t]?\d+(?![\d.,])"  # x20 leverage
    r"|\d{1,2}[.)](?=[ \t]+\$?\d)"  # "1) 65000 2) 66000": inline enumerators
    r"|\d[\d.,]*[ \t]*(?:{units})(?![^\W\d_])"  # 35 pips, 10x, 0.5 lot
)
# Digits with single "." / "," marks inside; a trailing mark (sentence end) is not taken.
_NUM = r"(?P<num>\d+(?:[.,]\d+)*)(?P<k>k)?(?![^\W\d_])"
_DIGIT = re.compile(r"\d")
_PLAIN_NUMBER = re.compile(rf"(?P<skip>(?!x)x)?{_NUM}")
# what an annotation needs: a mark, a word after a digit, or a date's second separator
_MAYBE_ANNOTATED = re.compile(
    r"[%+#№(:x×]|\d[ \t]*[^\W\d_]|\d[./-]\d{1,2}[./-]\d|(?<!\d)\d{1,2}[.)][ \t]"
)
# the same for an ASCII-only text: identical there, and their classes are cheaper to test
_PLAIN_NUMBER_ASCII = re.compile(_PLAIN_NUMBER.pattern, re.ASCII)
_MAYBE_ANNOTATED_ASCII = re.compile(_MAYBE_ANNOTATED.pattern, re.ASCII)
_SHORTHAND_GAP = re.compile(r"[ \t]*(?:/|-|~)[ \t]*$")
MAX_TOKEN = 40


@dataclass(slots=True)
class Num:
    text: str
    # For "134.30/35": the first price's text; the token may be its shorthand.
    shorthand_of: str | None = None
    thousands: bool = False  # "64k", "3.5k"


def token_pattern(units: str) -> re.Pattern[str]:
    """The scanner for a lexicon's annotation units (a regular-expression alternation)."""
    return re.compile(f"(?P<skip>{_SKIP.replace('{units}', units)})|{_NUM}")


def _after_word(text: str, start: int) -> bool:
    if start == 0:
        return False
    prev = text[start - 1]
    return prev.isalnum() or prev in ".,"


def strip_annotations(low: str, lex: CompiledLexicon) -> str:
    """The text with everything that looks like a number but is no price blanked out."""
    if not _DIGIT.search(low):
        return low
    parts = []
    last = 0
    for m in lex.number_re.finditer(low):
        if m.group("skip") is not None and not _after_word(low, m.start()):
            parts.append(low[last : m.start()])
            parts.append(" ")
            last = m.end()
    parts.append(low[last:])
    return "".join(parts)


def price_tokens(low: str, lex: CompiledLexicon) -> list[Num]:
    """Price tokens of a field's (lower-cased) text, in order."""
    if not _DIGIT.search(low):
        return []
    low = low.lstrip(" \t:=>-@")
    # Most values are bare prices ("1.0850", "2335 - 2340"): no annotation to look for.
    if low.isascii():
        annotated, plain = _MAYBE_ANNOTATED_ASCII, _PLAIN_NUMBER_ASCII
    else:
        annotated, plain = _MAYBE_ANNOTATED, _PLAIN_NUMBER
    pattern = lex.number_re if annotated.search(low) else plain
    out: list[Num] = []
    prev_end = 0
    for m in pattern.finditer(low):
        if m.group("skip") is not None:
            if _after_word(low, m.start()) and m.group().startswith(("x", "×")):
                # "max 20": no leverage; read what follows as usual
                out.extend(price_tokens(low[m.start() + 1 : m.end()], lex))
            prev_end = len(low) + 1  # a skipped annotation breaks a shorthand range
            continue
        tok = m.group("num")
        start = m.start()
        if (start and (low[start - 1].isalnum() or low[start - 1] in ".,")) or len(tok) > MAX_TOKEN:
            continue  # "US30", "H4": glued to a word
        num = Num(tok, thousands=m.group("k") is not None)
        if out and prev_end <= m.start() and _SHORTHAND_GAP.match(low, prev_end, m.start()):
            first = out[-1].shorthand_of or out[-1].text
            if _shorter(tok, first):
                num.shorthand_of = first
        out.append(num)
        prev_end = m.end()
    return out


# ------------------------------------------------------------------ the decimal rule


def decimal_evidence(tok: str) -> str | None:
    """The decimal mark ("comma" or "dot") when the token alone shows it, else None."""
    commas, dots = tok.count(","), tok.count(".")
    if commas and dots:
        return "comma" if tok.rfind(",") > tok.rfind(".") else "dot"
    if not commas and not dots:
        return None
    sep, count = (",", commas) if commas else (".", dots)
    if count > 1:
        return "dot" if sep == "," else "comma"
    head, tail = tok.split(sep)
    if len(tail) != 3 or len(head) > 3 or head.startswith("0"):
        return "comma" if sep == "," else "dot"
    return None


def _ungroup(digits: str, sep: str) -> str | None:
    groups = digits.split(sep)
    if not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:]):
        return None
    return "".join(groups)


def to_decimal(tok: str, style: str) -> Decimal | None:
    commas, dots = tok.count(","), tok.count(".")
    try:
        if not commas and not dots:
            return Decimal(tok)
        if commas and dots:
            dec = "," if tok.rfind(",") > tok.rfind(".") else "."
            thousands = "." if dec == "," else ","
            if tok.count(dec) != 1:
                return None
            head, tail = tok.split(dec)
            whole = _ungroup(head, thousands)
            return None if whole is None or thousands in tail else Decimal(f"{whole}.{tail}")
        sep = "," if commas else "."
        if max(commas, dots) > 1:
            whole = _ungroup(tok, sep)
            return None if whole is None else Decimal(whole)
        head, tail = tok.split(sep)
        ambiguous = len(tail) == 3 and len(head) <= 3 and not head.startswith("0")
        style_decimal = (sep == ",") == (style == "comma")
        if not ambiguous or style_decimal:
            return Decimal(f"{head}.{tail}")
        return Decimal(head + tail)
    except InvalidOperation:
        return None


def to_decimals(num: Num, style: str) -> list[Decimal]:
    """The price(s) a token stands for (a comma list in a dot message gives several)."""
    if num.thousands:
        value = to_decimal(num.text, "dot" if "," not in num.text else style)
        return [] if value is None else [value * 1000]
    tok = num.text
    if num.shorthand_of is not None:
        value = _shorthand(num, style)
        if value is not None:
            return [value]
    if tok.isdigit():
        return [Decimal(tok)]
    value = to_decimal(tok, style)
    if value is not None:
        return [value]
    if style == "dot" and "," in tok:
        # "1.15,2.15,3.00": a comma-separated list in a dot-decimal message.
        parts = [to_decimal(p, style) for p in tok.split(",")]
        if all(p is not None for p in parts):
            return [p for p in parts if p is not None]
    return []


def _int_part(tok: str) -> str:
    return re.split(r"[.,]", tok, maxsplit=1)[0]


def _shorter(tok: str, first: str) -> bool:
    """Whether ``tok`` may abbreviate ``first`` ("35" after "134.30", "89.5" after "2388.2")."""
    if tok.isdigit():
        return len(tok) < len(first.replace(",", "").replace(".", ""))
    return len(_int_part(tok)) < len(_int_part(first))


def _shorthand(num: Num, style: str) -> Decimal | None:
    first_text = num.shorthand_of or ""
    first = to_decimal(first_text, style)
    plain = to_decimal(num.text, style)
    if first is None or first <= 0 or plain is None:
        return None
    if num.text.isdigit():
        short_text = first_text[: len(first_text) - len(num.text)] + num.text
    else:
        head = _int_part(first_text)
        short_text = head[: len(head) - len(_int_part(num.text))] + num.text
    short = to_decimal(short_text, style)
    if short is None or short <= 0:
        return None
    if plain <= 0 or abs(math.log(float(short / first))) < abs(math.log(float(plain / first))):
        return short
    return None


def decimal_style(tokens: list[str], comma_language: bool, small_prices: bool = False) -> str:
    """The decimal mark ("comma" or "dot") the message's ambiguous tokens follow.

    ``small_prices``: the instrument trades under a thousand (most coins), so an ambiguous
    "2.315" or "2,315" is a decimal, not a thousands group."""
    votes = {"comma": 0, "dot": 0}
    ambiguous: list[str] = []
    plain: list[int] = []
    for tok in tokens:
        if tok.isdigit():
            plain.append(int(tok))
        elif evidence := decimal_evidence(tok):
            votes[evidence] += 1
        else:
            ambiguous.append(tok)
    if votes["comma"] != votes["dot"]:
        return "comma" if votes["comma"] > votes["dot"] else "dot"
    if not ambiguous:
        return "dot"  # nothing depends on the style
    anchor = sorted(plain)[len(plain) // 2] if plain else 0
    if anchor > 0:
        # Plain integers fix the scale: "Entry 64.250 TP 66000" means 64250.
        comma, dot = (_distance(ambiguous, style, anchor) for style in ("comma", "dot"))
        if comma != dot:
            return "comma" if comma < dot else "dot"
    if small_prices:
        return "comma" if any("," in tok for tok in ambiguous) else "dot"
    return "comma" if comma_language else "dot"


def _distance(tokens: list[str], style: str, anchor: int) -> float:
    total = 0.0
    for tok in tokens:
        value = to_decimal(tok, style)
        if value is not None and value > 0:
            total += abs(math.log10(float(value) / anchor))
    return total
