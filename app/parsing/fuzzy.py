"""Label typos: a word one edit away from a label word reads as that label.

``Tarrget``, ``Trget``, ``Tagret 1``, ``Entryy``, ``Stop-los`` are one insertion, deletion,
substitution or swap of neighbours (Damerau-Levenshtein distance 1, optimal string alignment)
away from a lexicon label. The index is a symmetric deletion neighbourhood built once when the
lexicon is compiled: every known word and every word with one letter deleted point to the
known words they come from, so finding a typo's candidates is a few dict lookups.

Only entry, target and stop labels are corrected, only words of 5 letters or more (a typo of a
short word is too often another word), and only when every known word within distance 1 is a
label of that one kind: a word near a filler, a follow-up word, an instrument or one of the
lexicon's ``common_words`` (``exist`` is one swap from ``exits``) stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable

FUZZY_KINDS = frozenset({"entry", "target", "target_final", "stop"})
MIN_LETTERS = 5
_CACHE_LIMIT = 4096


def deletions(word: str) -> set[str]:
    """The word and every string with one of its letters deleted."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def within_one(a: str, b: str) -> bool:
    """Whether the optimal-string-alignment distance between ``a`` and ``b`` is at most 1."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


class FuzzyLabels:
    """Label keys (canonical label phrases) reachable from a typo, precomputed."""

    __slots__ = ("_common", "_index", "_kinds", "_seen")

    def __init__(
        self, labels: dict[str, str], other_words: Iterable[str], common: Iterable[str] = ()
    ) -> None:
        """``labels``: canonical label key -> kind; ``other_words``: known words of any other
        class (fillers, follow-ups, instrument names), whose neighbours are no typo either;
        ``common``: words that are never a typo themselves."""
        self._common = frozenset(common)
        self._kinds: dict[str, str | None] = {}
        for key, kind in labels.items():
            self._kinds[key] = kind if kind in FUZZY_KINDS and key.isalpha() else None
        for word in other_words:
            self._kinds.setdefault(word, None)
        self._index: dict[str, list[str]] = {}
        for word in self._kinds:
            if len(word) < MIN_LETTERS - 1:
                continue
            for variant in deletions(word):
                self._index.setdefault(variant, []).append(word)
        self._seen: dict[str, str | None] = {}

    def correct(self, word: str) -> str | None:
        """The label key ``word`` is a typo of, or None (a known word, or no single label)."""
        try:
            return self._seen[word]
        except KeyError:
            pass
        found = (
            None
            if word in self._kinds or word in self._common or len(word) < MIN_LETTERS
            else self._lookup(word)
        )
        if len(self._seen) < _CACHE_LIMIT:
            self._seen[word] = found
        return found

    def _lookup(self, word: str) -> str | None:
        near: set[str] = set()
        for variant in deletions(word):
            for known in self._index.get(variant, ()):
                if within_one(word, known):
                    near.add(known)
        kinds = {self._kinds[k] for k in near}
        if len(kinds) != 1 or None in kinds:
            return None
        return min(near, key=lambda k: (abs(len(k) - len(word)), k))


# A word (or two joined by a separator: "Stop-los", "take proft") in label position: at a
# line's start (no group), or followed by a colon or a number after an optional one- or
# two-digit index (group 1). Possessive runs and the word boundary keep the scan cheap; the
# leading letter test skips the other positions before either branch is tried.
_CANDIDATE = re.compile(
    r"(?m)(?=[^\W\d_])(?:^[^\W\d_]{2,}+(?:[ \t.\-/]{1,2}[^\W\d_]{2,}+)?"
    r"|\b([^\W\d_]{2,}+(?:[ \t.\-/]{1,2}[^\W\d_]{2,}+)?)"
    r"(?=[ \t]*+(?:\d{1,2}[ \t]*)?[:=]|[ \t:=\-@]*+\$?\d))"
)
# the same for an ASCII-only text: identical there, and its classes are cheaper to test
_CANDIDATE_ASCII = re.compile(_CANDIDATE.pattern, re.ASCII)
_VALUE_AFTER = re.compile(r"[ \t]*+(?:\d{1,2}[ \t]*)?[:=]|[ \t:=\-@]*+\$?\d")
_SEPARATORS = str.maketrans("", "", " \t.-/")
_SPLIT = re.compile(r"[ \t.\-/]+")
# what a candidate's text corrects to: (the whole text or its first word, the whole text or
# its last word), each a tuple of (offset in the candidate, length, label key)
_Plan = tuple[tuple[tuple[int, int, str], ...], tuple[tuple[int, int, str], ...]]
_NOTHING: _Plan = ((), ())


def _plan(text: str, fuzzy: FuzzyLabels, labels: Container[str]) -> _Plan:
    key = text.translate(_SEPARATORS)
    if key in labels:
        return _NOTHING
    fix = fuzzy.correct(key)
    if fix is not None:
        whole = ((0, len(text), fix),)
        return whole, whole
    words = _SPLIT.split(text)
    if len(words) != 2:
        return _NOTHING
    # "Tarrget zone:" at a line's start: the first word; "the tarrget 1.0900": the last one
    first, second = words
    at = len(text) - len(second)
    fixes = []
    for part, offset in ((first, 0), (second, at)):
        fix = None if part in labels else fuzzy.correct(part)
        fixes.append(((offset, len(part), fix),) if fix is not None else ())
    return fixes[0], fixes[1]


def correct_typos(
    joined: str, low: str, fuzzy: FuzzyLabels, labels: Container[str], cache: dict[str, _Plan]
) -> str:
    """``joined`` (the message's lines) with label typos replaced by the label; ``low`` is
    ``joined`` lower-cased with the same offsets. Returns ``joined`` itself when nothing is
    corrected (the common case). ``cache`` keeps each candidate's plan."""
    fixes: list[tuple[int, int, str]] = []
    for m in (_CANDIDATE_ASCII if low.isascii() else _CANDIDATE).finditer(low):
        text = m.group()
        if len(text) < MIN_LETTERS:
            continue
        plan = cache.get(text)
        if plan is None:
            plan = _plan(text, fuzzy, labels)
            if len(cache) < _CACHE_LIMIT:
                cache[text] = plan
        # at a line's start the first word is in label position, the second one only when a
        # value follows ("Alts priced in sats" is prose; "Stop lose: 1.0800" a label)
        if m.lastindex:
            chosen = plan[1]
        else:
            chosen = plan[0] or (plan[1] if _VALUE_AFTER.match(low, m.end()) else ())
        if chosen:
            start = m.start()
            fixes.extend(
                (start + offset, start + offset + size, fix) for offset, size, fix in chosen
            )
    if not fixes:
        return joined
    for start, end, fix in reversed(fixes):
        joined = joined[:start] + fix + joined[end:]
    return joined
