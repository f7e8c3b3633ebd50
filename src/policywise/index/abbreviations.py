"""Abbreviations a question uses that the policies never do, read as the phrase the policies spell out.

"LSL after 10 yrs?" asks about long service leave, but a handbook that always writes "long service
leave" gives BM25 nothing to match and the sentence model reads "LSL" as unrelated word pieces, so the
question was turned away. An abbreviation is a word of three to five letters the policies never use,
written in capitals, or in lower case when the model does not know it as a word either ("lsl"). Two
letters stand for too much: "OS" found "office stipend" in a handbook that never says "operating
system". Its phrase is one the policies use at least twice whose words' first letters spell it ("time
off in lieu" for TOIL), the most frequent if several do.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable

from policywise.index.lexical import STOPWORDS

_TOKEN = re.compile(r"\b[A-Za-z]{3,5}\b")
MIN_USES = 2  # one occurrence may be chance; an abbreviation stands for a term the policies use
MAX_CACHED = 4096


class Abbreviations:
    def __init__(
        self,
        texts: Callable[[], Iterable[str]],
        corpus_words: Callable[[str], bool],
        known_word: Callable[[str], bool],
    ) -> None:
        self._texts = texts
        self._in_corpus = corpus_words
        self._known_word = known_word  # the embedding model's vocabulary
        self._phrases: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def spell_out(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """``text`` with the policies' phrase added after each abbreviation they never use: "LSL (long service
        leave) after 10 yrs?"; and the (abbreviation, phrase) pairs."""
        added: list[tuple[str, str]] = []
        out: list[str] = []
        last = 0
        shouting = text.isupper()  # "HOW MANY SICK DAYS": capitals say nothing about any one word
        for m in _TOKEN.finditer(text):
            token = m.group(0)
            lower = token.lower()
            if self._in_corpus(lower):
                continue
            if (shouting or not token.isupper()) and self._known_word(lower):
                continue
            phrase = self.phrase(lower)
            if phrase is None or phrase in text.lower():
                continue
            out += [text[last : m.end()], f" ({phrase})"]
            last = m.end()
            added.append((token, phrase))
        return "".join(out) + text[last:], added

    def phrase(self, letters: str) -> str | None:
        """The phrase of the policies that ``letters`` abbreviates, or None."""
        if letters not in self._phrases:
            found = self._find(letters)
            with self._lock:
                if len(self._phrases) >= MAX_CACHED:
                    self._phrases.clear()
                self._phrases[letters] = found
        return self._phrases[letters]

    def _find(self, letters: str) -> str | None:
        # Words beginning with each letter in turn, joined by spaces, hyphens or apostrophes only: a phrase
        # does not run over punctuation ("... leave. Staff ...").
        pattern = re.compile(r"\b" + r"[\s'’-]+".join(f"({c}[a-z]*)" for c in letters) + r"\b")
        counts: Counter[tuple[str, ...]] = Counter()
        for text in self._texts():
            counts.update(m.groups() for m in pattern.finditer(text.lower()))
        # A term begins and ends with a word that says something: "work at the" spells WAT by accident.
        terms = [(c, run) for run, c in counts.items() if {run[0], run[-1]}.isdisjoint(STOPWORDS)]
        best = max(terms, default=None)
        return " ".join(best[1]) if best is not None and best[0] >= MIN_USES else None
