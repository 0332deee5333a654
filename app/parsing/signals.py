"""Trading-signal parser: one Telegram message text in, a ``Signal`` or a ``NotASignal`` out.

Pure (no I/O, no clock, no globals mutated) and total: ``parse_signal`` never raises on any
``str``; stored raw messages can be re-parsed at any time and ``PARSER_VERSION`` says which
rules produced a row.

Accepted shape
--------------
The TP Capital format (type line, ``Ativo``, ``Compra``, ``Alvo 1``, ``Alvo 2``,
``Alvo final``, ``Stop``) and the common crypto/forex/stock channel variants: labels
``Entrada/Entry/Entry zone/Buy zone/Buy/Compra/Venda/Sell/Long/Short``,
``TP1..TPn/Target n/Targets/Alvo/Alvos/Take profit/Stop gain/Exit/Saída``,
``SL/Stop/Stop loss/Stoploss/S/L``, one field per line or several on one line
(``BTC/USDT Entry 100 TP 110 SL 95``; past the line start a label counts only when a number
follows it), values after the label or on the following plain-number lines (``Targets:``
then ``1) 110``). A one- or two-digit number glued to a target label (``TP1``, ``Alvo 2:``,
``TP 3 110``) is its index, not a price. When both a buy and a sell label carry prices
(``Compra: 10 / Venda: 12``), the second one is an exit price, i.e. a target.
Emoji, keycap digits, markdown (``**``, ``__``, backticks) and bullets are dropped first;
percentages, parenthesised notes such as ``(+5%)`` and leverage (``10x``) are never prices.

A signal needs an asset, an entry price and at least one target or a stop.

Asset rule
----------
Upper-cased, without a leading ``#`` or ``$``; a pair keeps the form it was written in:
``BTC/USDT`` -> ``BTC/USDT`` (``BTC-USDT``, ``BTC_USDT``, ``btc / usdt`` -> ``BTC/USDT``),
``BTCUSDT`` / ``#BTCUSDT`` -> ``BTCUSDT``, ``$AAPL`` -> ``AAPL``, ``PETR4``, ``EURUSD``.
Priority: a labelled value (``Ativo:``/``Asset:``/``Pair:``/``Par:``/``Ticker:``...), then
``#TAG``/``$TAG``/``BASE/QUOTE``, then an upper-case ticker shape in a header line
(letters+digits such as ``PETR4``, or a ``...USDT``-style pair), then any other upper-case word
of at most six letters that is not a known keyword. First occurrence wins within a rank.

Signal type
-----------
The first type word in a header line or a ``Tipo:``/``Type:`` value, mapped to one of
``SIGNAL_TYPES``: swing / swing trade -> "Swing Trade"; day trade / daytrade / intraday ->
"Day Trade"; position / posição -> "Position"; scalp(ing) -> "Scalp"; spot -> "Spot";
futures / futuros / perp(etual) -> "Futures"; otherwise "Unspecified".

Side
----
An entry label carrying a side (``Compra``/``Buy``/``Long`` vs ``Venda``/``Sell``/``Short``)
wins, then a ``Side:``/``Direção:``/``Position:`` value, then the first header line naming
exactly one side (``#BTCUSDT LONG``, ``📉 SHORT ETH/USDT``; a line naming both, such as a
"buy or sell" disclaimer, is ignored). With no side word at all the side is inferred from
the prices (targets below the entry and stop above -> "sell"), else "buy".

Prices and the decimal rule
---------------------------
Entry: every number of the entry fields; ``buy_min``/``buy_max`` are their min/max, so
``x a y``, ``x - y``, ``x – y``, ``x/y``, ``x to y`` and a single price all work.
Targets keep message order; the target labelled final (``Alvo final``, ``Final target``,
``TP final``) is ``target_final``, else the last one; ``target_1``/``target_2`` are the
first two of the remaining targets in message order (``Signal.final_index`` records a
labelled final that is not the last target). Stop: the first stop number.

A number token is digits with ``.`` and ``,`` inside. Per token:

* both marks (``1.234,56``, ``1,234.56``): the last one is the decimal mark;
* one mark repeated (``1.234.567``, ``1,234,567``): thousands separators, groups of 3;
* one mark once with other than exactly 3 digits after it, or a ``0``-led/4+ digit head
  (``1,04``, ``0.00001234``, ``0,800``, ``64250.5``): a decimal mark;
* one mark once with exactly 3 digits after it (``64,250``, ``1.500``) is ambiguous and
  follows the message's decimal style, decided in this order: (1) the tokens above vote
  (each decimal mark, and the opposite of each thousands mark); (2) on a tie, plain integers
  in the message fix the scale: the reading that puts the ambiguous tokens closest (log
  scale) to their median wins (``Entry 64.000 - 64.500 / TP 66000`` -> 64000); (3) else a
  Portuguese message (``Ativo``, ``Compra``, ``Alvo``, ``Entrada``...) uses decimal commas
  and anything else decimal dots. So ``Entry: 64,250`` in an English message is 64250,
  ``Compra: 64.250`` is 64250, ``Entry: 64.250`` is 64.250 and
  ``Compra: 1,04 / Alvo: 1,500`` is 1.500.

A space is never a thousands separator. ``1.15,2.15,3.00`` in a dot-decimal message is
read as three prices.

Validation (status "invalid", the reason names the values)
----------------------------------------------------------
Every price positive; buy: stop below ``buy_min`` and every target above ``buy_max``;
sell: stop above ``buy_max`` and every target below ``buy_min``. A message with entry,
target or stop fields but no asset is "invalid" ("no asset"); likewise "no entry price",
"no target or stop".

Follow-ups and chatter (status "not_signal")
--------------------------------------------
Checked line by line before fields; a line that is a condition ("after TP1 move SL to
entry", "após o alvo 1...", "se perder...") is an instruction, not a notice.

* Always a follow-up, even when the message also quotes a full signal: an update
  (``atualização``, ``update``, ``novos alvos``), a target/stop/entry hit (``Alvo 1
  atingido``, ``TP1 reached``, ``SL hit``, ``Stop atingido``, ``stopped out``), a close
  (``Close BTC/USDT now``, ``Fechar``, ``Encerrar posição``), a cancellation.
* A follow-up only when the message is not a complete signal: stop management (``Move stop
  to entry``, ``Mover stop para o preço de entrada``, ``stop no 0 a 0``, ``breakeven``,
  ``novo stop``) and partial profit (``realizar parcial``). New signals often carry such
  instructions.
* No entry/target/stop field at all (greetings, market comments, a bare price list):
  "chatter: no entry, target or stop". Empty text: "empty message". Text longer than
  ``MAX_MESSAGE_CHARS`` (above Telegram's 4096 limit) is not parsed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

PARSER_VERSION: int = 1

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

_ZERO = Decimal(0)

BUY = "buy"
SELL = "sell"


@dataclass(frozen=True, slots=True)
class Signal:
    asset: str
    signal_type: str
    side: str
    buy_min: Decimal | None
    buy_max: Decimal | None
    targets: tuple[Decimal, ...]
    stop: Decimal | None
    # Position in ``targets`` of the target labelled final; None means the last one.
    final_index: int | None = None

    def _final_position(self) -> int | None:
        if not self.targets:
            return None
        if self.final_index is not None and 0 <= self.final_index < len(self.targets):
            return self.final_index
        return len(self.targets) - 1

    def _intermediate(self) -> tuple[Decimal, ...]:
        pos = self._final_position()
        if pos is None:
            return ()
        return self.targets[:pos] + self.targets[pos + 1 :]

    @property
    def target_final(self) -> Decimal | None:
        pos = self._final_position()
        return None if pos is None else self.targets[pos]

    @property
    def target_1(self) -> Decimal | None:
        rest = self._intermediate()
        return rest[0] if rest else None

    @property
    def target_2(self) -> Decimal | None:
        rest = self._intermediate()
        return rest[1] if len(rest) > 1 else None

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


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- cleaning

_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe63\uff0d]")
# Emoji, pictographs, arrows, bullets, odd spaces and joiners: all become a space.
_SYMBOLS = re.compile(
    "[\u00a0\u00b7\u2000-\u200f\u2022\u2028-\u202f\u205f\u2122\u2139\u2190-\u21ff"
    "\u2300-\u23ff\u2460-\u24ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff\u3000\u3030\u303d"
    "\ufe0e\ufe0f\U0001f000-\U0001faff\U000e0000-\U000e007f]+"
)
_MARKDOWN = ("**", "*", "`", "~~", "||")
# A markdown underscore touches a non-alphanumeric side: "__Ativo:__", "_BOVAW32_".
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
_LEADING = " \t-+>|.:,;"
_FULLWIDTH_COLON = "\uff1a"


def _clean_lines(text: str) -> list[str]:
    if "\u20e3" in text:
        text = _KEYCAP.sub(" ", text)
    if not text.isascii():
        text = _SYMBOLS.sub(" ", _DASHES.sub("-", text))
    for mark in _MARKDOWN:
        if mark in text:
            text = text.replace(mark, " ")
    if "_" in text:
        text = _UNDERSCORE.sub(" ", text)
    if _FULLWIDTH_COLON in text:
        text = text.replace(_FULLWIDTH_COLON, ":")
    return [line.lstrip(_LEADING).rstrip() for line in text.splitlines()]


# --------------------------------------------------------------------------- follow-ups

_FOLLOW_HINT = re.compile(
    r"atualiz|updat|novos alvos|new target|hit|reach|achiev|ating|batid|bateu|alcan|stopp|"
    r"stopad|stopou|acionad|trigger|liquidat|close|closing|fech|encerr|sair|saindo|exit|cancel|"
    r"mov|subir|subindo|raise|trail|ajust|break|0\s*a\s*0|novo s|new s|realiz|parcial|partial|"
    r"(?:stop|sl)\s+(?:to|para|no|na|em|at)\b"
)
_CONDITION = re.compile(
    r"\b(?:after|once|when|if|ap[oó]s|depois|quando|assim\s+que|caso|"
    r"ao\s+(?:atingir|bater|alcan[cç]ar))\b|^se\b"
)
_UPDATE = re.compile(
    r"\b(?:atualiza[cç][aã]o|atualizad[oa]s?|updated?|updates|novos\s+alvos|new\s+targets)\b"
)
_HIT = re.compile(
    r"\b(?:atingid[oa]s?|atingiu|hit|reached|achieved|batid[oa]s?|bateu|"
    r"alcan[cç]ad[oa]s?|alcan[cç]ou)\b"
)
_HIT_SUBJECT = re.compile(
    r"\b(?:alvos?|targets?|tps?\d*|take\s*profit|objetivos?|stop|sl|entrada|entry|todos|all)\b"
)
_STOP_WORD = re.compile(r"\b(?:stop(?!\s*-?\s*gain)|sl)\b")
_ENTRY_WORD = re.compile(r"\b(?:entrada|entry)\b")
_STOPPED = re.compile(
    r"\b(?:stopped(?:\s+out)?|stopad[oa]|stopou|(?:stop|stop\s+loss|sl)\s+"
    r"(?:triggered|acionado|executado)|liquidated|liquidad[oa])\b"
)
_CLOSE = re.compile(
    r"^(?:close[sd]?|closing|fechar|fechad[oa]|fechando|encerrar|encerrad[oa]|encerrando|"
    r"sair|saindo|exit)\b(?![\s:=]*\$?\d)"
    r"|\b(?:close|fechar|encerrar|sair|exit)\b[^.\n]{0,40}?"
    r"\b(?:now|agora|position|posi[cç][aã]o|opera[cç][aã]o|trade|tudo|all)\b"
    r"|\b(?:posi[cç][aã]o|opera[cç][aã]o|trade|position)\s+(?:encerrad[oa]|fechad[oa]|closed)\b"
)
_CANCEL = re.compile(r"\b(?:cancel(?:led|ed|ar|ado|ada|lation)?|cancelad[oa]s?)\b")
_MANAGE = re.compile(
    r"\b(?:mov(?:e|er|a|ing|endo|ido)|subir|subindo|raise|trail(?:ing)?|ajust(?:ar|e|ando))\b"
    r"[^\n]{0,40}?\b(?:stop|sl)\b"
    r"|\b(?:stop|sl)\b[^\n]{0,40}?"
    r"\b(?:0\s*a\s*0|break[\s-]?even|be|entry|entrada|pre[cç]o\s+de\s+entrada)\b"
    r"|\bbreak[\s-]?even\b|\b0\s*a\s*0\b|\b(?:novo|new)\s+(?:stop|sl)\b"
)
_PARTIAL = re.compile(
    r"\b(?:realiz(?:ar|e|ando)|parcial|partial|take\s+(?:some\s+)?profits?\s+now)\b"
)


@dataclass(frozen=True, slots=True)
class _FollowUp:
    strong: bool
    reason: str


def _follow_up(lines: list[str]) -> _FollowUp | None:
    if not _FOLLOW_HINT.search("\n".join(lines).lower()):
        return None
    soft: _FollowUp | None = None
    for line in lines:
        low = line.lower()
        if not low or not _FOLLOW_HINT.search(low) or _CONDITION.search(low):
            continue
        if _UPDATE.search(low):
            return _FollowUp(True, "follow-up notice: update of an earlier signal")
        if _CANCEL.search(low):
            return _FollowUp(True, "follow-up notice: signal cancelled")
        if _HIT.search(low) and _HIT_SUBJECT.search(low):
            if _STOP_WORD.search(low):
                return _FollowUp(True, "follow-up notice: stop hit")
            if _ENTRY_WORD.search(low):
                return _FollowUp(True, "follow-up notice: entry reached")
            return _FollowUp(True, "follow-up notice: target hit")
        if _STOPPED.search(low):
            return _FollowUp(True, "follow-up notice: stop hit")
        if _CLOSE.search(low):
            return _FollowUp(True, "follow-up notice: close position")
        if soft is None and _MANAGE.search(low):
            soft = _FollowUp(False, "follow-up notice: stop moved")
        elif soft is None and _PARTIAL.search(low):
            soft = _FollowUp(False, "follow-up notice: partial profit")
    return soft


# --------------------------------------------------------------------------- labels

# Matched against the lower-cased line (case-insensitive matching is much slower); the
# leading look-ahead skips positions where no label can start.
_LABEL_PATTERN = (
    r"(?=[a-zú])(?<![\w#$/])(?:"
    r"(?P<tfinal>(?:alvo|target|tp|take[\s-]?profit|objetivo)\s*final"
    r"|final\s+(?:alvo|target|tp|take[\s-]?profit)|[uú]ltimo\s+alvo)"
    r"|(?P<target>(?:take[\s-]?profits?|stop[\s-]?gain|alvos?|targets?|tps?|objetivos?"
    r"|exits?|sa[ií]das?)"
    r"(?:\s*\d{1,2}(?!\d|[.,]\d))?)"
    r"|(?P<stop>stop[\s-]?loss|stoploss|stop|sl|s/l)"
    r"|(?P<buy>(?:zona|pre[cç]o|regi[aã]o)\s+de\s+compra|buy|compra|comprar|long)"
    r"|(?P<sell>(?:zona|pre[cç]o|regi[aã]o)\s+de\s+venda|sell|venda|vender|short)"
    r"|(?P<entry>(?:zona|pre[cç]o|regi[aã]o|ponto)\s+de\s+entrada|entry|entries|entradas?)"
    r"|(?P<asset>ativo|asset|par|pair|coin|moeda|ticker|symbol|s[ií]mbolo|papel|a[cç][aã]o"
    r"|token|instrumento?|cripto|crypto)"
    r"|(?P<meta>tipo|type|side|lado|dire[cç][aã]o|direction|opera[cç][aã]o|trade\s+type"
    r"|position|posi[cç][aã]o|setup|estrat[eé]gia|strategy)"
    r"|(?P<ignore>leverage|alavancagem|lev|margin|margem|risk|risco|size|tamanho|capital"
    r"|exchange|corretora|timeframe|tf|gerenciamento|obs|observa[cç][aã]o|note|nota|r:r|rr"
    r"|lote|lot|mode|modo|volume)"
    r")(?:\s+(?:zone|zona|range|price|pre[cç]o|point|area|[aá]rea|at|@|em|entre|between"
    r"|limit|limite|order|ordem))?"
    r"(?:\s*\d{1,2}\s*(?=[:=)]))?"
    r"(?![A-Za-zÀ-ÿ])"
)
_LABEL = re.compile(_LABEL_PATTERN)
_LABEL_ANY_CASE = re.compile(_LABEL_PATTERN, re.IGNORECASE)
_PRICE_KINDS = frozenset({"tfinal", "target", "stop", "buy", "sell", "entry"})
_VALUE_STARTS_WITH_NUMBER = re.compile(r"[\s:=>\-]*(?:R?\$)?\s*\d")
_HAS_COLON = re.compile(r"\s*[:=]")
_HAS_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")
_HAS_WORD = re.compile(r"[A-Za-zÀ-ÿ]{2}")


@dataclass(slots=True)
class _Segment:
    kind: str
    text: str  # label and value
    value: str
    colon: bool


def _label_matches(line: str) -> Iterator[re.Match[str]]:
    low = line.lower()
    if len(low) != len(line):  # a few characters lower-case to two; keep offsets exact
        return _LABEL_ANY_CASE.finditer(line)
    return _LABEL.finditer(low)


def _segments(line: str) -> tuple[str, list[_Segment]]:
    """Split a line into its header part and its labelled fields."""
    starts: list[tuple[int, int, str]] = []
    for m in _label_matches(line):
        kind = m.lastgroup or ""
        if m.start() != 0:
            if kind in _PRICE_KINDS:
                if not _VALUE_STARTS_WITH_NUMBER.match(line, m.end()):
                    continue
            elif not _HAS_COLON.match(line, m.end()):
                continue
        starts.append((m.start(), m.end(), kind))
    if not starts:
        return line, []
    segments = []
    for i, (start, end, kind) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else len(line)
        segments.append(
            _Segment(kind, line[start:stop], line[end:stop], bool(_HAS_COLON.match(line, end)))
        )
    return line[: starts[0][0]], segments


# --------------------------------------------------------------------------- numbers

_NOTE_IN_PARENS = re.compile(r"\([^()]*[%:A-Za-zÀ-ÿ][^()]*\)")
_PERCENT = re.compile(r"(?<![\d.,])[+\-]?\d[\d.,]*+\s*%")
# Digits with single "." / "," marks inside; a trailing mark (sentence end) is not taken.
_NUMBER = re.compile(r"(?<![\w.,])\d++(?:[.,]\d++)*+(?![A-Za-z])")
_ENUMERATOR = re.compile(r"^(?:\d{1,2}\s*[):]\s*|\d{1,2}\.\s+)")
_NUMBER_LINE = re.compile(r"(?:R?\$|[\d\s.,;/|+\-])+")


def _number_tokens(value: str) -> list[str]:
    if "(" in value:
        value = _NOTE_IN_PARENS.sub(" ", value)
    if "%" in value:
        value = _PERCENT.sub(" ", value)
    return [tok for tok in _NUMBER.findall(value) if len(tok) <= 40]


def _number_line_tokens(line: str) -> list[str] | None:
    """Tokens of a line holding only prices (an enumerated list item), else None."""
    rest = _ENUMERATOR.sub("", line, count=1)
    if rest and _NUMBER_LINE.fullmatch(rest) and any(c.isdigit() for c in rest):
        return _number_tokens(rest)
    return None


def _decimal_evidence(tok: str) -> str | None:
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


def _to_decimal(tok: str, style: str) -> Decimal | None:
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


def _to_decimals(tok: str, style: str) -> list[Decimal]:
    if tok.isdigit():
        return [Decimal(tok)]
    value = _to_decimal(tok, style)
    if value is not None:
        return [value]
    if style == "dot" and "," in tok:
        # "1.15,2.15,3.00": a comma-separated list in a dot-decimal message.
        parts = [_to_decimal(p, style) for p in tok.split(",")]
        if all(p is not None for p in parts):
            return [p for p in parts if p is not None]
    return []


# --------------------------------------------------------------------------- header words

# _TYPE, _SIDE and _PORTUGUESE run on lower-cased text (case-insensitive matching is slower).
_TYPE = re.compile(
    r"(?<![A-Za-z])(?:(?P<swing>swing(?:[\s-]*trade)?)|(?P<day>day[\s-]*trade|intraday)"
    r"|(?P<position>position(?:[\s-]*trade)?|posi[cç][aã]o)|(?P<scalp>scalp(?:ing|er)?)"
    r"|(?P<spot>spot)|(?P<futures>futures?|futuros?|perp(?:etual)?s?))(?![A-Za-z])"
)
_TYPE_NAMES = {
    "swing": "Swing Trade",
    "day": "Day Trade",
    "position": "Position",
    "scalp": "Scalp",
    "spot": "Spot",
    "futures": "Futures",
}
_SIDE = re.compile(
    r"(?<![A-Za-z])(?:(?P<buy>buy|long|compra|comprar|comprad[oa])"
    r"|(?P<sell>sell|short|venda|vender|vendid[oa]))(?![A-Za-z])"
)
_PORTUGUESE = re.compile(
    r"(?<![A-Za-z])(?:ativo|compra|venda|alvos?|entradas?|objetivos?|zona\s+de|pre[cç]o)"
    r"(?![A-Za-z])"
)

_QUOTES = "USDT|USDC|BUSD|FDUSD|TUSD|USD|BTC|ETH|BNB|BRL|EUR|PERP"
_PAIR = re.compile(r"(?<![\w#$/])[#$]?([A-Za-z0-9]{2,12})\s?/\s?([A-Za-z]{2,6})(?![\w/])")
_PAIR_DASH = re.compile(rf"(?<![\w#$/])[#$]?([A-Za-z0-9]{{2,12}})[-_]((?i:{_QUOTES}))(?![\w/])")
_TAGGED = re.compile(r"(?<![\w#$])[#$]([A-Za-z][A-Za-z0-9]{0,14})(?![\w/])")
_BARE = re.compile(r"(?<![\w#$/])([A-Z][A-Z0-9]{1,14})(?![\w/])")
_LABELLED_TOKEN = re.compile(r"[#$]?([A-Za-z0-9]{1,20})")
_TICKER_SHAPE = re.compile(rf"[A-Z]{{2,}}\d{{1,3}}|[A-Z0-9]{{2,10}}(?:{_QUOTES})")
_NOT_TICKER = re.compile(r"[HMDW]\d{1,3}|(?:TP|SL|T|E|X)\d+")
# Upper-case words that are never an asset.
_KEYWORD_TEXT = """
LONG SHORT BUY SELL COMPRA VENDA SPOT FUTURES FUTURE FUTUROS FUTURO SWING TRADE TRADES
SWINGTRADE DAYTRADE DAY POSITION SCALP SCALPING SIGNAL SIGNALS SINAL SINAIS VIP NEW NOVO
NOVA TP TPS SL ENTRY ENTRADA TARGET TARGETS STOP LOSS ALVO ALVOS ATIVO CROSS ISOLATED
LEVERAGE LEV BINANCE BYBIT OKX KUCOIN ALERT ALERTA FREE PREMIUM CALL OK USDT USD USDC
BUSD BRL PERP CMP MARKET NOW HOLD DCA RR ROI PNL PROFIT LUCRO AND OR THE FOR AT TO IN ON
DE DA DO E A O UP DOWN BULLISH BEARISH INFO OBS TF TYPE TIPO SIDE PAR PAIR COIN ZONE
ZONA FINAL GAIN TAKE HOJE AGORA
"""
_KEYWORDS = frozenset(_KEYWORD_TEXT.split())
_QUOTE_STOPWORDS = _KEYWORDS - {"USDT", "USD", "USDC", "BUSD", "BRL"}


def _is_asset_word(word: str) -> bool:
    return word.upper() not in _KEYWORDS and _HAS_LETTER.search(word) is not None


def _pair_assets(text: str) -> list[tuple[int, str]]:
    """(position, normalised asset) for #TAG, $TAG and BASE/QUOTE forms."""
    found = []
    if "/" in text:
        for m in _PAIR.finditer(text):
            base, quote = m.group(1), m.group(2)
            if _is_asset_word(base) and quote.upper() not in _QUOTE_STOPWORDS:
                found.append((m.start(), f"{base.upper()}/{quote.upper()}"))
    if "-" in text or "_" in text:
        for m in _PAIR_DASH.finditer(text):
            if _is_asset_word(m.group(1)):
                found.append((m.start(), f"{m.group(1).upper()}/{m.group(2).upper()}"))
    if "#" in text or "$" in text:
        for m in _TAGGED.finditer(text):
            if _is_asset_word(m.group(1)):
                found.append((m.start(), m.group(1).upper()))
    return found


def _bare_assets(text: str) -> list[tuple[int, str]]:
    """(rank, asset) for upper-case words that look like tickers."""
    found: list[tuple[int, str]] = []
    if text.islower():
        return found
    for m in _BARE.finditer(text):
        word = m.group(1)
        if word in _KEYWORDS or _NOT_TICKER.fullmatch(word):
            continue
        if _TICKER_SHAPE.fullmatch(word):
            found.append((2, word))
        elif word.isalpha() and len(word) <= 6:
            found.append((3, word))
    return found


def _labelled_asset(value: str) -> str | None:
    pairs = _pair_assets(value)
    if pairs:
        return min(pairs)[1]
    for m in _LABELLED_TOKEN.finditer(value):
        if _HAS_LETTER.search(m.group(1)):
            return m.group(1).upper()
    return None


# --------------------------------------------------------------------------- scanning


@dataclass(slots=True)
class _Scan:
    entry_tokens: list[str] = field(default_factory=list)
    target_tokens: list[tuple[str, bool]] = field(default_factory=list)  # (token, is_final)
    stop_tokens: list[str] = field(default_factory=list)
    assets: list[tuple[int, int, str]] = field(default_factory=list)  # (rank, order, asset)
    entry_side: str | None = None
    meta_side: str | None = None
    header_side: str | None = None
    signal_type: str | None = None

    @property
    def has_fields(self) -> bool:
        return bool(self.entry_tokens or self.target_tokens or self.stop_tokens)

    def add_asset(self, rank: int, asset: str) -> None:
        self.assets.append((rank, len(self.assets), asset))

    def asset(self) -> str | None:
        return min(self.assets)[2] if self.assets else None


def _side_of(low: str) -> str | None:
    sides = {m.lastgroup for m in _SIDE.finditer(low)}
    return sides.pop() if len(sides) == 1 else None


def _scan_words(text: str, scan: _Scan, *, assets: bool = True) -> None:
    """Type, side and asset candidates from free text (a header line or a label value)."""
    if not _HAS_WORD.search(text):
        return
    low = text.lower()
    if scan.signal_type is None:
        m = _TYPE.search(low)
        if m and m.lastgroup:
            scan.signal_type = _TYPE_NAMES[m.lastgroup]
    if scan.header_side is None:
        scan.header_side = _side_of(low)
    if assets:
        for _, asset in sorted(_pair_assets(text)):
            scan.add_asset(1, asset)
        for rank, asset in _bare_assets(text):
            scan.add_asset(rank, asset)


def _scan_segment(seg: _Segment, scan: _Scan) -> str | None:
    """Record one labelled field; return the field a following number line continues."""
    kind = seg.kind
    if kind == "ignore":
        return None
    if kind == "asset":
        asset = _labelled_asset(seg.value) if seg.colon else None
        if asset:
            scan.add_asset(0, asset)
        else:
            _scan_words(seg.text, scan)
        return None
    if kind == "meta":
        if seg.colon:
            if scan.meta_side is None:
                scan.meta_side = _side_of(seg.value.lower())
            _scan_words(seg.value, scan, assets=False)
        else:
            _scan_words(seg.text, scan)
        return None
    tokens = _number_tokens(seg.value)
    value = seg.value
    if "(" in value:
        value = _NOTE_IN_PARENS.sub("", value)
    continues = not _HAS_LETTER.search(value)
    if kind in ("buy", "sell", "entry"):
        if not tokens:
            _scan_words(seg.text, scan)
            return "entry" if kind == "entry" and continues else None
        if kind != "entry" and scan.entry_side not in (None, kind):
            # "Compra: 10 / Venda: 12": the opposite side's price is the exit, a target.
            scan.target_tokens.extend((t, False) for t in tokens)
            return "target" if continues else None
        scan.entry_tokens.extend(tokens)
        if kind != "entry" and scan.entry_side is None:
            scan.entry_side = kind
        _scan_words(seg.value, scan)
        return "entry" if continues else None
    if kind in ("target", "tfinal"):
        last = len(tokens) - 1
        scan.target_tokens.extend((t, kind == "tfinal" and i == last) for i, t in enumerate(tokens))
        return "target" if continues else None
    scan.stop_tokens.extend(tokens)
    return None


def _scan(lines: list[str]) -> _Scan:
    scan = _Scan()
    continuation: str | None = None
    for line in lines:
        if not line:
            continue
        header, segments = _segments(line)
        if continuation and not segments:
            tokens = _number_line_tokens(line)
            if tokens is not None:
                if continuation == "entry":
                    scan.entry_tokens.extend(tokens)
                else:
                    scan.target_tokens.extend((t, False) for t in tokens)
                continue
        continuation = None
        if header.strip():
            _scan_words(header, scan)
        for seg in segments:
            continuation = _scan_segment(seg, scan)
    return scan


# --------------------------------------------------------------------------- validation


def _describe_range(side: str, low: Decimal, high: Decimal) -> str:
    return f"{side} price {low}" if low == high else f"{side} range {low}-{high}"


def _validate(
    side: str, low: Decimal, high: Decimal, targets: list[Decimal], stop: Decimal | None
) -> str | None:
    if low <= _ZERO:
        return f"entry {low} is not positive"
    if stop is not None and stop <= _ZERO:
        return f"stop {stop} is not positive"
    for target in targets:
        if target <= _ZERO:
            return f"target {target} is not positive"
    problem: str | None = None
    if side == BUY:
        if stop is not None and stop >= low:
            problem = f"stop {stop} is not below"
        else:
            problem = next((f"target {t} is not above" for t in targets if t <= high), None)
    elif stop is not None and stop <= high:
        problem = f"stop {stop} is not above"
    else:
        problem = next((f"target {t} is not below" for t in targets if t >= low), None)
    return None if problem is None else f"{problem} the {_describe_range(side, low, high)}"


# --------------------------------------------------------------------------- entry point


def parse_signal(text: str) -> Signal | NotASignal:
    """Parse one message; pure and total (never raises)."""
    try:
        return _parse(text)
    except Exception as exc:  # a parser bug must not lose the message upstream
        return NotASignal(NOT_SIGNAL, f"parser error: {type(exc).__name__}")


def _parse(text: str) -> Signal | NotASignal:
    if not isinstance(text, str) or not text.strip():
        return NotASignal(NOT_SIGNAL, "empty message")
    if len(text) > MAX_MESSAGE_CHARS:
        return NotASignal(NOT_SIGNAL, f"message too long ({len(text)} characters)")
    lines = _clean_lines(text)
    follow = _follow_up(lines)
    if follow is not None and follow.strong:
        return NotASignal(NOT_SIGNAL, follow.reason)
    scan = _scan(lines)
    if not scan.has_fields:
        return NotASignal(NOT_SIGNAL, follow.reason if follow else CHATTER)

    style = _decimal_style(scan, text)
    entries = [d for tok in scan.entry_tokens for d in _to_decimals(tok, style)]
    targets: list[Decimal] = []
    final_index: int | None = None
    for tok, is_final in scan.target_tokens:
        values = _to_decimals(tok, style)
        targets.extend(values)
        if is_final and values and final_index is None:
            final_index = len(targets) - 1
    stops = [d for tok in scan.stop_tokens for d in _to_decimals(tok, style)]
    stop = stops[0] if stops else None
    asset = scan.asset()

    complete = asset is not None and bool(entries) and bool(targets or stop is not None)
    if follow is not None and not complete:
        return NotASignal(NOT_SIGNAL, follow.reason)
    if asset is None:
        return NotASignal(INVALID, "no asset")
    if not entries:
        return NotASignal(INVALID, "no entry price")
    if not targets and stop is None:
        return NotASignal(INVALID, "no target or stop")

    low, high = min(entries), max(entries)
    side = scan.entry_side or scan.meta_side or scan.header_side
    if side is None:
        buy_ok = _validate(BUY, low, high, targets, stop) is None
        side = SELL if not buy_ok and _validate(SELL, low, high, targets, stop) is None else BUY
    problem = _validate(side, low, high, targets, stop)
    if problem:
        return NotASignal(INVALID, problem)
    return Signal(
        asset=asset,
        signal_type=scan.signal_type or UNSPECIFIED,
        side=side,
        buy_min=low,
        buy_max=high,
        targets=tuple(targets),
        stop=stop,
        final_index=None if final_index == len(targets) - 1 else final_index,
    )


def _decimal_style(scan: _Scan, text: str) -> str:
    """The decimal mark ("comma" or "dot") the message's ambiguous tokens follow."""
    votes = {"comma": 0, "dot": 0}
    tokens = [*scan.entry_tokens, *(t for t, _ in scan.target_tokens), *scan.stop_tokens]
    ambiguous: list[str] = []
    plain: list[int] = []
    for tok in tokens:
        if tok.isdigit():
            plain.append(int(tok))
        elif evidence := _decimal_evidence(tok):
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
    return "comma" if _PORTUGUESE.search(text.lower()) else "dot"


def _distance(tokens: list[str], style: str, anchor: int) -> float:
    total = 0.0
    for tok in tokens:
        value = _to_decimal(tok, style)
        if value is not None and value > 0:
            total += abs(math.log10(float(value) / anchor))
    return total
