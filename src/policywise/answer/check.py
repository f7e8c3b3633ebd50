"""Checking an LLM's answer against the sources it was given, before anyone reads it.

Every [n] must name a provided source, and every sentence must be supported by the sources it
cites: most of its informative terms appear there, or it is semantically close to one of their
sentences. Unsupported sentences are dropped; an answer left with no supported, cited sentence is
rejected, and the caller falls back to the extractive answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from policywise.index.lexical import tokenize
from policywise.sentences import split_sentences
from policywise.types import Citation, Hit, with_markers

_MARKER = re.compile(r"\s*\[(\d{1,3})\]")
_NOT_COVERED = re.compile(
    r"(?:policies|sources|documents)\s+(?:provided\s+)?(?:do(?:n't| not)|does(?:n't| not))\s+"
    r"(?:cover|address|say|mention)|\bnot covered\b|\bno information\b",
    re.IGNORECASE,
)
LEXICAL_SUPPORT = 0.6
SEMANTIC_SUPPORT = 0.7


@dataclass
class CheckResult:
    ok: bool
    text: str  # the answer as it may be shown (unsupported sentences and bad markers removed)
    citations: list[Citation] = field(default_factory=list)
    not_covered: bool = False
    dropped: int = 0  # sentences removed as unsupported
    invalid_markers: int = 0
    reason: str = ""


def says_not_covered(text: str) -> bool:
    return bool(_NOT_COVERED.search(text))


def check_answer(
    text: str,
    hits: list[Hit],
    embed: Callable[[list[str]], np.ndarray] | None = None,
    source_vectors: Callable[[str], np.ndarray] | None = None,
    max_chars: int = 900,
) -> CheckResult:
    """``embed`` embeds answer sentences; ``source_vectors`` gives a chunk's precomputed sentence vectors."""
    text = text.strip()
    if not text:
        return CheckResult(False, "", reason="empty")
    if says_not_covered(text) and not _MARKER.search(text):
        return CheckResult(True, text, not_covered=True)
    kept: list[tuple[str, list[int]]] = []
    invalid = dropped = 0
    sentences = [s for para in text.split("\n") for s in split_sentences(para)]
    unsupported: list[tuple[int, str, list[int]]] = []
    for sent in sentences:
        numbers = [int(n) for n in _MARKER.findall(sent)]
        valid = [n for n in dict.fromkeys(numbers) if 1 <= n <= len(hits)]
        invalid += len(numbers) - len([n for n in numbers if 1 <= n <= len(hits)])
        body = _MARKER.sub("", sent).strip()
        if not body:
            continue
        if not valid:
            dropped += 1
            continue
        # The prompt gives each source with its title and section: an answer may name what a passage is
        # under ("For a remote arrangement, confirm VPN access with IT [1]").
        if lexically_supported(body, [hits[n - 1].headed_text() for n in valid]):
            kept.append((body, valid))
        else:
            unsupported.append((len(kept), body, valid))
            kept.append((body, valid))
    if unsupported and embed is not None and source_vectors is not None:
        # One batch for all doubtful sentences: the LLM may paraphrase, and paraphrase is fine.
        vecs = embed([b for _, b, _ in unsupported])
        for (pos, _body, valid), vec in zip(unsupported, vecs, strict=True):
            if not _semantically_supported(vec, [source_vectors(hits[n - 1].chunk_id) for n in valid]):
                kept[pos] = ("", [])
                dropped += 1
    elif unsupported:
        for pos, _, _ in unsupported:
            kept[pos] = ("", [])
            dropped += 1
    kept = [(b, v) for b, v in kept if b]
    if not kept:
        return CheckResult(
            False, "", dropped=dropped, invalid_markers=invalid, reason="no_supported_citation"
        )
    out, used = _render(kept, max_chars)
    citations = [Citation.from_hit(n, hits[n - 1], hits[n - 1].text[:400]) for n in sorted(used)]
    return CheckResult(True, out, citations, dropped=dropped, invalid_markers=invalid)


def lexically_supported(sentence: str, sources: list[str]) -> bool:
    terms = set(tokenize(sentence))
    if not terms:
        return True
    source_terms = set(tokenize(" ".join(sources)))
    return len(terms & source_terms) / len(terms) >= LEXICAL_SUPPORT


def _semantically_supported(vec: np.ndarray, sources: list[np.ndarray]) -> bool:
    sims = [float(np.max(m @ vec)) for m in sources if len(m)]
    return bool(sims) and max(sims) >= SEMANTIC_SUPPORT


def _render(kept: list[tuple[str, list[int]]], max_chars: int) -> tuple[str, set[int]]:
    parts: list[str] = []
    used: set[int] = set()
    length = 0
    for body, numbers in kept:
        piece = with_markers(body, numbers)
        # Cut at a sentence boundary: never show half a sentence.
        if parts and length + len(piece) + 1 > max_chars:
            break
        parts.append(piece)
        used.update(numbers)
        length += len(piece) + 1
    return " ".join(parts), used
