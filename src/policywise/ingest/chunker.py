"""Heading-aware chunking on sentence boundaries, bounded in the embedding model's own tokens.

Each chunk stays inside one section, so its heading path describes all of it, and its embedded
form (title and section header + text) fits the smallest model window: nothing we embed is
silently cut off by the model. Chunk ids hash the source, section and text, so an unchanged
passage keeps its id across rebuilds.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from policywise.config import Settings
from policywise.models import count_tokens, get_spec
from policywise.sentences import split_sentences
from policywise.types import Chunk, Document, Section, header_text

logger = logging.getLogger(__name__)

CHUNKER_VERSION = 2  # 2: table rows labelled with their headers
# A table of contents lists section titles with their pages ("4.4 Rostered days off | 9", "Overtime .... 9"):
# as a passage it matches every question about those sections and answers none ("PART 1 - PRELIMINARY:
# 4.4 Rostered days off; 4: 9" was quoted as an answer).
_CONTENTS_HEADING = re.compile(r"(?:table of )?contents|index", re.IGNORECASE)
_PAGE_REFERENCE = re.compile(r"(?:\s*\|\s*|\s*\.{2,}\s*|\s+)(?:\d{1,3}|[ivxlc]{1,6})$", re.IGNORECASE)
_DOT_LEADER = re.compile(r"\.{4,}\s*\d{1,3}$")


@dataclass(frozen=True)
class ChunkerSettings:
    max_tokens: int = 128
    overlap_sentences: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "version": CHUNKER_VERSION,
            "max_tokens": self.max_tokens,
            "overlap_sentences": self.overlap_sentences,
        }


def chunker_settings(settings: Settings) -> ChunkerSettings:
    """The chunker configured for the configured model: never wider than the model's window."""
    window = get_spec(settings.embedding_model).window
    return ChunkerSettings(
        max_tokens=min(settings.chunk_max_tokens, window), overlap_sentences=settings.chunk_overlap_sentences
    )


def section_id(source: str, index: int, section: Section) -> str:
    raw = f"{source}\x00{index}\x00{section.heading}\x00{section.page}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


def chunk_document(doc: Document, settings: ChunkerSettings | None = None) -> list[Chunk]:
    settings = settings or ChunkerSettings()
    chunks: list[Chunk] = []
    seen_ids: dict[str, int] = {}
    for s_index, section in enumerate(doc.sections):
        if not section.text.strip():
            continue
        if _is_contents(section):
            logger.debug("%s: section %r is a table of contents, not indexed", doc.source, section.heading)
            continue
        sid = section_id(doc.source, s_index, section)
        heading = section.heading
        header_cost = count_tokens([header_text(doc.title, heading)])[0] - 2  # minus [CLS]/[SEP]
        budget = settings.max_tokens - 2 - header_cost
        if budget < 16:
            # A very long heading path: keep only the innermost heading so text still fits.
            heading = section.heading_path[-1] if section.heading_path else ""
            header_cost = count_tokens([header_text(doc.title, heading)])[0] - 2
            budget = max(16, settings.max_tokens - 2 - header_cost)
        units = _units(section.text, budget)
        for text in _pack(units, budget, settings.overlap_sentences):
            cid = _chunk_id(doc.source, heading, text, seen_ids)
            chunks.append(
                Chunk(
                    id=cid,
                    source=doc.source,
                    title=doc.title,
                    section=heading,
                    page=section.page,
                    position=len(chunks),
                    text=text,
                    section_id=sid,
                    n_tokens=0,
                )
            )
    if not chunks:
        return chunks
    # Count once at the end on the exact embedded text, so the bound is verified, not estimated.
    counts = count_tokens([c.embed_text() for c in chunks])
    return [_with_tokens(c, n) for c, n in zip(chunks, counts, strict=True)]


def _is_contents(section: Section) -> bool:
    """Whether a section is a table of contents: headed "Contents" with most lines ending in a page number,
    or nearly all lines with dot leaders to one. A table of figures under another heading ("Grade 3 | 38")
    is content."""
    lines = [ln.strip() for ln in section.text.splitlines() if ln.strip()]
    if len(lines) < 4:
        return False
    innermost = section.heading_path[-1] if section.heading_path else section.heading
    if _CONTENTS_HEADING.fullmatch(innermost.strip(" :#")):
        return sum(1 for ln in lines if _PAGE_REFERENCE.search(ln)) >= 0.6 * len(lines)
    return sum(1 for ln in lines if _DOT_LEADER.search(ln)) >= 0.8 * len(lines)


def _with_tokens(c: Chunk, n: int) -> Chunk:
    return Chunk(**{**c.__dict__, "n_tokens": n})


def _chunk_id(source: str, heading: str, text: str, seen: dict[str, int]) -> str:
    base = hashlib.sha1(f"{source}\x00{heading}\x00{text}".encode()).hexdigest()[:16]
    # Identical text repeated under the same heading in one document still needs distinct ids.
    n = seen.get(base, 0)
    seen[base] = n + 1
    return base if n == 0 else f"{base}-{n}"


Unit = tuple[str, int, str]  # text, token cost, separator placed before it when joined


def _units(text: str, budget: int) -> list[Unit]:
    """Sentences with their token cost; sentences longer than the budget are split on words.

    Sentences of one paragraph join with a space; paragraphs, list items and table rows keep
    their own lines, so a chunk still reads like the document.
    """
    sentences: list[str] = []
    seps: list[str] = []
    for para in text.split("\n\n"):
        rows = _read_table(para)
        if rows is not None:
            # Each labelled row is one unit on its own line: a row is never split across chunks.
            sentences.extend(rows)
            seps.extend("\n" for _ in rows)
            continue
        lines_kept = "\n" in para.strip()
        for i, sent in enumerate(split_sentences(para)):
            sentences.append(sent)
            seps.append("\n" if i == 0 or (lines_kept and _starts_line(para, sent)) else " ")
    if not sentences:
        return []
    costs = [n - 2 for n in count_tokens(sentences)]
    units: list[Unit] = []
    for sent, cost, sep in zip(sentences, costs, seps, strict=True):
        if cost <= budget:
            units.append((sent, cost, sep))
        else:
            units.extend((p, c, sep if j == 0 else " ") for j, (p, c) in enumerate(_split_long(sent, budget)))
    return units


def _read_table(para: str) -> list[str] | None:
    """A table paragraph as one line per row, each cell labelled by its column header; None if not a table.

    "0-2 years | 15 | 120" says little to a sentence model or to a reader of a citation;
    "Years of service: 0-2 years; Days per year: 15; Hours per year: 120" says what it means.
    """
    lines = [ln.strip() for ln in para.strip().split("\n")]
    if len(lines) < 2 or not all(" | " in ln for ln in lines):
        return None
    header = [c.strip() for c in lines[0].split(" | ")]
    rows = []
    for ln in lines[1:]:
        cells = [c.strip() for c in ln.split(" | ")]
        if len(cells) != len(header):
            return lines  # ragged: keep the rows as they are rather than mislabel them
        rows.append("; ".join(f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=True) if c))
    return rows


def _starts_line(para: str, sent: str) -> bool:
    return any(line.strip().startswith(sent[:20]) for line in para.split("\n"))


def _split_long(sentence: str, budget: int) -> list[tuple[str, int]]:
    words = sentence.split()
    costs = [n - 2 for n in count_tokens(words)]
    pieces: list[tuple[str, int]] = []
    cur: list[str] = []
    cur_cost = 0
    for w, c in zip(words, costs, strict=True):
        c = min(c, budget)  # a single absurd "word" (a URL, a hash) is cut by the model anyway
        if cur and cur_cost + c > budget:
            pieces.append((" ".join(cur), cur_cost))
            cur, cur_cost = [], 0
        cur.append(w)
        cur_cost += c
    if cur:
        pieces.append((" ".join(cur), cur_cost))
    return pieces


def _pack(units: list[Unit], budget: int, overlap: int) -> list[str]:
    """Greedy packing of whole sentences, then balancing so the last chunk is not a crumb."""
    groups: list[list[Unit]] = []
    cur: list[Unit] = []
    cur_cost = 0
    for unit in units:
        if cur and cur_cost + unit[1] > budget:
            groups.append(cur)
            cur = cur[-overlap:] if overlap else []
            cur_cost = sum(u[1] for u in cur)
            if cur_cost + unit[1] > budget:
                cur, cur_cost = [], 0
        cur.append(unit)
        cur_cost += unit[1]
    if cur:
        groups.append(cur)
    if not overlap and len(groups) >= 2:
        _rebalance_tail(groups, budget)
    return [_join(g) for g in groups]


def _rebalance_tail(groups: list[list[Unit]], budget: int) -> None:
    # Move sentences from the second-to-last group into a small last group while both stay within
    # budget and the last stays smaller: chunks of similar size retrieve more evenly.
    prev, last = groups[-2], groups[-1]
    while len(prev) > 1:
        moved = prev[-1][1]
        last_cost = sum(u[1] for u in last)
        prev_cost = sum(u[1] for u in prev)
        if last_cost + moved > budget or last_cost + moved > prev_cost - moved:
            break
        last.insert(0, prev.pop())


def _join(group: list[Unit]) -> str:
    return "".join((sep if i else "") + text for i, (text, _, sep) in enumerate(group))
