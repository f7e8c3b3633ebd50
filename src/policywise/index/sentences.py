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

    def items(self) -> Iterable[tuple[str, list[str], np.ndarray]]:
        for cid in self._texts:
            yield cid, self._texts[cid], self.vectors(cid)

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
