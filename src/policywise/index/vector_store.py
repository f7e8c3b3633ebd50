"""Dense vectors in ChromaDB: embedded (SQLite + HNSW files) by default, a Chroma server when configured.

We always pass our own embeddings; the collection has no embedding function, so Chroma never
tries to download its default model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

COLLECTION = "policywise-chunks"
# Measured on our embeddings (bench/bench_retrieval.py): with these, HNSW recall@5 against exact
# search stays >= 0.99 up to 100k chunks (ef_search 256 gave 0.989-0.992 there, so 384); Chroma's
# defaults (M=16, ef_search=100) give 0.87-0.92.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 384, "max_neighbors": 32}


@dataclass(frozen=True)
class VectorHit:
    id: str
    similarity: float  # cosine similarity, 1.0 is identical
    text: str
    metadata: dict


class VectorStore:
    """A thin wrapper over one Chroma collection, so the rest of the code never touches Chroma's API."""

    def __init__(
        self,
        path: Path | None = None,
        host: str = "",
        port: int = 8000,
        collection: str = COLLECTION,
        hnsw: dict | None = None,
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if host:
            self._client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
            self.location = f"http://{host}:{port}/{collection}"
        else:
            if path is None:
                raise ValueError("an embedded vector store needs a path")
            self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            self.location = str(path)
        self._count: int | None = None
        self._collection = self._client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": dict(hnsw or HNSW)}
        )

    def count(self) -> int:
        # Asked on every query; the collection only changes through this object (or a new generation).
        if self._count is None:
            self._count = self._collection.count()
        return self._count

    def add(
        self, ids: Sequence[str], embeddings: np.ndarray, texts: Sequence[str], metadatas: Sequence[dict]
    ) -> None:
        # Chroma rejects None metadata values; absent keys mean "not applicable".
        clean = [{k: v for k, v in m.items() if v is not None} for m in metadatas]
        self._count = None
        step = 1000
        for i in range(0, len(ids), step):
            self._collection.add(
                ids=list(ids[i : i + step]),
                embeddings=embeddings[i : i + step],
                documents=list(texts[i : i + step]),
                metadatas=clean[i : i + step],
            )

    def delete_where(self, key: str, value: str) -> None:
        self._collection.delete(where={key: value})
        self._count = None

    def query(self, embedding: np.ndarray, k: int) -> list[VectorHit]:
        n = min(k, self.count())
        if n <= 0:
            return []
        res = self._collection.query(
            query_embeddings=embedding.reshape(1, -1),
            n_results=n,
            include=["documents", "metadatas", "distances"],
        )
        return [
            VectorHit(id=i, similarity=1.0 - float(d), text=t or "", metadata=dict(m or {}))
            for i, d, t, m in zip(
                res["ids"][0], res["distances"][0], res["documents"][0], res["metadatas"][0], strict=True
            )
        ]

    def get(self, ids: Sequence[str]) -> dict[str, tuple[str, dict]]:
        if not ids:
            return {}
        res = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            i: (t or "", dict(m or {}))
            for i, t, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
        }

    def nearest(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Ids and cosine similarities only: texts are read from the chunk store, not SQLite."""
        n = min(k, self.count())
        if n <= 0:
            return []
        res = self._collection.query(
            query_embeddings=embedding.reshape(1, -1), n_results=n, include=["distances"]
        )
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def all_records(self, batch: int = 5000) -> list[tuple[str, str, dict]]:
        """Every (id, text, metadata), paged so large collections don't need one huge query."""
        out: list[tuple[str, str, dict]] = []
        offset = 0
        while True:
            res = self._collection.get(include=["documents", "metadatas"], limit=batch, offset=offset)
            if not res["ids"]:
                break
            out.extend(
                (i, t or "", dict(m or {}))
                for i, t, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
            )
            offset += len(res["ids"])
        return out

    def all_embeddings(self, batch: int = 5000) -> tuple[list[str], np.ndarray]:
        ids: list[str] = []
        vecs: list[np.ndarray] = []
        offset = 0
        while True:
            res = self._collection.get(include=["embeddings"], limit=batch, offset=offset)
            if not res["ids"]:
                break
            ids.extend(res["ids"])
            vecs.append(np.asarray(res["embeddings"], dtype=np.float32))
            offset += len(res["ids"])
        return ids, (np.vstack(vecs) if vecs else np.zeros((0, 0), dtype=np.float32))

    def close(self) -> None:
        # Chroma caches one system per path in-process; dropping it lets an old generation's files go.
        try:
            self._client.clear_system_cache()
        except Exception:
            logger.debug("chroma system cache not cleared", exc_info=True)
