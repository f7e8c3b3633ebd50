"""Policy topics a question names and a corpus never mentions: bereavement leave, pet insurance, RSUs.

Most questions the policies don't answer are near misses: they ask about a benefit, leave type or
programme that some handbooks have and this one doesn't, and retrieval finds passages on the same
subject (other leave types, other insurance) that score like the answer to a paraphrased question.
Neither retrieval nor sentence scores separate the two (docs/evaluation.md). What does is whether the
handbook ever uses any of the words for the topic the question is about.

The topics and their wordings (US, UK and other variants, abbreviations, employees' own words) are in
``data/policy_topics.json``, written for HR policies in general, not for one corpus (by someone who
had not seen our documents or questions). A question names a topic when it contains one of its
terms (a one-word term by the prefix it shares with its stem, so "volunteering" also finds "voluntary";
a phrase as written, plural allowed). A passage mentions a topic also when it words a phrase a little
differently (inflected, small words changed, up to two words between: "working from outside your
country" for "work outside the country"), so that a topic is called missing only when the policies
really never speak of it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from policywise.index.lexical import STOPWORDS, tokenize

TOPICS_FILE = "policy_topics.json"
EQUIVALENTS_FILE = "equivalent_terms.json"
_WORD = re.compile(r"[a-z0-9]+")
Parts = tuple[tuple[str, bool], ...]  # a term's words, each as (letters, matched by prefix?)


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    terms: tuple[str, ...]
    # Whether passages are checked for the topic too (retrieve.py, assistant.py), or only the policies as a
    # whole: a narrow topic ("safety committees", "sick notes") is often written about in words of its
    # own ("the committee meets monthly"), and checking quoted passages for it turned answers away.
    passages: bool = True


class TopicLexicon:
    def __init__(self, topics: list[Topic], digest: str = "") -> None:
        self.topics = topics
        self.digest = digest  # of the JSON it was read from: names cached label vectors
        # Up to four first letters of each term -> (its words, topic): a question is checked only against
        # the terms one of its words could begin (every topic's pattern on every question took ~2 ms).
        self._by_anchor: dict[str, list[tuple[Parts, Topic, str]]] = {}
        for topic in topics:
            for term in topic.terms:
                anchor = _anchor(term)
                if anchor:
                    self._by_anchor.setdefault(anchor, []).append((_term_parts(term), topic, term))

    @classmethod
    def from_json(cls, text: str) -> TopicLexicon:
        data = json.loads(text)
        topics = []
        for t in data["topics"]:
            terms = tuple(dict.fromkeys(s.strip().lower() for s in t["terms"] if _WORD.search(s.lower())))
            if terms:
                topics.append(Topic(t["id"], t["label"], terms, bool(t.get("passages", True))))
        return cls(topics, hashlib.sha256(text.encode("utf-8")).hexdigest())

    def named_in(self, question: str) -> list[Topic]:
        """The topics whose terms the question uses, in the terms' own words."""
        return sorted((t for t, _, _ in self.naming(question)), key=lambda t: t.id)

    def naming(self, question: str) -> list[tuple[Topic, str, tuple[int, int]]]:
        """Each topic the question names, with the first of its terms it uses and where (characters)."""
        spans = [m.span() for m in _WORD.finditer(question.lower())]
        tokens = [question[a:b].lower() for a, b in spans]
        found: dict[str, tuple[Topic, str, tuple[int, int]]] = {}
        for i, word in enumerate(tokens):
            for n in range(1, min(4, len(word)) + 1):
                for parts, topic, term in self._by_anchor.get(word[:n], ()):
                    if topic.id not in found and _starts_at(parts, tokens, i):
                        found[topic.id] = (topic, term, (spans[i][0], spans[i + len(parts) - 1][1]))
        return list(found.values())


def mentions(topic: Topic, text: str) -> bool:
    """Whether ``text`` names ``topic`` under any of its terms (as a passage does: see _term_pattern)."""
    words = _WORD.findall(text.lower())
    first = frozenset(words)
    sorted_words = sorted(first)
    plausible = tuple(term for term in topic.terms if _could_match(term, first, sorted_words))
    return bool(plausible) and bool(_terms_regex(plausible).search(text))


def _could_match(term: str, words: frozenset[str], sorted_words: list[str]) -> bool:
    """Whether a text with these words could mention ``term``: each of its words (or their prefixes)
    is among them. Settles most terms without a regular expression, whose compiling cost more than
    the search (a few ms a topic)."""
    parts = _term_parts(term)
    if parts and parts[0][1]:
        return _has_word(parts[0][0], True, words, sorted_words)
    return bool(parts) and all(
        _has_word(p, by_prefix, words, sorted_words) for p, by_prefix in _loose_parts(term) or parts
    )


def _has_word(letters: str, by_prefix: bool, words: frozenset[str], sorted_words: list[str]) -> bool:
    if not by_prefix:
        return any(f in words for f in _forms(letters))
    i = bisect.bisect_left(sorted_words, letters)
    return i < len(sorted_words) and sorted_words[i].startswith(letters)


def _starts_at(parts: Parts, tokens: list[str], i: int) -> bool:
    """Whether a term's words are the question's from word ``i`` on: what its pattern would find
    there, without compiling one per term (that cost ~3 ms a question)."""
    if not parts:
        return False
    if parts[0][1]:
        return tokens[i].startswith(parts[0][0])
    if i + len(parts) > len(tokens):
        return False
    return all(tokens[i + j] in _forms(w) for j, (w, _) in enumerate(parts))


@lru_cache(maxsize=4096)  # keyed by which of a topic's terms a text could match: many subsets in time
def _terms_regex(terms: tuple[str, ...]) -> re.Pattern[str]:
    # ASCII: the terms are ASCII words, and Unicode-aware character classes compile several times slower.
    return re.compile("|".join(_term_pattern(t) for t in terms), re.IGNORECASE | re.ASCII)


def _anchor(term: str) -> str:
    """The letters every match of ``term`` begins with, at most four (see _term_pattern)."""
    words = _WORD.findall(term)
    if not words:
        return ""
    first = words[0]
    literal = first[:-1] if len(first) > 3 and first.endswith("y") else first
    return literal[:4]


# One copy of each (letters, by prefix?) pair: ~10,000 terms share a few thousand words.
_parts: dict[tuple[str, bool], tuple[str, bool]] = {}


def _part(letters: str, by_prefix: bool) -> tuple[str, bool]:
    key = (letters, by_prefix)
    return _parts.setdefault(key, key)


@cache
def _term_parts(term: str) -> Parts:
    """Each word of ``term`` as (letters, by prefix?): a one-word term by the prefix it shares with its
    stem ("volunteering" finds "voluntary"); phrases and short words as written, plural allowed: a stem's
    prefix in a phrase matched too much ("leaving do", a farewell party, matched "leave do I get")."""
    words = _WORD.findall(term)
    if len(words) == 1:
        (stem,) = tokenize(words[0]) or words
        n = 0
        while n < min(len(words[0]), len(stem)) and words[0][n] == stem[n]:
            n += 1
        if n >= 4:
            return (_part(words[0][:n], True),)
    return tuple(_part(w, False) for w in words)


# Words a passage may put between those of a phrase: "working from outside your country" mentions
# "work outside the country", "Hybrid and Flexible Working" mentions "hybrid working".
# With words between, only spaces, hyphens, apostrophes and slashes: a phrase does not run on over a
# heading's ">" or a full stop ("Remote Work Policy > Allowances" is no "remote work allowance").
_GAP = r"(?:[^a-z0-9]+|(?:[\s'’/-]+[a-z0-9]+){1,2}?[\s'’/-]+)"


def _term_pattern(term: str) -> str:
    """A term as a passage may word it. A question names a topic only in the term's own words
    (``_in_tokens``); a passage mentions it also with the phrase's words inflected, its small words
    changed and up to two words between the others, so that a topic is not called missing from
    policies that word it a little differently."""
    parts = _term_parts(term)
    if not parts:
        return ""
    if parts[0][1]:
        return r"\b" + re.escape(parts[0][0]) + r"[a-z0-9]*\b"
    content = _loose_parts(term)
    if content is None:
        return r"\b" + r"[^a-z0-9]+".join(_plural(w) for w, _ in parts) + r"\b"
    return (
        r"\b"
        + _GAP.join(re.escape(p) + r"[a-z0-9]*" if by_prefix else _plural(p) for p, by_prefix in content)
        + r"\b"
    )


@cache
def _loose_parts(term: str) -> Parts | None:
    """The content words of a phrase, each as (letters, by prefix?), or None for a phrase that has
    fewer than two (a "day off" is not any "day")."""
    content = [w for w in _WORD.findall(term) if w not in STOPWORDS]
    if len(content) < 2:
        return None
    return tuple(_term_parts(w)[0] for w in content)


def _plural(word: str) -> str:
    if len(word) > 3 and word.endswith("y"):
        return re.escape(word[:-1]) + r"(?:y|ies)"
    return re.escape(word) + r"(?:s|es)?"


@cache
def _forms(word: str) -> tuple[str, ...]:
    """The words _plural matches."""
    if len(word) > 3 and word.endswith("y"):
        return (word, word[:-1] + "ies")
    return (word, word + "s", word + "es")


@cache
def default_lexicon() -> TopicLexicon:
    return _read_lexicon(TOPICS_FILE)


@cache
def equivalent_terms() -> TopicLexicon:
    """Groups of terms that name the same thing in different countries' English (retrieve.py)."""
    return _read_lexicon(EQUIVALENTS_FILE)


def _read_lexicon(name: str) -> TopicLexicon:
    text = resources.files("policywise.data").joinpath(name).read_text(encoding="utf-8")
    return TopicLexicon.from_json(text)


class TopicCoverage:
    """Which topics one corpus mentions, worked out per topic on first need and remembered.

    The corpus's distinct words are read once: a topic none of whose terms could match them (every
    word of a phrase present, or a word starting with a one-word term's prefix) is not mentioned,
    without scanning the passages. Most topics a question names are settled that way; scanning every
    passage for a topic's terms took 5-20 ms.
    """

    def __init__(self, texts: Callable[[], Iterable[str]], lexicon: TopicLexicon | None = None) -> None:
        self._texts = texts
        self.lexicon = lexicon or default_lexicon()
        self._known: dict[str, bool] = {}
        self._terms: dict[str, bool] = {}
        self._words: frozenset[str] | None = None
        self._sorted_words: list[str] = []
        self._lock = threading.Lock()

    def warm(self) -> None:
        if self._words is None:
            words = {w for text in self._texts() for w in _WORD.findall(text.lower())}
            self._sorted_words = sorted(words)
            self._words = frozenset(words)

    def mentions(self, topic: Topic) -> bool:
        known = self._known.get(topic.id)
        if known is None:
            self.warm()
            assert self._words is not None
            plausible = tuple(t for t in topic.terms if _could_match(t, self._words, self._sorted_words))
            known = False
            if plausible:
                # One pattern, one pass over the passages: building them is much of a scan's cost.
                pattern = _terms_regex(plausible)
                known = any(pattern.search(text) for text in self._texts())
            with self._lock:
                self._known[topic.id] = known
        return known

    def uses(self, term: str) -> bool:
        """Whether a passage words ``term`` (as a passage mentions a topic: see _term_pattern)."""
        known = self._terms.get(term)
        if known is None:
            self.warm()
            assert self._words is not None
            known = _could_match(term, self._words, self._sorted_words) and any(
                _terms_regex((term,)).search(text) for text in self._texts()
            )
            with self._lock:
                self._terms[term] = known
        return known

    def wording(self, topic: Topic) -> str | None:
        """The first of the topic's terms the policies use: how this corpus words the topic."""
        return next((term for term in topic.terms if self.uses(term)), None)

    def missing(self, question: str) -> list[Topic]:
        """Topics the question names that no passage of the corpus mentions."""
        return [t for t in self.lexicon.named_in(question) if not self.mentions(t)]
