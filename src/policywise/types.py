"""The shared vocabulary: what flows between loaders, chunker, index, retrieval and answering."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path (and, for paged formats, on one page)."""

    heading_path: tuple[str, ...]
    text: str  # paragraphs separated by blank lines
    page: int | None = None

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


@dataclass
class Document:
    source: str  # path relative to the ingested root, with forward slashes
    title: str
    format: str  # md, txt, html, pdf, docx
    sections: list[Section] = field(default_factory=list)
    sha256: str = ""

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    title: str
    section: str  # heading path joined with " > "
    page: int | None
    position: int  # order of the chunk within its document
    text: str
    section_id: str  # the wider section around the chunk (small-to-big)
    n_tokens: int

    def embed_text(self) -> str:
        """What the models and BM25 read: the chunk with its title and section as context."""
        return header_text(self.title, self.section) + self.text


def header_text(title: str, section: str) -> str:
    head = title if not section or section == title else f"{title} - {section}"
    return f"{head}\n" if head else ""


def headed_text(text: str, meta: dict) -> str:
    """A stored passage as it was indexed: its title and section, then its text (see Chunk.embed_text)."""
    return header_text(str(meta.get("title", "")), str(meta.get("section", ""))) + text


@dataclass
class Hit:
    chunk_id: str
    source: str
    title: str
    section: str
    page: int | None
    text: str
    score: float  # fused relevance, higher is better
    dense_score: float | None = None  # cosine similarity
    lexical_score: float | None = None  # BM25
    section_id: str = ""
    position: int = 0

    @classmethod
    def from_payload(
        cls,
        chunk_id: str,
        text: str,
        meta: dict,
        score: float,
        dense_score: float | None = None,
        lexical_score: float | None = None,
    ) -> Hit:
        """A hit for a stored chunk: its text and the metadata the index keeps beside it."""
        return cls(
            chunk_id=chunk_id,
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            section=str(meta.get("section", "")),
            page=meta.get("page"),
            text=text,
            score=score,
            dense_score=dense_score,
            lexical_score=lexical_score,
            section_id=str(meta.get("section_id", "")),
            position=int(meta.get("position", 0)),
        )

    def headed_text(self) -> str:
        """The passage with its title and section, as it was indexed and as an LLM is shown it."""
        return header_text(self.title, self.section) + self.text

    def to_dict(self) -> dict[str, object]:
        # Every field is a scalar: a shallow copy is what asdict() builds, at a tenth of its cost
        # (asdict deep-copies field by field; it was 5% of a /search request).
        return dict(self.__dict__)


@dataclass(frozen=True)
class Citation:
    number: int
    title: str
    source: str
    section: str
    page: int | None
    chunk_id: str
    snippet: str  # the quoted passage text supporting the claim; one sentence per line
    section_id: str = ""  # anchor of the cited section in its document page

    @classmethod
    def from_hit(cls, number: int, hit: Hit, snippet: str) -> Citation:
        return cls(
            number=number,
            title=hit.title,
            source=hit.source,
            section=hit.section,
            page=hit.page,
            chunk_id=hit.chunk_id,
            snippet=snippet,
            section_id=hit.section_id,
        )


def with_markers(sentence: str, numbers: list[int]) -> str:
    """The sentence with citation markers before its final punctuation: "... by March 31 [1]."."""
    s = sentence.rstrip()
    markers = "".join(f" [{n}]" for n in numbers)
    return f"{s[:-1]}{markers}{s[-1]}" if s and s[-1] in ".!?" else f"{s}{markers}."


ANSWER_STATUSES = ("answered", "insufficient_evidence", "out_of_scope", "refused")


@dataclass
class Answer:
    status: str  # one of ANSWER_STATUSES
    answer: str
    citations: list[Citation] = field(default_factory=list)
    provider: str = "extractive"  # extractive | llm:<model>
    degraded: bool = False  # a fallback was used; degraded_reason says why
    degraded_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # reason code for refusals and non-answers
    question: str = ""  # the standalone question actually answered, personal data redacted
    retrieved: list[dict] = field(default_factory=list)  # ranked passages: source, title, section, score
    flags: list[str] = field(default_factory=list)  # e.g. pii_redacted, sensitive_topic
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, object]:
        out = dict(self.__dict__)
        out["citations"] = [dict(c.__dict__) for c in self.citations]
        out["retrieved"] = [dict(r) for r in self.retrieved]
        out["flags"] = list(self.flags)
        out["timings_ms"] = dict(self.timings_ms)
        return out
