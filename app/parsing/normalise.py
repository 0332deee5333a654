"""Text normalisation: the first step of the parser.

Unicode NFKC (fullwidth forms, mathematical bold/italic letters and digits, superscripts,
circled digits all become plain ASCII), a digit map for what NFKC leaves alone (Arabic-Indic
and Persian digits and separators, dingbat circled digits, keycaps), then decoration
stripped: emoji, arrows, bullets and markdown become spaces. Returns lines of text in their
original case; ``lower`` gives the same text lower-cased with every offset unchanged.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {
    **{0x0660 + i: str(i) for i in range(10)},  # Arabic-Indic
    **{0x06F0 + i: str(i) for i in range(10)},  # Persian
    **{0x2776 + i: str(i + 1) for i in range(9)},  # ❶..❾
    **{0x2780 + i: str(i + 1) for i in range(9)},  # ➀..➈
    **{0x278A + i: str(i + 1) for i in range(9)},  # ➊..➒
    **{0x24F5 + i: str(i + 1) for i in range(9)},  # ⓵..⓽
    0x277F: "10",
    0x2789: "10",
    0x2793: "10",
    0x24FF: "0",
    0x24EA: "0",
    0x066B: ".",  # Arabic decimal separator
    0x066C: ",",  # Arabic thousands separator
    0x060C: ",",  # Arabic comma
    0x061B: ";",
    0x066A: "%",
    0x0640: None,  # tatweel
    0x064A: "\u06cc",  # Arabic yeh -> Persian yeh
    0x0649: "\u06cc",
    0x0643: "\u06a9",  # Arabic kaf -> Persian keheh
    0x200C: " ",  # zero-width non-joiner
    0x200D: None,
    0x0130: "i",  # Turkish dotted capital I lower-cases to two characters
    0x20E3: None,  # combining keycap: "1️⃣" -> "1"
    0xFE0F: None,
    0xFE0E: None,
    0x00A0: " ",
}
# str.translate with a dict is slow on non-ASCII text; translate only when a mapped
# character is there at all.
_MAPPED = re.compile("[" + "".join(re.escape(chr(c)) for c in _DIGITS) + "]")
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe63\uff0d]")
# Emoji, pictographs, arrows, bullets, box drawing, odd spaces: all become a space.
_SYMBOLS = re.compile(
    "[\u00ab\u00bb\u00b7\u2000-\u200b\u2016-\u2027\u2028-\u202f\u2030-\u205e\u205f\u2122\u2139"
    "\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff\u2500-\u27bf\u2900-\u297f\u2b00-\u2bff\u3000"
    "\u3030\u303d\U0001f000-\U0001faff\U000e0000-\U000e007f]+"
)
HIT_WORD = "\ue000"  # what a hit mark ("TP1 2345 ✅") becomes; kept by the symbol stripping
_MARKDOWN = ("**", "__", "~~", "||", "`", "*")
# A markdown underscore touches a non-alphanumeric side: "__Ativo:__", "_BOVAW32_".
_UNDERSCORE = re.compile(r"(?<![^\W_])_+|_+(?![^\W_])")
_LEADING = " \t-+>|.:,;=•"
# "39310...39340", "1.0850 .. 1.0870": dots between two numbers join a range
_DOTS_RANGE = re.compile(r"(?<=\d)[ \t]*\.{2,}[ \t]*(?=\d)")
# "TP's:" is the plural label "TPs:"
_APOSTROPHE_S = re.compile(r"(?<=[^\W\d_])['\u2019]s(?![^\W\d_])", re.IGNORECASE)


def normalise(
    text: str,
    symbols: dict[int, str] | None = None,
    symbols_re: re.Pattern[str] | None = None,
    label_re: re.Pattern[str] | None = None,
) -> list[str]:
    """The message's lines after normalisation, stripped, in original case.

    ``symbols`` maps emoji that stand for a label ("🎯 2350") to that label's word;
    ``symbols_re`` finds them; ``label_re`` (lower-case label words) tells an emoji written
    before a label ("🎯 Entry: 1.8120", "✅ TP1: 1.8080"), which is a bullet.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        if _MAPPED.search(text):
            text = text.translate(_DIGITS)
        if symbols and (symbols_re is None or symbols_re.search(text)):
            text = (
                _place_symbols(text, symbols, symbols_re, label_re)
                if label_re and symbols_re
                else text.translate(symbols)
            )
        text = _SYMBOLS.sub(" ", _DASHES.sub("-", text))
    if ".." in text:
        text = _DOTS_RANGE.sub(" - ", text)
    if "'" in text or "\u2019" in text:
        text = _APOSTROPHE_S.sub("s", text)
    for mark in _MARKDOWN:
        if mark in text:
            text = text.replace(mark, " ")
    if "_" in text:
        text = _UNDERSCORE.sub(" ", text)
    return [line.strip().lstrip(_LEADING).rstrip() for line in text.splitlines()]


_SYMBOL_GAP = " \t:=-"


def _place_symbols(
    text: str, symbols: dict[int, str], symbols_re: re.Pattern[str], label_re: re.Pattern[str]
) -> str:
    """Emoji standing for a label become its word, unless they are decoration.

    A label emoji counts only before a price ("🎯 2350", "❌ 174.30"); before a written label
    it is a bullet ("🎯 Entry: 1.8120" is an entry), elsewhere decoration. A hit mark followed
    by a number sits between a label and its price ("Tp 1 ✅ 2351"): decoration, not a
    result; before a label it is a bullet.
    """
    out: list[str] = []
    last = 0
    size = len(text)
    for m in symbols_re.finditer(text):
        i = m.start()
        word = symbols[ord(m.group())]
        j = i + 1
        while j < size and text[j] in _SYMBOL_GAP:
            j += 1
        nxt = text[j : j + 40].lower()
        if word.strip() == HIT_WORD:
            if nxt and (nxt[0].isdigit() or label_re.match(nxt) is not None):
                word = " "
        elif not nxt.lstrip("($@ ")[:1].isdigit():
            # a label emoji stands for its label only before a price ("❌ 174.30"); before a
            # written label it is a bullet, elsewhere decoration ("stopped out ❌ (-25)")
            word = " "
        out.append(text[last:i])
        out.append(word)
        last = i + 1
    out.append(text[last:])
    return "".join(out)


def lower(text: str) -> str:
    """Lower-case with offsets unchanged (a character lowering to several stays as it is)."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    # Turkish dotless ı: "ALIŞ" lower-cases to "aliş", so "alış" is matched as "aliş" too
    return low.replace("ı", "i") if "ı" in low else low


def fold(text: str) -> str:
    """A lexicon phrase in the form it is matched against: normalised like a message, lower."""
    return lower(unicodedata.normalize("NFKC", text).translate(_DIGITS)).strip()
