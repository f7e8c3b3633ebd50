"""The shared vocabulary: what flows between loaders, chunker, index, retrieval and answering."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    number: int
    title: str
    source: str
    section: str
    page: int | None
    chunk_id: str
    snippet: str


@dataclass
class Answer:
    status: str  # answered | insufficient_evidence | out_of_scope | refused
    answer: str
    citations: list[Citation] = field(default_factory=list)
    provider: str = "extractive"
    degraded: bool = False
    degraded_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # refusal / guardrail reason code

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
