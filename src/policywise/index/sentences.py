"""Sentence embeddings of every chunk, computed at ingest, so answering can score sentences instantly.

Embedding twenty candidate sentences at question time costs ~100 ms on one core; reading them from
here costs microseconds. Vectors are stored as float16 (half the bytes, no measurable change in
cosine ranking) and memory-mapped, so only the pages of sentences actually consulted are resident.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

VECTORS = "sentence_vectors.npy"
TEXTS = "sentences.json"
SIMILARITY_BLOCK = 16_384  # rows converted at a time by best_similarity (24 MB as float32)


class SentenceStore:
    def __init__(self, texts: dict[str, list[str]], rows: dict[str, int], vectors: np.ndarray) -> None:
        self._texts = texts  # chunk id -> its sentences
        self._rows = rows  # chunk id -> row of its first sentence in ``vectors``
        self._vectors = vectors

    def __contains__(self, chunk_id: str) -> bool:
        return chunk_id in self._texts

    def sentences(self, chunk_id: str) -> list[str]:
        return self._texts.get(chunk_id, [])

    def vectors(self, chunk_id: str) -> np.ndarray:
        start = self._rows[chunk_id]
        return np.asarray(self._vectors[start : start + len(self._texts[chunk_id])], dtype=np.float32)

    def best_similarity(self, embedding: np.ndarray) -> float:
        """The highest cosine of any sentence to ``embedding``, in blocks: it is rarely asked, so the float16
        vectors are not kept converted, and a large corpus's would not fit at once."""
        query = np.asarray(embedding, dtype=np.float32).ravel()
        best = 0.0
        for start in range(0, len(self._vectors), SIMILARITY_BLOCK):
            block = np.asarray(self._vectors[start : start + SIMILARITY_BLOCK], dtype=np.float32)
            best = max(best, float(np.max(block @ query)))
        return best

    @classmethod
    def build(cls, entries: Iterable[tuple[str, list[str], np.ndarray]]) -> SentenceStore:
        texts: dict[str, list[str]] = {}
        rows: dict[str, int] = {}
        blocks: list[np.ndarray] = []
        n = 0
        for cid, sents, vecs in entries:
            texts[cid] = list(sents)
            rows[cid] = n
            blocks.append(np.asarray(vecs, dtype=np.float16).reshape(len(sents), -1))
            n += len(sents)
        dim = blocks[0].shape[1] if blocks else 0
        vectors = np.vstack(blocks) if blocks else np.zeros((0, dim), dtype=np.float16)
        return cls(texts, rows, vectors)

    def save(self, directory: Path) -> None:
        np.save(directory / VECTORS, self._vectors)
        (directory / TEXTS).write_text(
            json.dumps({"texts": self._texts, "rows": self._rows}, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> SentenceStore:
        data = json.loads((directory / TEXTS).read_text(encoding="utf-8"))
        vectors = np.load(directory / VECTORS, mmap_mode="r")
        return cls(data["texts"], data["rows"], vectors)

    @classmethod
    def exists(cls, directory: Path) -> bool:
        return (directory / VECTORS).is_file() and (directory / TEXTS).is_file()


CHUNKS = "chunks.json"
CHUNK_VECTORS = "chunk_vectors.npy"


class ChunkStore:
    """Chunk texts, metadata and vectors beside Chroma, for the query path.

    Chroma stays the store of record; reading the 30 candidates' texts and metadata back from its
    SQLite file, and the vectors of passages only BM25 found, cost more than the rest of a search
    together (profiled under load), so they are read from here instead: a JSON table and a
    memory-mapped float16 matrix. For small collections the nearest-neighbour query itself is
    answered here too (``nearest``): see PolicyIndex.dense_backend.
    """

    def __init__(self, ids: list[str], texts: list[str], metas: list[dict], vectors: np.ndarray) -> None:
        self.ids = ids
        self._row = {cid: i for i, cid in enumerate(ids)}
        self._texts = texts
        self._metas = metas
        self._vectors = vectors
        self._exact: np.ndarray | None = None
        self._sections: dict[tuple[str, str], list[str]] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, chunk_id: str) -> bool:
        return chunk_id in self._row

    def payload(self, chunk_id: str) -> tuple[str, dict]:
        i = self._row[chunk_id]
        return self._texts[i], self._metas[i]

    def similarities(self, embedding: np.ndarray, ids: list[str]) -> dict[str, float]:
        rows = [self._row[c] for c in ids if c in self._row]
        if not rows:
            return {}
        sims = np.asarray(self._vectors[rows], dtype=np.float32) @ embedding.astype(np.float32)
        return {self.ids[r]: float(s) for r, s in zip(rows, sims, strict=True)}

    def texts(self) -> list[str]:
        return list(self._texts)

    def section_siblings(self, chunk_id: str) -> list[str]:
        """The other chunks under the same heading of the same document, in document order (a PDF
        section that runs over a page break counts as one)."""
        if self._sections is None:
            sections: dict[tuple[str, str], list[tuple[int, str]]] = {}
            for cid, meta in zip(self.ids, self._metas, strict=True):
                key = (str(meta.get("source", "")), str(meta.get("section", "")))
                sections.setdefault(key, []).append((int(meta.get("position", 0)), cid))
            self._sections = {key: [cid for _, cid in sorted(v)] for key, v in sections.items()}
        meta = self._metas[self._row[chunk_id]]
        key = (str(meta.get("source", "")), str(meta.get("section", "")))
        return [cid for cid in self._sections.get(key, []) if cid != chunk_id]

    def nearest(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Exact cosine search over every chunk: ids and similarities, best first."""
        if self._exact is None:
            # Converted once: float16 has no BLAS matmul, and n x 384 float32 is small at the sizes
            # this is used for (5,000 chunks = 7.7 MB).
            self._exact = np.ascontiguousarray(self._vectors, dtype=np.float32)
        n = min(k, len(self.ids))
        if n <= 0:
            return []
        sims = self._exact @ np.asarray(embedding, dtype=np.float32).ravel()
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        order = sorted(top.tolist(), key=lambda r: (-float(sims[r]), self.ids[r]))
        return [(self.ids[r], float(sims[r])) for r in order]

    def save(self, directory: Path) -> None:
        np.save(directory / CHUNK_VECTORS, np.asarray(self._vectors, dtype=np.float16))
        data = {"ids": self.ids, "texts": self._texts, "metas": self._metas}
        (directory / CHUNKS).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> ChunkStore:
        data = json.loads((directory / CHUNKS).read_text(encoding="utf-8"))
        vectors = np.load(directory / CHUNK_VECTORS, mmap_mode="r")
        return cls(data["ids"], data["texts"], data["metas"], vectors)
