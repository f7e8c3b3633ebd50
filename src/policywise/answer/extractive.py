"""Extractive answers: the few sentences of the retrieved passages that best answer the question.

Nothing is generated, so every sentence is grounded by construction; the work is in choosing well:
each candidate sentence is scored against the question (its precomputed embedding, its share of
the question's informative terms, and the strength of the passage it comes from), the best one
goes first, further ones are added only while they cover parts of the question not yet covered
and don't repeat what is already said, and a sentence that leans on the one before it ("This
applies...") brings that one along. Table rows were labelled with their header when chunked: "Managers | 15%"
reads "Level: Managers; Target bonus: 15%".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np

from policywise.index.lexical import LexicalIndex, term_set, tokenize
from policywise.index.store import PolicyIndex
from policywise.types import Citation, Hit, with_markers

logger = logging.getLogger(__name__)

# Weights of the sentence score; chosen on our eval set and checked on the third-party one
# (docs/evaluation.md): the sentence's own cosine leads, term coverage and passage strength refine.
W_COVERAGE = 0.3
W_PASSAGE = 0.6
RANK_PENALTY = 0.02
W_NEW_TERMS = 0.25  # bonus for covering question terms the answer does not cover yet
MAX_PASSAGES = 5
MAX_DROP = 0.3  # a further sentence must score within this of the best one
OTHER_SOURCE_PENALTY = 0.2  # further sentences from another document must earn their place

_LEADING_MARKER = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)]|[a-z][.)])\s+")
_ANAPHORA = re.compile(
    r"^(?:this|that|these|those|it|they|such|however|instead|otherwise|in that case|in this case|if so|"
    r"also|then|there)\b",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[a-z0-9$%]+")


@dataclass(eq=False)  # compared by identity: it holds a numpy vector
class Candidate:
    text: str  # as shown in the answer
    raw: str  # as in the document (the citation snippet)
    hit: Hit
    hit_rank: int
    index: int  # position of the sentence within its passage
    vector: np.ndarray
    cos: float
    coverage: float
    terms: frozenset[str]
    score: float = 0.0


@dataclass
class Composition:
    sentences: list[tuple[str, int]] = field(default_factory=list)  # (text, citation number)
    citations: list[Citation] = field(default_factory=list)
    best_cos: float = 0.0
    best_coverage: float = 0.0
    best_score: float = 0.0
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(with_markers(t, [n]) for t, n in self.sentences)


class ExtractiveComposer:
    def __init__(self, index: PolicyIndex, lexical: LexicalIndex | None = None) -> None:
        self.index = index
        self._lexical = lexical

    @property
    def lexical(self) -> LexicalIndex:
        return self._lexical or self.index.lexical

    def candidates(self, question: str, qvec: np.ndarray, hits: list[Hit]) -> list[Candidate]:
        store = self.index.sentences
        q_terms = set(tokenize(question))
        out: list[Candidate] = []
        for rank, hit in enumerate(hits[:MAX_PASSAGES]):
            if hit.chunk_id not in store:
                continue
            sents = store.sentences(hit.chunk_id)
            vecs = store.vectors(hit.chunk_id)
            sims = vecs @ qvec.astype(np.float32) if len(sents) else []
            for j, raw in enumerate(sents):
                text = self._display(raw)
                if text is None:
                    continue
                terms = term_set(text) & q_terms
                out.append(
                    Candidate(
                        text=text,
                        raw=raw,
                        hit=hit,
                        hit_rank=rank,
                        index=j,
                        vector=vecs[j],
                        cos=float(sims[j]),
                        coverage=self.lexical.coverage(question, text),
                        terms=terms,
                    )
                )
        for c in out:
            c.score = c.cos + W_COVERAGE * c.coverage + W_PASSAGE * c.hit.score - RANK_PENALTY * c.hit_rank
        return out

    def compose(
        self, question: str, qvec: np.ndarray, hits: list[Hit], max_sentences: int = 4
    ) -> Composition:
        cands = self.candidates(question, qvec, hits)
        comp = Composition(candidates=cands)
        if not cands:
            return comp
        q_terms = set(tokenize(question))
        weights = {t: self.lexical.idf(t) for t in q_terms}
        total_w = sum(weights.values()) or 1.0
        ranked = sorted(cands, key=lambda c: -c.score)
        best = ranked[0]
        comp.best_cos, comp.best_coverage, comp.best_score = best.cos, best.coverage, best.score
        chosen: list[Candidate] = [best]
        covered = set(best.terms)
        while len(chosen) < max_sentences:
            pick, pick_value = None, -1e9
            for c in ranked:
                # Another document's sentence must be close to the best one even after its penalty:
                # one policy answering cleanly beats a second one adding loosely related rules.
                penalty = OTHER_SOURCE_PENALTY if c.hit.source != best.hit.source else 0.0
                if c in chosen or best.score - (c.score - penalty) > MAX_DROP or _redundant(c, chosen):
                    continue
                gain = sum(weights[t] for t in c.terms - covered) / total_w
                value = c.score + W_NEW_TERMS * gain - penalty
                if value > pick_value:
                    pick, pick_value = c, value
            if pick is None:
                break
            chosen.append(pick)
            covered |= pick.terms
        chosen = self._with_context(chosen, cands, max_sentences + 1)
        ordered = [chosen[0], *sorted(chosen[1:], key=lambda c: (c.hit_rank, c.index))]
        numbers: dict[str, int] = {}
        snippets: dict[str, list[str]] = {}
        for c in ordered:
            n = numbers.setdefault(c.hit.chunk_id, len(numbers) + 1)
            snippets.setdefault(c.hit.chunk_id, []).append(c.raw)
            comp.sentences.append((c.text, n))
        by_id = {c.hit.chunk_id: c.hit for c in ordered}
        # One quoted sentence per line of the snippet.
        comp.citations = [
            Citation.from_hit(n, by_id[cid], "\n".join(snippets[cid])) for cid, n in numbers.items()
        ]
        return comp

    @staticmethod
    def _with_context(chosen: list[Candidate], cands: list[Candidate], limit: int) -> list[Candidate]:
        """Bring along the previous sentence of any chosen sentence that cannot stand on its own."""
        out = list(chosen)
        for c in chosen:
            if len(out) >= limit or c.index == 0 or not _ANAPHORA.match(c.text):
                continue
            prev = next((p for p in cands if p.hit is c.hit and p.index == c.index - 1), None)
            if prev is not None and prev not in out:
                out.insert(out.index(c), prev)
        return out

    @staticmethod
    def _display(raw: str) -> str | None:
        """The sentence as it reads in an answer; None for lines that are not statements."""
        text = raw.strip()
        if " | " in text:
            # Well-formed tables arrive labelled by the chunker; a ragged row is shown cell by cell.
            text = "; ".join(c.strip() for c in text.split(" | ") if c.strip())
        text = _LEADING_MARKER.sub("", text).strip()
        if len(text) < 12 or text.endswith(":"):
            return None  # a label or the lead-in of a list says nothing by itself
        if text[0].islower():
            text = text[0].upper() + text[1:]
        return text


def _redundant(c: Candidate, chosen: list[Candidate]) -> bool:
    words = set(_WORDS.findall(c.text.lower()))
    for o in chosen:
        if c.raw == o.raw:
            return True
        other = set(_WORDS.findall(o.text.lower()))
        if words and len(words & other) / len(words | other) > 0.6:
            return True
        if float(np.dot(c.vector, o.vector)) > 0.92:
            return True
    return False
