"""Hybrid retrieval: dense (exact or Chroma) + BM25 candidates, fused (cosine + weighted term coverage),
gated by relevance.

The gate is what lets PolicyWise say "no policy covers this" instead of returning the least-bad
passages: a question counts as covered only when the best passage is semantically close to it or
shares most of its informative (IDF-weighted) terms. Near-duplicate passages (the same policy
saved twice) are collapsed so they don't crowd out other evidence.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from policywise.config import Settings
from policywise.facts import asked_object, asks_for, has_fact
from policywise.index.abbreviations import Abbreviations
from policywise.index.embedder import Embedder
from policywise.index.employer import EmployerNames
from policywise.index.lexical import without_chat_fillers
from policywise.index.sites import SiteNames
from policywise.index.spelling import SpellingCorrector, word_counts
from policywise.index.store import PolicyIndex
from policywise.index.topics import Topic, TopicCoverage, equivalent_terms, mentions
from policywise.ingest.chunker import chunker_settings
from policywise.types import Hit, headed_text, header_text

logger = logging.getLogger(__name__)

# Cosine similarity above which the best passage is taken to be about the question, per model.
# Chosen from the eval set's answerable vs unanswerable score distributions (docs/evaluation.md);
# the two models spread similarities differently, so one number would not fit both.
DEFAULT_MIN_DENSE = {"all-MiniLM-L6-v2": 0.36, "paraphrase-MiniLM-L3-v2": 0.30}
# Weight of a passage's term coverage beside its cosine, per model: the weaker dense model needs more
# lexical evidence (measured on three eval sets, docs/evaluation.md).
DEFAULT_LEXICAL_WEIGHT = {"all-MiniLM-L6-v2": 0.2, "paraphrase-MiniLM-L3-v2": 0.4}
# A question is about a policy topic it names (index/topics.py) when its cosine to the topic's label is
# at least this: "my kid's daycare opened late, does that count as tardy?" names childcare at 0.42,
# "is there a relocation package?" relocation at 0.61 (all-MiniLM-L6-v2; 0.31 and 0.56 with L3;
# docs/evaluation.md).
TOPIC_MIN_SIMILARITY = 0.45
# A topic no word of the policies names may still be written about in words the lexicon files under another
# topic: "How much is the meal allowance per day?" names meal allowances (a benefit: vouchers, lunch
# cards), which the policies never mention, and the travel policy answers it with its meal per diem at a
# cosine of 0.73. Questions about topics the policies lack came no closer than 0.66 to any sentence on
# the four eval sets (docs/evaluation.md), with either model.
CLOSE_SENTENCE = 0.7
# Below min_dense, a passage still counts if it is not far off and shares informative terms with
# the question (an exact name, a form, a system the dense model under-rates).
LEXICAL_RESCUE_MARGIN = 0.1
# Hits far below the best one are noise, not supporting evidence.
RELATIVE_FLOOR = 0.6
# A passage BM25 scores at least this many times above every other is always among those returned: the
# question names what it says ("flagged as critical" against "updates that the Security team marks as
# critical") though the dense model ranks it below passages of close cosines. It takes the last place.
LEX_DOMINANCE = 2.0
MODES = ("hybrid", "dense", "lexical")


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    covered: bool
    best_dense: float = 0.0
    best_coverage: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Policy topics the query names that no passage mentions (index/topics.py), and sites it names that
    # no passage does (index/sites.py); then there are no hits.
    missing_topics: list[str] = field(default_factory=list)
    # The policy topic the query is about, when the topic check ran and found one.
    topic: Topic | None = None
    # That topic's label when the policies mention it but none of the passages found does; then there
    # are no hits either.
    topic_not_in_hits: str | None = None
    # The kind of fact asked for ("amount", "count"…) when the passages found name the topic but none of
    # their sentences states such a fact about it (in the sentence or under a heading naming it).
    fact_not_in_hits: str | None = None
    # The passages search would have returned, when one of the three above emptied it.
    related: list[Hit] = field(default_factory=list)


class Retriever:
    def __init__(self, index: PolicyIndex, embedder: Embedder, settings: Settings) -> None:
        index.manifest.check_compatible(
            embedder.name, embedder.precision, chunker_settings(settings).as_dict(), str(index.generation)
        )
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.min_dense = (
            settings.min_dense_score
            if settings.min_dense_score is not None
            else DEFAULT_MIN_DENSE.get(embedder.name, 0.45)
        )
        self.lexical_weight = (
            settings.lexical_weight
            if settings.lexical_weight is not None
            else DEFAULT_LEXICAL_WEIGHT.get(embedder.name, 0.2)
        )
        self._lock = threading.Lock()
        self._speller: SpellingCorrector | None = None
        self._policy_vocabulary: tuple[Abbreviations, TopicCoverage] | None = None
        self._counts: Counter[str] | None = None
        self._topics: TopicCoverage | None = None
        self._sites: SiteNames | None = None
        self._employer: EmployerNames | None = None
        self._label_vectors: np.ndarray | None = None
        self._label_rows: dict[str, int] = {}

    def correct_spelling(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """``text`` with words misspelled against the indexed policies corrected (see index/spelling.py)."""
        if self._speller is None:
            with self._lock:
                if self._speller is None:
                    self._speller = SpellingCorrector(self._word_counts(), self.embedder.in_vocabulary)
        return self._speller.correct(text)

    def in_policy_words(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """``text`` with the policies' own words added after the asker's where the policies never use the
        asker's: an abbreviation spelled out ("LSL (long service leave)", index/abbreviations.py), and
        another country's term for the same thing ("sick days (personal/carer's leave)", "401k
        (superannuation)"; data/equivalent_terms.json). Neither BM25 nor the sentence model knows that
        they mean what the policies say. Returns the (asker's, policies') pairs too."""
        abbreviations, equivalents = self._policy_words()
        text, added = abbreviations.spell_out(text)
        for topic, term, (start, end) in sorted(equivalents.lexicon.naming(text), key=lambda x: -x[2][0]):
            if equivalents.uses(term):
                continue
            wording = equivalents.wording(topic)
            if wording is None or wording in text.lower():
                continue
            added.append((text[start:end], wording))
            text = f"{text[:end]} ({wording}){text[end:]}"
        return text, added

    def _policy_words(self) -> tuple[Abbreviations, TopicCoverage]:
        if self._policy_vocabulary is None:
            with self._lock:
                if self._policy_vocabulary is None:
                    counts = self._word_counts()
                    self._policy_vocabulary = (
                        Abbreviations(self._passages, counts.__contains__, self.embedder.in_vocabulary),
                        TopicCoverage(self._passages, equivalent_terms()),
                    )
        return self._policy_vocabulary

    def _word_counts(self) -> Counter[str]:
        if self._counts is None:
            self._counts = word_counts(self.index.chunks.texts())
        return self._counts

    def embed_query(self, text: str) -> np.ndarray:
        """The question's vector, embedded without the employer's name (index/employer.py) and without
        chat words around it ("…its my own info lol")."""
        return self.embedder.embed_query(without_chat_fillers(self._employer_names().neutral(text)))

    def _employer_names(self) -> EmployerNames:
        if self._employer is None:
            with self._lock:
                if self._employer is None:
                    self._employer = EmployerNames(self._passages())
        return self._employer

    def focus_topic(self, query: str, vec: np.ndarray | None = None) -> Topic | None:
        """The policy topic ``query`` is about, if it names one (index/topics.py).

        Of the topics a question names, the one closest to it in meaning is what it is about ("if I'm
        laid off, is there outplacement?" names both); a topic named in passing ("stressed") is not.
        An availability question is about what it asks to have: "Will the company pay for a coworking
        membership since I'm remote?" is about coworking, however far the sentence model places the
        question from that label (0.2 here: it hardly knows the word).
        """
        lexicon = self._coverage().lexicon
        wanted = asked_object(query)
        named = lexicon.named_in(wanted) if wanted else []
        threshold = -1.0 if named else TOPIC_MIN_SIMILARITY
        named = named or lexicon.named_in(query)
        if not named:
            return None
        vec = self.embed_query(query) if vec is None else vec
        similarity, focus = max(((float(self._label_vector(t) @ vec), t) for t in named), key=lambda x: x[0])
        return focus if similarity >= threshold else None

    def unnamed_sites(self, query: str) -> list[str]:
        """Sites ``query`` names that the policies never do ("the Boise clinic"; index/sites.py)."""
        return self._site_names().unnamed(query)

    def _site_names(self) -> SiteNames:
        if self._sites is None:
            self._sites = SiteNames(self._passages())
        return self._sites

    def _coverage(self) -> TopicCoverage:
        if self._topics is None:
            self._topics = TopicCoverage(self._passages)
        return self._topics

    def _label_vector(self, topic: Topic) -> np.ndarray:
        if self._label_vectors is None:
            self.warm_topics()
        assert self._label_vectors is not None
        return self._label_vectors[self._label_rows[topic.id]]

    def warm_topics(self) -> None:
        """The corpus's site and employer names, and every topic label's vector, from the model cache or
        embedded once (~0.5 s) and cached there: embedding labels as questions first named them put ~4 ms
        on a tenth of a fresh worker's searches."""
        coverage = self._coverage()
        coverage.warm()
        self._site_names()
        self._employer_names()
        _, equivalents = self._policy_words()
        for topic in equivalents.lexicon.topics:  # which of each group's terms the policies use (~50 ms)
            for term in topic.terms:
                equivalents.uses(term)
        lexicon = coverage.lexicon
        cache = self.settings.model_cache_dir
        name = f"topic-labels-{self.embedder.name}-{self.embedder.conversion}-{lexicon.digest[:12]}.npy"
        path = cache / name if cache is not None else None
        vectors = None
        if path is not None and path.is_file():
            vectors = np.load(path)
            if vectors.shape != (len(lexicon.topics), self.embedder.dimension):
                vectors = None
        if vectors is None:
            vectors = self.embedder.embed([t.label for t in lexicon.topics])
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
                    np.save(tmp, vectors)
                    tmp.replace(path)
                except OSError as exc:
                    logger.warning("cannot cache topic label vectors in %s: %s", path.parent, exc)
        self._label_rows = {t.id: i for i, t in enumerate(lexicon.topics)}
        self._label_vectors = vectors

    def _passages(self) -> Iterator[str]:
        """Every chunk with its document title and section (a topic may be named only in a heading)."""
        chunks = self.index.chunks
        for cid in chunks.ids:
            text, meta = chunks.payload(cid)
            yield headed_text(text, meta)

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: str = "hybrid",
        gate: bool = True,
        topics: bool = True,
    ) -> SearchResult:
        """``gate``: drop weak hits, and all when nothing relevant is found; ``topics`` (with the gate and
        TOPIC_CHECK): none either when the query is about a policy topic the policies never mention, or
        that none of the passages found mentions, or names a site the policies never name."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        query, _ = self.correct_spelling(query)
        query, _ = self.in_policy_words(query)
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        dense: dict[str, tuple[int, float]] = {}
        vec = None
        if mode in ("hybrid", "dense"):
            vec = self.embed_query(query)
            timings["embed"] = _ms(t0)
            t1 = time.perf_counter()
            for rank, (cid, sim) in enumerate(self.index.nearest(vec, n)):
                dense[cid] = (rank, sim)
            timings["dense"] = _ms(t1)
        lexical: dict[str, tuple[int, float]] = {}
        if mode in ("hybrid", "lexical"):
            t1 = time.perf_counter()
            for rank, (cid, score) in enumerate(self.index.lexical.search(query, n)):
                lexical[cid] = (rank, score)
            timings["lexical"] = _ms(t1)
        chunks = self.index.chunks
        if vec is not None:
            # Passages only BM25 found still get their real cosine, so fusion compares like with like.
            missing = [cid for cid in lexical if cid not in dense]
            for cid, sim in chunks.similarities(vec, missing).items():
                dense[cid] = (len(dense), sim)
        payload = {cid: chunks.payload(cid) for cid in {*dense, *lexical} if cid in chunks}

        lex = self.index.lexical

        # Each candidate's share of the question's terms, once: (all terms, terms the index knows).
        coverages = {
            cid: lex.coverages(query, headed_text(text, meta)) for cid, (text, meta) in payload.items()
        }
        # Ranking compares passages with each other: terms no passage has would only shrink the bonus.
        fused = self._fuse(dense, lexical, lambda cid: coverages.get(cid, (0.0, 0.0))[1])
        # Only the head of the ranking can be returned; 4x k leaves room for collapsed near-duplicates.
        head = [(cid, score) for cid, score in fused if cid in payload][: max(k, 5) * 4]
        hits = [self._hit(cid, score, dense, lexical, payload) for cid, score in head]
        best_dense = max((s for _, s in dense.values()), default=0.0)
        coverage = [coverages[h.chunk_id][0] for h in hits[:5]]
        # Over every candidate, not only the head of the ranking: a passage naming the question's
        # terms counts even where its cosine keeps it out of the first five.
        best_cov = max((c[0] for c in coverages.values()), default=0.0)
        covered = self._covered(mode, best_dense, best_cov)
        check = gate and topics and self.settings.topic_check and vec is not None
        focus = self.focus_topic(query, vec) if check else None
        missing: list[str] = []
        if focus is not None and not self._coverage().mentions(focus):
            if self.index.sentences.best_similarity(vec) >= CLOSE_SENTENCE:
                focus = None  # written about in other words: the question is not about a missing topic
            else:
                missing = [focus.label]
        if check:
            missing += self.unnamed_sites(query)
        if gate and not covered:
            hits = []
        elif gate:
            hits = self._drop_weak(hits, best_dense, coverage)
        hits = _dedupe(hits, k)
        if mode == "hybrid" and len(hits) == k and len(lexical) > 1:
            hits = self._with_lexical_winner(hits, lexical, fused, dense, payload)
        related: list[Hit] = []
        not_in_hits = unstated = None
        if missing:
            # The passages that would have answered stay at hand as related ones (an answer's "retrieved").
            covered = False
            related, hits = hits, []
        elif focus is not None and focus.passages and hits:
            if not any(mentions(focus, h.headed_text()) for h in hits):
                # The policies speak of the topic, but not in any passage close to the question ("is there a
                # dress code for the Austin office?" finds rules about the office that never mention dress).
                not_in_hits = focus.label
            elif (kind := asks_for(query)) is not None and not self._states(kind, query, focus, hits):
                # They name it, and state no fact of the kind asked for about it ("how many weeks of
                # severance?" against "severance may be offered; terms are in a separation agreement").
                unstated = kind
            if not_in_hits or unstated:
                related, hits = hits, []
        timings["total"] = _ms(t0)
        return SearchResult(
            query,
            hits,
            covered,
            round(best_dense, 4),
            round(best_cov, 4),
            timings,
            missing_topics=missing,
            topic=focus,
            topic_not_in_hits=not_in_hits,
            fact_not_in_hits=unstated,
            related=related,
        )

    def _states(self, kind: str, query: str, topic: Topic, hits: list[Hit]) -> bool:
        """Whether a sentence of ``hits`` states a fact of ``kind`` about ``topic``."""
        sentences = self.index.sentences
        return any(
            states_fact_about(kind, query, topic, sentence, header_text(h.title, h.section))
            for h in hits
            for sentence in sentences.sentences(h.chunk_id) or [h.text]
        )

    def _covered(self, mode: str, best_dense: float, best_cov: float) -> bool:
        if mode == "lexical":
            return best_cov >= self.settings.min_lexical_coverage
        if mode == "dense":
            return best_dense >= self.min_dense
        # Strong term overlap rescues a passage the dense model under-rates (exact names, forms),
        # but only when it is not semantically far off.
        return best_dense >= self.min_dense or (
            best_cov >= self.settings.min_lexical_coverage
            and best_dense >= self.min_dense - LEXICAL_RESCUE_MARGIN
        )

    def _fuse(
        self,
        dense: dict[str, tuple[int, float]],
        lexical: dict[str, tuple[int, float]],
        coverage: Callable[[str], float],
    ) -> list[tuple[str, float]]:
        if self.settings.fusion == "rrf":
            return self._fuse_rrf(dense, lexical)
        if not dense:
            top = max((score for _, score in lexical.values()), default=0.0) or 1.0
            return sorted(((cid, sc / top) for cid, (_, sc) in lexical.items()), key=lambda x: (-x[1], x[0]))
        # Convex fusion: cosine similarity plus a small bonus for the share of the question's
        # informative (IDF-weighted) terms the passage contains; BM25 contributes candidates the
        # dense model missed. A bonus relative to the best BM25 score gave the full bonus to the
        # best lexical match however weak it was, which misled paraphrased questions (on a third
        # eval set written by someone else, hit@1 of paraphrases 0.4; docs/evaluation.md).
        w = self.lexical_weight
        scores = {cid: sim for cid, (_, sim) in dense.items()}
        if lexical:
            for cid in scores.keys() | lexical.keys():
                scores[cid] = scores.get(cid, 0.0) + w * coverage(cid)
        return sorted(scores.items(), key=lambda x: (-x[1], x[0]))

    def _fuse_rrf(
        self, dense: dict[str, tuple[int, float]], lexical: dict[str, tuple[int, float]]
    ) -> list[tuple[str, float]]:
        k = self.settings.rrf_k
        wd = self.settings.dense_weight
        wl = self.settings.lexical_weight if self.settings.lexical_weight is not None else 1.0
        best = (wd if dense else 0.0) / (k + 1) + (wl if lexical else 0.0) / (k + 1)
        scores: dict[str, float] = {}
        for cid, (rank, _) in dense.items():
            scores[cid] = scores.get(cid, 0.0) + wd / (k + rank + 1)
        for cid, (rank, _) in lexical.items():
            scores[cid] = scores.get(cid, 0.0) + wl / (k + rank + 1)
        # Normalised so a passage ranked first by every retriever scores 1.0.
        return sorted(((cid, s / best) for cid, s in scores.items()), key=lambda x: (-x[1], x[0]))

    def _drop_weak(self, hits: list[Hit], best_dense: float, coverage: list[float]) -> list[Hit]:
        kept = []
        for i, h in enumerate(hits):
            strong_dense = h.dense_score is not None and h.dense_score >= max(
                self.min_dense - 0.1, RELATIVE_FLOOR * best_dense
            )
            strong_lexical = i < len(coverage) and coverage[i] >= self.settings.min_lexical_coverage
            if i == 0 or strong_dense or strong_lexical:
                kept.append(h)
        return kept

    def _with_lexical_winner(
        self,
        hits: list[Hit],
        lexical: dict[str, tuple[int, float]],
        fused: list[tuple[str, float]],
        dense: dict[str, tuple[int, float]],
        payload: dict[str, tuple[str, dict]],
    ) -> list[Hit]:
        (top, (_, first)), (_, (_, second)) = sorted(lexical.items(), key=lambda kv: kv[1][0])[:2]
        dominant = first > 0 and first >= LEX_DOMINANCE * second
        if not dominant or top not in payload or any(h.chunk_id == top for h in hits):
            return hits
        score = next((sc for cid, sc in fused if cid == top), 0.0)
        return [*hits[:-1], self._hit(top, score, dense, lexical, payload)]

    @staticmethod
    def _hit(
        cid: str,
        score: float,
        dense: dict[str, tuple[int, float]],
        lexical: dict[str, tuple[int, float]],
        payload: dict[str, tuple[str, dict]],
    ) -> Hit:
        text, meta = payload[cid]
        return Hit.from_payload(
            cid,
            text,
            meta,
            round(score, 4),
            dense_score=round(dense[cid][1], 4) if cid in dense else None,
            lexical_score=round(lexical[cid][1], 4) if cid in lexical else None,
        )


_WORD = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=512)  # the passages found repeat from query to query
def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return frozenset({tuple(words)})
    return frozenset(tuple(words[i : i + 3]) for i in range(len(words) - 2))


def states_fact_about(kind: str, question: str, topic: Topic, sentence: str, heading: str) -> bool:
    """Whether ``sentence`` states the kind of fact ``question`` asks for about ``topic``, naming the
    topic itself or standing under a heading that does (the answer check applies the same test)."""
    return has_fact(kind, sentence, question) and (mentions(topic, sentence) or mentions(topic, heading))


def _dedupe(hits: list[Hit], k: int, threshold: float = 0.7) -> list[Hit]:
    """The first ``k`` hits, skipping any that mostly repeat a better one (the same policy saved twice)."""
    kept: list[Hit] = []
    kept_shingles: list[frozenset[tuple[str, ...]]] = []
    for h in hits:
        if len(kept) == k:
            break
        sh = _shingles(h.text)
        if any(_jaccard(sh, other) >= threshold for other in kept_shingles):
            continue
        kept.append(h)
        kept_shingles.append(sh)
    return kept


def _jaccard(a: frozenset, b: frozenset) -> float:
    # |a ∪ b| from the sizes: building the union cost more than the rest of the comparison.
    common = len(a & b)
    return common / max(1, len(a) + len(b) - common)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def open_retriever(settings: Settings, index_root: Path | None = None) -> Retriever:
    """Open the configured index and embedding model (both load lazily, on first search)."""
    index = PolicyIndex.open(
        Path(index_root or settings.vector_store_path),
        settings.chroma_host,
        settings.chroma_port,
        settings.exact_search_max_chunks,
    )
    return Retriever(index, Embedder.from_settings(settings), settings)
