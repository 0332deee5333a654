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
# line's start, or followed by a colon or a number (after an optional one- or two-digit index).
_CANDIDATE = re.compile(
    r"(?m)^([^\W\d_]{2,}(?:[ \t.\-/]{1,2}[^\W\d_]{2,})?)"
    r"|(?<![^\W\d_])([^\W\d_]{2,}(?:[ \t.\-/]{1,2}[^\W\d_]{2,})?)"
    r"(?=[ \t]*(?:\d{1,2}(?!\d))?[ \t]*[:=]|[ \t:=\-@]*\$?\d)"
)
_SEPARATORS = str.maketrans("", "", " \t.-/")
_SPLIT = re.compile(r"[ \t.\-/]+")


def correct_typos(joined: str, low: str, fuzzy: FuzzyLabels, labels: Container[str]) -> str:
    """``joined`` (the message's lines) with label typos replaced by the label; ``low`` is
    ``joined`` lower-cased with the same offsets. Returns ``joined`` itself when nothing is
    corrected (the common case)."""
    fixes: list[tuple[int, int, str]] = []
    for m in _CANDIDATE.finditer(low):
        at_start = m.group(1) is not None
        text = m.group(1) if at_start else m.group(2)
        start = m.start(1) if at_start else m.start(2)
        key = text.translate(_SEPARATORS)
        if len(key) < MIN_LETTERS or key in labels:
            continue
        fix = fuzzy.correct(key)
        if fix is not None:
            fixes.append((start, start + len(text), fix))
            continue
        words = _SPLIT.split(text)
        if len(words) != 2:
            continue
        # "the tarrget 1.0900": the word before the number; "Tarrget zone:": the first word
        second = start + len(text) - len(words[1])
        parts = ((words[0], start), (words[1], second)) if at_start else ((words[1], second),)
        for part, at in parts:
            if part in labels:
                break
            fix = fuzzy.correct(part)
            if fix is not None:
                fixes.append((at, at + len(part), fix))
                break
    if not fixes:
        return joined
    for start, end, fix in reversed(fixes):
        joined = joined[:start] + fix + joined[end:]
    return joined
