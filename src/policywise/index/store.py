"""An index on disk: generations of (Chroma vectors, BM25, document store, manifest) and a pointer.

Layout under the index root::

    CURRENT              name of the generation being served (replaced atomically)
    gen-<stamp>/         manifest.json, chroma/, bm25/, docs.json

A build writes a new generation beside the served one and only then flips CURRENT with an atomic
rename, so a failed or interrupted build never touches what is serving.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from policywise.index.lexical import LexicalIndex
from policywise.index.manifest import MANIFEST_FILE, Manifest
from policywise.index.sentences import ChunkStore, SentenceStore
from policywise.index.vector_store import COLLECTION, VectorStore

logger = logging.getLogger(__name__)

POINTER = "CURRENT"
GEN_PREFIX = "gen-"
STAGING_SUFFIX = ".staging"
# Indexes up to this size are served from a private copy (copying 5 MB takes ~10 ms).
SNAPSHOT_MAX_BYTES = 64 * 2**20
# Collections up to this many chunks are searched exactly in numpy by default (see dense_backend).
EXACT_SEARCH_MAX_CHUNKS = 5000


class IndexNotFoundError(FileNotFoundError):
    """No built index at the configured path."""


@dataclass
class SectionRecord:
    id: str
    heading: str
    page: int | None
    text: str


@dataclass
class DocRecord:
    source: str
    title: str
    format: str
    sections: list[SectionRecord]


def current_generation(root: Path) -> Path | None:
    pointer = root / POINTER
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    gen = root / name
    return gen if name and (gen / MANIFEST_FILE).is_file() else None


def set_current(root: Path, generation: Path) -> None:
    tmp = root / (POINTER + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(generation.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(root / POINTER)
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale(root: Path, keep: Path | None) -> None:
    """Delete generations other than ``keep`` and any staging left by an interrupted build."""
    if not root.is_dir():
        return
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith(GEN_PREFIX) and (keep is None or child != keep):
            shutil.rmtree(child, ignore_errors=True)


class PolicyIndex:
    """Read access to one generation. Components load on first use and are thread-safe to share."""

    def __init__(
        self,
        generation: Path,
        chroma_host: str = "",
        chroma_port: int = 8000,
        exact_max_chunks: int = EXACT_SEARCH_MAX_CHUNKS,
    ) -> None:
        self.generation = generation
        self.manifest = Manifest.read(generation)
        self._chroma_host = chroma_host
        self._chroma_port = chroma_port
        self._exact_max_chunks = exact_max_chunks
        self._vectors: VectorStore | None = None
        self._lexical: LexicalIndex | None = None
        self._docs: dict[str, DocRecord] | None = None
        self._sentences: SentenceStore | None = None
        self._chunks: ChunkStore | None = None
        self._lock = threading.Lock()
        self._tmp_copy: Path | None = None

    @classmethod
    def open(
        cls,
        root: Path,
        chroma_host: str = "",
        chroma_port: int = 8000,
        exact_max_chunks: int = EXACT_SEARCH_MAX_CHUNKS,
    ) -> PolicyIndex:
        gen = current_generation(root)
        if gen is None:
            raise IndexNotFoundError(
                f"no index at {root}; build one with `policywise ingest data/policies --index {root}`"
            )
        return cls(gen, chroma_host, chroma_port, exact_max_chunks)

    @functools.cached_property
    def dense_backend(self) -> str:
        """``exact`` (numpy over the chunk store) for small local collections, else ``chroma``.

        Both hold the same vectors, written by the same build. On a few thousand chunks a matrix
        product is exact (recall 1.0 where HNSW is approximate) and ~40x faster than Chroma's query
        call, and a process that never imports chromadb is ~50 MB smaller and safe to fork
        (bench/bench_retrieval.py). A Chroma server, or a collection past the limit, is queried
        through Chroma.
        """
        if self._chroma_host or self.manifest.chunk_count > self._exact_max_chunks:
            return "chroma"
        return "exact"

    def nearest(self, embedding: object, k: int) -> list[tuple[str, float]]:
        """The ``k`` chunks closest to ``embedding``: (id, cosine similarity), best first."""
        if self.dense_backend == "exact":
            return self.chunks.nearest(embedding, k)
        return self.vectors.nearest(embedding, k)

    @property
    def vectors(self) -> VectorStore:
        with self._lock:
            if self._vectors is None:
                self._vectors = self._open_vectors()
            return self._vectors

    def _open_vectors(self) -> VectorStore:
        if self._chroma_host:
            return VectorStore(
                host=self._chroma_host,
                port=self._chroma_port,
                collection=collection_name(self.generation, True),
            )
        path = self.generation / "chroma"
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        writable = os.access(path, os.W_OK) and os.access(path / "chroma.sqlite3", os.W_OK)
        if not writable or size <= SNAPSHOT_MAX_BYTES:
            # Chroma writes to its SQLite file even to read. Serving a private snapshot keeps a
            # committed or read-only index (a container image) untouched, and keeps this process
            # serving even if another process's reindex removes this generation.
            self._tmp_copy = Path(tempfile.mkdtemp(prefix="policywise-index-"))
            atexit.register(shutil.rmtree, str(self._tmp_copy), True)
            shutil.copytree(path, self._tmp_copy / "chroma")
            path = self._tmp_copy / "chroma"
            logger.info("serving a snapshot of %s from %s", self.generation, path)
        return VectorStore(path=path)

    @property
    def lexical(self) -> LexicalIndex:
        with self._lock:
            if self._lexical is None:
                self._lexical = LexicalIndex.load(self.generation / "bm25")
            return self._lexical

    @property
    def documents(self) -> dict[str, DocRecord]:
        with self._lock:
            if self._docs is None:
                self._docs = read_docstore(self.generation)
            return self._docs

    @property
    def sentences(self) -> SentenceStore:
        with self._lock:
            if self._sentences is None:
                self._sentences = SentenceStore.load(self.generation)
            return self._sentences

    @property
    def chunks(self) -> ChunkStore:
        with self._lock:
            if self._chunks is None:
                self._chunks = ChunkStore.load(self.generation)
            return self._chunks

    @property
    def dense_loaded(self) -> bool:
        """Whether nearest-neighbour search is ready (without opening anything)."""
        if self.dense_backend == "exact":
            return self._chunks is not None
        return self._vectors is not None

    @property
    def loaded(self) -> bool:
        return self.dense_loaded and self._lexical is not None

    def load(self) -> None:
        _ = self.lexical, self.sentences, self.documents, self.chunks
        if self.dense_backend == "chroma":
            _ = self.vectors

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.generation.rglob("*") if p.is_file())

    def discard_snapshot(self) -> None:
        """Remove the private copy without closing Chroma (for a process about to exit at once)."""
        if self._tmp_copy is not None:
            shutil.rmtree(self._tmp_copy, ignore_errors=True)
            self._tmp_copy = None

    def close(self) -> None:
        if self._vectors is not None:
            self._vectors.close()
            self._vectors = None
        if self._tmp_copy is not None:
            shutil.rmtree(self._tmp_copy, ignore_errors=True)
            self._tmp_copy = None


def collection_name(generation: Path, server: bool) -> str:
    # On a shared server each generation needs its own collection so the swap stays atomic.
    return f"{COLLECTION}-{generation.name}" if server else COLLECTION


def read_docstore(generation: Path) -> dict[str, DocRecord]:
    data = json.loads((generation / "docs.json").read_text(encoding="utf-8"))
    return {
        src: DocRecord(
            source=src,
            title=d["title"],
            format=d["format"],
            sections=[SectionRecord(**s) for s in d["sections"]],
        )
        for src, d in data.items()
    }


def write_docstore(generation: Path, docs: dict[str, DocRecord]) -> None:
    data = {
        src: {
            "title": d.title,
            "format": d.format,
            "sections": [s.__dict__ for s in d.sections],
        }
        for src, d in sorted(docs.items())
    }
    (generation / "docs.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
