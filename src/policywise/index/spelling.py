"""Correct misspelled words in a question against the words of the indexed policies.

"How many vacaton days?" matches nothing in BM25, and the embedding model reads "vacaton" as
unrelated word pieces, so the question lands on the holiday calendar. A word is corrected only when
it is unknown both to the corpus and to the model's vocabulary (a real word the policies happen not
to use is left alone) and exactly one edit (a missing, extra, wrong or swapped letter) turns it into
a word the policies use; the most frequent such word wins.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

_WORD = re.compile(r"[A-Za-z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIN_LENGTH = 5  # shorter words have too many neighbours one edit away
MAX_VERDICTS = 4096


def word_counts(texts: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w.lower() for w in _WORD.findall(text))
    return counts


def _one_edit(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return deletes | swaps | replaces | inserts


_SUFFIXES = ("ing", "ed", "es", "s", "d", "er", "ers", "ly")


def _base_forms(word: str) -> list[str]:
    """The word and what it may inflect: "clocked" -> clock, "queued" -> queue, "stopping" -> stop."""
    forms = [word]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            forms += [base, base + "e"]
            if len(base) > 3 and base[-1] == base[-2]:
                forms.append(base[:-1])  # stopping -> stop
            if base.endswith("i"):
                forms.append(base[:-1] + "y")  # carried -> carry
    return forms


class SpellingCorrector:
    def __init__(self, counts: Counter[str], known_word: Callable[[str], bool]) -> None:
        self._counts = counts
        self._known_word = known_word  # the embedding model's vocabulary
        # Unknown words come back (a question is corrected, then searched, then split into parts);
        # each costs ~400 candidate lookups, so the verdict is kept.
        self._verdicts: dict[str, str | None] = {}

    def correct_word(self, word: str) -> str | None:
        """The corpus word ``word`` is a misspelling of, or None."""
        lower = word.lower()
        if len(lower) < MIN_LENGTH or lower in self._counts:
            return None
        if lower not in self._verdicts:
            if len(self._verdicts) >= MAX_VERDICTS:
                self._verdicts.clear()
            self._verdicts[lower] = self._nearest(lower)
        return self._verdicts[lower]

    def _nearest(self, lower: str) -> str | None:
        if any(self._known_word(w) or w in self._counts for w in _base_forms(lower)):
            # A real word, or an inflection of one ("clocked" is no misspelling of "locked").
            return None
        candidates = [w for w in _one_edit(lower) if w in self._counts]
        if not candidates:
            return None
        return min(candidates, key=lambda w: (-self._counts[w], w))

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """``text`` with misspellings replaced, and the (wrong, right) pairs."""
        fixes: list[tuple[str, str]] = []

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            right = self.correct_word(word)
            if right is None:
                return word
            fixes.append((word, right))
            return right

        return _WORD.sub(fix, text), fixes
