"""BM25 over the same chunk texts the dense index holds, persisted beside the vectors.

Dense models blur exact names (a form, a system, an acronym); BM25 finds them. Tokens are
lower-cased, stop words dropped and words Snowball-stemmed, so "carried over" meets "carry-over".
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

LEXICAL_VERSION = 3  # bump when tokenize() changes: indexes built before must be rebuilt
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "many",
        "much",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
        "don",
        "shall",
        "may",
        "might",
        "must",
        "also",
        "get",
        "got",
        "let",
        "us",
    ]
)

# Chat words employees type around a question ("its my own info lol", "thx!"): no policy uses them, and as
# terms no passage has they counted against every passage's coverage, as a missing topic does.
CHAT_FILLERS = frozenset(
    [
        "lol",
        "lmao",
        "rofl",
        "haha",
        "hahaha",
        "hehe",
        "ugh",
        "argh",
        "hmm",
        "pls",
        "plz",
        "thx",
        "thanks",
        "thank",
        "ty",
        "hi",
        "hey",
        "hello",
        "btw",
        "tbh",
        "idk",
        "imo",
        "omg",
    ]
)
STOPWORDS = STOPWORDS | CHAT_FILLERS
_FILLER = re.compile(r"\b(?:" + "|".join(sorted(CHAT_FILLERS)) + r")\b[\s,;:.!-]*", re.IGNORECASE)


def without_chat_fillers(text: str) -> str:
    """``text`` without chat words; the question itself if nothing else is left ("thanks!")."""
    stripped = " ".join(_FILLER.sub(" ", text).split())
    return stripped or text


_stemmer = None


def _stem(words: list[str]) -> list[str]:
    global _stemmer
    if _stemmer is None:
        import Stemmer

        _stemmer = Stemmer.Stemmer("english")
    return _stemmer.stemWords(words)


_CONTRACTION = re.compile(r"(?:n't|'s|'m|'re|'ll|'ve|'d)\b")


def tokenize(text: str) -> list[str]:
    # "what's", "I'm", "isn't" reduce to their stop words instead of becoming rare made-up terms.
    text = _CONTRACTION.sub("", text.lower().replace("\u2019", "'"))
    words = [w.replace("'", "") for w in _TOKEN.findall(text)]
    return _stem([w for w in words if w not in STOPWORDS])


@functools.lru_cache(maxsize=2048)
def term_set(text: str) -> frozenset[str]:
    """The distinct terms of ``text``, memoised: passages and their sentences come back query after
    query, and tokenizing them again was the largest cost of a search after the embedding."""
    return frozenset(tokenize(text))


def _quiet_bm25s() -> None:
    # bm25s sets its logger to DEBUG on import and logs every build; that is noise for our users.
    logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    def __init__(self, ids: list[str], retriever: object, doc_freq: dict[str, int]) -> None:
        self.ids = ids
        self._retriever = retriever
        self._df = doc_freq
        self._weights_cache: dict[str, tuple[tuple[str, float], ...]] = {}

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        _quiet_bm25s()
        corpus = [tokenize(t) or [""] for t in texts]
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        retriever.index(corpus, show_progress=False)
        df: dict[str, int] = {}
        for toks in corpus:
            for tok in set(toks):
                df[tok] = df.get(tok, 0) + 1
        return cls(list(ids), retriever, df)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(directory))  # type: ignore[attr-defined]
        (directory / "ids.json").write_text(json.dumps(self.ids))
        (directory / "doc_freq.json").write_text(json.dumps(self._df, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        _quiet_bm25s()
        retriever = bm25s.BM25.load(str(directory), mmap=False)
        ids = json.loads((directory / "ids.json").read_text())
        df = json.loads((directory / "doc_freq.json").read_text())
        return cls(ids, retriever, df)

    def __len__(self) -> int:
        return len(self.ids)

    def idf(self, token: str) -> float:
        n = len(self.ids)
        df = self._df.get(token, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        tokens = [t for t in tokenize(query) if t in self._df]
        if not tokens or not self.ids:
            return []
        scores = np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def unknown_terms(self, query: str) -> list[str]:
        """The query's terms (stemmed) that no passage uses."""
        return [tok for tok in dict.fromkeys(tokenize(query)) if tok not in self._df]

    def coverage(self, query: str, text: str) -> float:
        """IDF-weighted share of the query's terms that occur in ``text`` (0..1).

        Terms absent from the whole index count against coverage too, at the weight of the rarest
        term: a question about something no document mentions is not covered.
        """
        return self.coverages(query, text)[0]

    def coverages(self, query: str, text: str) -> tuple[float, float]:
        """``coverage`` and the same share among the terms the index knows: passages are compared
        with each other on the second (no passage has the unknown terms)."""
        weights = self._query_weights(query)
        if not weights:
            return 0.0, 0.0
        present = term_set(text)
        total = known = got = 0.0
        for tok, w in weights:
            total += w
            if tok in self._df:
                known += w
            if tok in present:
                got += w
        return (got / total if total else 0.0), (got / known if known else 0.0)

    def _query_weights(self, query: str) -> tuple[tuple[str, float], ...]:
        # One question is scored against ~30 passages and ~150 sentences: weigh its terms once.
        cached = self._weights_cache.get(query)
        if cached is None:
            max_idf = self.idf("\x00never-seen")
            cached = tuple(
                (tok, self.idf(tok) if tok in self._df else max_idf) for tok in dict.fromkeys(tokenize(query))
            )
            if len(self._weights_cache) >= 256:
                self._weights_cache.clear()
            self._weights_cache[query] = cached
        return cached
