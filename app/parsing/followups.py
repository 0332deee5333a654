"""Follow-ups and notices: messages about an earlier signal, which are not signals.

Checked line by line with the lexicon's follow-up words; a line holding a condition word
("after TP1 move SL to entry", "após o alvo 1...", "если...") is an instruction, not a notice.

* Always a follow-up, even when the message also quotes a full signal: an update, a
  cancellation, a target/stop/entry hit (a hit word on a line with a label: ``TP1 hit``,
  ``Alvo 1 atingido``, ``цель 1 взята``), a stop-out, a close (``Close EURUSD now``,
  ``Closed at 1.0900``, ``Fechar``; not ``TP3: close all``, a target that is no price).
* A follow-up only when the message is not a complete signal: stop management (``Move SL to
  entry``, ``breakeven``, ``перенести стоп в бу``) and partial profit.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from app.parsing.lexicon import HIT_MARK, LETTER_RUN, CompiledLexicon, canonical

_NUMBER_NEXT = re.compile(r"[ \t:=]*\$?\d")
# "TP1 2345 ✅": a hit mark after a price (before a label, "✅ TP1: 2345", it is a bullet)
_HIT_AFTER_PRICE = re.compile(rf"\d[^\d\n{HIT_MARK}]{{0,12}}{HIT_MARK}")
_TARGETS = frozenset({"target", "target_final"})
_PERCENT_NEXT = re.compile(r"[ \t]*\d+[ \t]*%")
_ENTRY_KINDS = frozenset({"entry", "buy", "sell"})
_PRICED = frozenset({"target", "target_final", "entry", "buy", "sell", "stop"})
_PROSE_WORDS = 12  # a notice is short ("TP1 hit ✅ +50 pips", "Closed at 1.0900")


@dataclass(frozen=True, slots=True)
class FollowUp:
    strong: bool
    reason: str


_REASONS = {
    "update": "follow-up notice: update of an earlier signal",
    "cancel": "follow-up notice: signal cancelled",
    "stop": "follow-up notice: stop hit",
    "entry": "follow-up notice: entry reached",
    "hit": "follow-up notice: target hit",
    "close": "follow-up notice: close position",
    "manage": "follow-up notice: stop moved",
    "partial": "follow-up notice: partial profit",
}


def follow_up(
    lows: list[str],
    label_kinds: list[list[str]],
    lex: CompiledLexicon,
    text: str,
    words: AbstractSet[str] | None = None,
) -> FollowUp | None:
    """The notice the message is, if any; ``label_kinds`` are each line's label kinds.

    ``text`` is the lines joined, for one pass deciding whether any line needs a look;
    ``words``, its letter runs when the caller has them, often spare that pass.
    """
    if HIT_MARK not in text and (
        (words is not None and not lex.followup_re.may_occur(words, text))
        or lex.followup_re.search(text) is None
    ):
        return None  # most signals: no follow-up word at all
    soft: FollowUp | None = None
    # a mark after a target is a result only in a report; beside unmarked entry and stop
    # lines it is the channel ticking off its own signal's levels
    report = HIT_MARK in text and _is_report(lows, label_kinds)
    for low, kinds in zip(lows, label_kinds, strict=True):
        if not low:
            continue
        if (
            HIT_MARK in low
            and kinds
            and _HIT_AFTER_PRICE.search(low)
            and (report or lex.result_re.search(low))
        ):
            marked = "stop" if "stop" in kinds else "hit"
            if not _prose(low):
                return FollowUp(True, _REASONS[marked])
            if soft is None:  # "Quick recap: GBPUSD hit TP2 yesterday ✅ (+70 pips), ..."
                soft = FollowUp(False, _REASONS[marked])
            continue
        hits = [
            (m.start(), lex.followups[canonical(m.group())])
            for m in lex.followup_re.finditer(low)
            if canonical(m.group()) in lex.followups
        ]
        if not hits:
            continue
        classes = {kind for _, kind in hits}
        if "condition" in classes:
            continue
        kinds = kinds or _mentions(low, lex)
        reason = _notice(low, hits, classes, kinds, lex)
        if reason is not None:
            if reason == "cancel" or not _prose(low):
                return FollowUp(True, _REASONS[reason])
            # a long line of prose ("Last week we closed +340 pips in total, thank you
            # all...") is chatter around a signal, a notice only when no signal is there
            if soft is None:
                soft = FollowUp(False, _REASONS[reason])
            continue
        if "close" in classes and soft is None and "%" in low:
            soft = FollowUp(False, _REASONS["partial"])  # "Fechar 50% da posição"
        if soft is None and "manage" in classes:
            soft = FollowUp(False, _REASONS["manage"])
        elif soft is None and "partial" in classes:
            soft = FollowUp(False, _REASONS["partial"])
    return soft


def _prose(low: str) -> bool:
    return len(LETTER_RUN.findall(low)) > _PROSE_WORDS


def _is_report(lows: list[str], label_kinds: list[list[str]]) -> bool:
    """Every entry and stop line marked, or every entry line marked with only the stop
    unmarked ("BUY 2318.50 ✅ / TP1 2326 ✅ / ... / SL 2311": the stop was not hit)."""
    unmarked_entry = unmarked_stop = marked_entry = False
    for low, kinds in zip(lows, label_kinds, strict=True):
        entry = not _ENTRY_KINDS.isdisjoint(kinds)
        if HIT_MARK in low:
            marked_entry = marked_entry or entry
        else:
            unmarked_entry = unmarked_entry or entry
            unmarked_stop = unmarked_stop or "stop" in kinds
    return not unmarked_entry and (not unmarked_stop or marked_entry)


def _notice(
    low: str, hits: list[tuple[int, str]], classes: set[str], kinds: list[str], lex: CompiledLexicon
) -> str | None:
    """The notice a line with follow-up words is: update, cancel, stop, entry, hit, close."""
    if "update" in classes and (kinds or _starts_with(low, hits, "update")):
        return "update"
    if "cancel" in classes:
        return "cancel"
    if "stopped" in classes:
        return "stop"
    if "hit" in classes and (kinds or "all" in classes or lex.result_re.search(low)):
        if "stop" in kinds:
            return "stop"
        if ("entry" in kinds or "buy" in kinds or "sell" in kinds) and "target" not in kinds:
            return "entry"
        return "hit"
    if "close" in classes and _is_close(low, hits, kinds, lex):
        return "close"
    return None


def _is_close(
    low: str, words: list[tuple[int, str]], kinds: list[str], lex: CompiledLexicon
) -> bool:
    if any(kind == "partial" for _, kind in words):
        return False  # "close half at TP1": partial profit, an instruction
    for start, kind in words:
        if kind != "close":
            continue
        end = start + len(low[start:].split()[0])
        if _PERCENT_NEXT.match(low, end):
            return False  # "close 50% at TP1": partial profit
        at_start = not low[:start].strip(" \t-:|>*")
        if at_start and kinds and kinds[0] in _TARGETS and _NUMBER_NEXT.match(low, end):
            return False  # "Exit: 1.0900" is a target label, not a close
        if at_start or lex.value_prefix_re.match(low, end) or low[start:end].endswith(":"):
            # "Close EURUSD now", "closed 1.0890", "closed at 1.0890 +50", "Sinal encerrado:"
            return True
        # "TP3: close all" is a target that is no price
        return not any(k in _PRICED for k in kinds)
    return False


def _mentions(low: str, lex: CompiledLexicon) -> list[str]:
    """Label kinds named anywhere in the line ("It hit TP"), accepted as fields or not."""
    kinds = []
    for m in lex.label_re.finditer(low):
        label = lex.label(m.group())
        if label is not None:
            kinds.append(label.kind)
    return kinds


def is_result(lows: list[str], lex: CompiledLexicon) -> bool:
    """A "+180 points" / "+2.5%" result written in the message."""
    return any(lex.result_re.search(low) for low in lows if "+" in low)


def _starts_with(low: str, words: list[tuple[int, str]], kind: str) -> bool:
    """Whether a word of this class opens the line ("Update: ...", not "will update")."""
    return any(k == kind and not low[:start].strip(" \t-:|>*") for start, k in words)
