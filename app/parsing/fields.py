"""Assigning the numbers of a message to fields: entry, targets, stop; plus side and asset.

Lines are read in order. A labelled segment's numbers go to its field (a buy/sell/entry
label: the entry, or a market order when it has no number but a market word such as
``now``/``CMP``; target labels: targets with the label's index; stop: the first number).
A side word alone on a short line (``XAUUSD BUY``) is an order at market; a short side
line's number is its entry (``GOLD 2345 BUY``). A label with no
number (``Targets:``, ``Entry zone:``, ``Buy zone 1.0850 -``) lets the next lines holding
only numbers (``1) 2350``, ``➋ 2355``) continue it. When both a buy and a sell label carry
prices (``Compra: 10 / Venda: 12``), the second one is an exit price, i.e. a target.

Side: a buy/sell label carrying the entry wins, then a ``Side:``/``Direção:`` value, then the
first line naming exactly one side (a line naming both, such as a "buy or sell" disclaimer,
is ignored); else it is inferred from the prices by the validator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.parsing.instruments import AssetFinder
from app.parsing.lexicon import CompiledLexicon
from app.parsing.numbers import Num, price_tokens, strip_annotations
from app.parsing.tokens import Line, Segment, segments

_ENUMERATOR = re.compile(
    r"^(?:\(?(\d{1,2})[ \t]*[):\-][ \t]*|(\d{1,2})\.[ \t]+|(\d{1,2})[ \t]+(?=\d))"
)
_HAS_LETTER = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[^\W\d_]+")
_HEADER_WORDS = 4
_AT_PRICE = re.compile(r"@[ \t]*\$?(?=\d)")
_LOT_BEFORE_SYMBOL = re.compile(
    r"[ \t]*(\d+(?:[.,]\d+)?)[ \t]+(?:lots?[ \t]+)?[^\W\d_][\w/.]*[ \t]+(?:at|@)[ \t]*\$?\d"
)
_DIGIT = re.compile(r"\d")
ENTRY_KINDS = frozenset({"entry", "buy", "sell"})


@dataclass(slots=True)
class Target:
    num: Num | None  # None: "TP 2" alone, a notice about target 2 (unless maybe_price)
    index: int | None
    final: bool
    maybe_price: Num | None = None


@dataclass(slots=True)
class Draft:
    """What the field assignment found, before decimals and validation."""

    lex: CompiledLexicon
    entries: list[Num] = field(default_factory=list)
    market: bool = False
    targets: list[Target] = field(default_factory=list)
    stops: list[Num] = field(default_factory=list)
    entry_side: str | None = None
    meta_side: str | None = None
    line_side: str | None = None
    line_side_unit: bool = False  # line_side came from a word that may be a unit ("sat")
    side_label: bool = False  # an explicit "Compra:"/"Buy:" label carried the entry
    side_line: bool = False  # a short line names the side
    loose_numbers: list[Num] = field(default_factory=list)  # numbers on a side line
    assets: AssetFinder = field(init=False)
    labelled_asset: bool = False
    comma_language: bool = False
    line_kinds: list[list[str]] = field(default_factory=list)
    # lines to look for the asset in, once the message is known to carry fields
    asset_lines: list[tuple[Line, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.assets = AssetFinder(self.lex)

    @property
    def has_fields(self) -> bool:
        priced = any(t.num is not None for t in self.targets)
        return bool(self.entries or priced or self.stops or self.market)

    def asset(self) -> str | None:
        """The message's instrument: labelled values first, then the lines in order, the
        lines carrying a price label or a side before the others (chatter around the signal)."""
        rest: list[tuple[Line, str, str]] = []
        for entry in self.asset_lines:
            if _carries_fields(entry[0]):
                if not self.assets.settled:
                    _scan_assets(self, *entry)
            else:
                rest.append(entry)
        # then short lines ("#LINK/USDT", "BRENT 🛢") before prose naming other instruments
        for short in (True, False):
            for scan, line, low in rest:
                if self.assets.settled:
                    break
                if (low.count(" ") < _HEADER_WORDS) is short:
                    _scan_assets(self, scan, line, low)
        self.asset_lines = []
        return self.assets.best()

    def tokens(self) -> list[str]:
        nums = [*self.entries, *(t.num for t in self.targets if t.num), *self.stops]
        return [n.text for n in nums]


def assign(lines: list[str], lows: list[str], lex: CompiledLexicon) -> Draft:
    draft = Draft(lex)
    continuation: str | None = None
    last_entry = False
    for line, low in zip(lines, lows, strict=True):
        if not low:
            draft.line_kinds.append([])
            continue
        scan = segments(line, low, lex)
        header, segs, sides = scan.header, scan.segments, scan.sides
        draft.comma_language = draft.comma_language or scan.comma
        draft.line_kinds.append([s.kind for s in segs])
        if (
            (continuation or (last_entry and lex.continued_re.match(low)))
            and not segs
            and not sides
        ):
            nums, index = _number_line(low, lex)
            if nums is not None:
                _continue(draft, continuation or "entry", nums, index)
                continue
        continuation = None
        last_entry = bool(segs) and segs[-1].kind in ENTRY_KINDS
        one_side = bool(sides) and (len(sides) == 1 or len(set(sides)) == 1)
        if draft.line_side is None and one_side:
            draft.line_side = sides[0]
            draft.line_side_unit = scan.unit_side
        # whether the text before the first label is short, counted after its last colon
        # ("Instant execution: BUY EURJPY at 163.20")
        short_header = bool(sides or "@" in header) and (
            len(_WORDS.findall(header.rpartition(":")[2])) <= _HEADER_WORDS
        )
        if one_side and short_header:
            # "XAUUSD BUY" / "GOLD SELL ⏎ TP ...": a side alone in a short line is an order at
            # market; "Watching 1.0850 for long entries" is prose
            draft.side_line = True
        draft.asset_lines.append((scan, line, low))
        priced = False
        pending: list[int] = []  # "TP1/TP2/TP3: 18220/18300/18420"
        for n, seg in enumerate(segs, 1):
            nums = None
            if seg.kind == "target" and seg.index is not None and n < len(segs):
                nums = price_tokens(seg.low, lex)
                if not nums:
                    pending.append(seg.index)
                    continue
            before = len(draft.targets)
            continuation, got = _segment(draft, seg, lex, nums)
            got = got and seg.kind in ENTRY_KINDS
            if pending and seg.kind == "target":
                for i, target in enumerate(draft.targets[before:]):
                    target.index = pending[0] + i
            pending = []
            priced = priced or got
        if sides and not priced and header and short_header:
            # "GOLD 2345 BUY", "ETH 3350 buy, tp ...": a short side line's number is the entry;
            # in prose ("Watching 1.0850 for long entries") it is not
            draft.loose_numbers.extend(price_tokens(header.lower(), lex))
        if (
            not sides
            and not priced
            and not draft.entries
            and "@" in header
            and short_header
            and (at := _AT_PRICE.search(header)) is not None
        ):
            # "EURUSD @ 1.0850 / TP 1.0880 / SL 1.0830": the price at "@" is the entry, the side
            # follows from the targets and stop
            draft.entries.extend(price_tokens(header[at.end() :].lower(), lex))
        if sides and not priced and lex.market_re.search(low):
            draft.market = True  # "NAS100 SELL NOW (market execution)"
        if sides and not segs and not priced:
            # "GBPUSD buy from 1.2700" / "to 1.2690": numbers on and after a side line
            continuation = "loose"
    return draft


_PRICE_ONLY = frozenset({"target", "target_final", "stop"})
_FIELD_KINDS = ENTRY_KINDS | _PRICE_ONLY


def _carries_fields(scan: Line) -> bool:
    return bool(scan.sides) or any(s.kind in _FIELD_KINDS for s in scan.segments)


_WORDISH = re.compile(r"[^\W\d_]")


def _scan_assets(draft: Draft, scan: Line, line: str, low: str) -> None:
    """Asset candidates from the line's header and its non-price values ("Buy EURUSD 1.08")."""
    if draft.assets.settled:
        return
    if not scan.segments or not _DIGIT.search(low):
        parts = [(line, low)]  # "META swing": "meta" is also a Spanish target word
    else:
        offset = len(scan.header)
        parts = [(line[:offset], low[:offset])] if scan.header.strip() else []
        parts.extend(
            (s.value, s.low)
            for s in scan.segments
            if s.kind not in _PRICE_ONLY and s.kind != "asset"
        )
        if any(s.kind in _PRICE_ONLY for s in scan.segments) and len(parts) == 0:
            return
    for text, text_low in parts:
        if _WORDISH.search(text_low):
            draft.assets.scan(text, text_low)


def _number_line(low: str, lex: CompiledLexicon) -> tuple[list[Num] | None, int | None]:
    m = _ENUMERATOR.match(low)
    index = None
    rest = low
    if m:
        index = int(m.group(1) or m.group(2) or m.group(3))
        rest = low[m.end() :]
    if not _DIGIT.search(rest):
        return None, None
    bare = strip_annotations(rest, lex)
    if not lex.number_line_re.fullmatch(bare):
        return None, None
    return price_tokens(rest, lex), index


def _continue(draft: Draft, kind: str, nums: list[Num], index: int | None) -> None:
    if kind == "entry":
        draft.entries.extend(nums)
    elif kind == "loose":
        draft.loose_numbers.extend(nums)
    elif kind == "stop":
        draft.stops.extend(nums[:1])
    else:
        for i, num in enumerate(nums):
            draft.targets.append(Target(num, index if i == 0 else None, False))


def _segment(
    draft: Draft, seg: Segment, lex: CompiledLexicon, nums: list[Num] | None = None
) -> tuple[str | None, bool]:
    """Record one labelled field; (the field a following number line continues, priced).

    ``nums``: the segment's price tokens when the caller has read them already."""
    kind = seg.kind
    if kind in ("asset", "meta", "ignore"):
        if kind == "asset":
            draft.labelled_asset = True
            draft.assets.labelled(seg.value.strip(" \t:=-"), seg.low.strip(" \t:=-"))
        elif kind == "meta" and draft.meta_side is None:
            draft.meta_side = _side_in(seg.low, lex)
        return None, False
    if nums is None:
        lot = _LOT_BEFORE_SYMBOL.match(seg.low) if kind in ENTRY_KINDS else None
        # "buy 0.50 EURUSD at 1.08420": the number before the instrument is the volume
        nums = price_tokens(seg.low[lot.end(1) :] if lot else seg.low, lex)
    continues = not nums and not _HAS_LETTER.search(seg.low)
    if kind in ("buy", "sell", "entry"):
        if not nums:
            if lex.market_re.search(seg.low):
                draft.market = True
                return None, False
            return ("entry" if continues or _continues(seg.low, lex) else None), False
        if kind != "entry" and draft.entry_side not in (None, kind):
            # "Compra: 10 / Venda: 12": the opposite side's price is the exit, a target.
            draft.targets.extend(Target(n, None, False) for n in nums)
            return None, True
        draft.entries.extend(nums)
        if kind != "entry":
            if draft.entry_side is None:
                draft.entry_side = kind
            draft.side_label = draft.side_label or (seg.colon and seg.at_start)
        return ("entry" if _continues(seg.low, lex) else None), True
    if kind in ("target", "target_final"):
        if not nums and seg.maybe_price is not None:
            draft.targets.append(Target(None, seg.index, False, Num(seg.maybe_price)))
            return None, False
        last = len(nums) - 1
        for i, num in enumerate(nums):
            # "TP1/TP2/TP3: 18220/18300/18420", "TP1: 110, 120": numbered on from the label's
            index = None if seg.index is None else seg.index + i
            draft.targets.append(Target(num, index, kind == "target_final" and i == last))
        return ("target" if continues else None), bool(nums)
    # stop
    if nums:
        draft.stops.append(nums[0])
        return None, True
    return ("stop" if continues else None), False


def _continues(low: str, lex: CompiledLexicon) -> bool:
    """A value ending in a range connector ("Buy zone 1.0850 -", "entre 38,20 e")."""
    tail = low.rstrip()
    if tail.endswith(("-", "/", "~")):
        return True
    last = tail.rsplit(None, 1)[-1] if tail else ""
    return last in lex.connectors


def _side_in(low: str, lex: CompiledLexicon) -> str | None:
    kinds = set()
    for m in lex.label_re.finditer(low):
        label = lex.label(m.group())
        if label is not None and label.kind in ("buy", "sell"):
            kinds.add(label.kind)
    return kinds.pop() if len(kinds) == 1 else None
