"""Sentence embeddings on onnxruntime + tokenizers + numpy: no torch, no model hub.

The session is created on first use. Memory is kept low on purpose: the CPU memory arena and
memory patterns are off (with them, onnxruntime keeps every buffer it ever grew, ~1 GB after a
large batch), batches are small and sorted by length so padding stays short. By default the model
runs with int8 weights (``quantize.py``): twice as fast, a quarter of the weight memory. With a model
cache folder (the default), the session maps its weights from a file instead of holding them on the
heap (``model_cache.py``).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from policywise.config import Settings
from policywise.index.model_cache import mapped_model, portable_path, verified_source
from policywise.index.quantize import PRECISIONS, conversion, quantize_in_child
from policywise.models import ModelSpec, get_spec, load_tokenizer, truncate

logger = logging.getLogger(__name__)


class Embedder:
    def __init__(
        self,
        model: str,
        threads: int = 1,
        batch_size: int = 8,
        cache_size: int = 256,
        model_cache_dir: Path | None = None,
        precision: str = "int8",
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.spec: ModelSpec = get_spec(model)
        self.precision = precision
        self.threads = threads
        self.batch_size = batch_size
        self.model_cache_dir = model_cache_dir
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def from_settings(cls, settings: Settings, for_ingest: bool = False, cache_size: int = 256) -> Embedder:
        return cls(
            settings.embedding_model,
            threads=settings.ingest_threads if for_ingest else settings.ort_threads,
            batch_size=settings.embed_batch_size,
            cache_size=cache_size,
            model_cache_dir=settings.model_cache_dir,
            precision=settings.embedding_precision,
        )

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dimension(self) -> int:
        return self.spec.dimension

    @property
    def conversion(self) -> str:
        """What makes this model's vectors: the precision, and for int8 the conversion recipe."""
        return conversion(self.precision)

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.enable_cpu_mem_arena = False
            opts.enable_mem_pattern = False
            opts.log_severity_level = 3
            self._tokenizer = load_tokenizer()

            def open_session(model_file: Path) -> None:
                self._session = ort.InferenceSession(
                    str(model_file), sess_options=opts, providers=["CPUExecutionProvider"]
                )

            path = None
            if self.model_cache_dir is not None:
                try:
                    path = mapped_model(self.spec, self.precision, self.model_cache_dir)
                except OSError as exc:
                    logger.warning("cannot cache the optimised model in %s (%s)", self.model_cache_dir, exc)
                    # A read-only cache made on another CPU: its int8 copy still spares a conversion.
                    portable = portable_path(self.spec, self.precision, self.model_cache_dir)
                    path = portable if portable.is_file() else None
            if path is not None:
                open_session(path)
            elif self.precision == "fp32":
                path = self.spec.model_path()
                open_session(path)
            else:
                # No cache: quantize for this process only; the session copies the weights, so the
                # file can go once it is loaded.
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / f"{self.spec.name}-int8.onnx"
                    quantize_in_child(verified_source(self.spec), path)
                    open_session(path)
            logger.info("loaded embedding model %s (%s) from %s", self.spec.name, self.precision, path)

    def in_vocabulary(self, word: str) -> bool:
        """Whether the model's WordPiece vocabulary has ``word`` as one whole token."""
        if self._tokenizer is None:
            self.load()
        assert self._tokenizer is not None
        return self._tokenizer.token_to_id(word) is not None

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised vector; recent queries are cached (a chat retries and rephrases)."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        vec = self.embed([text])[0]
        self._cache[text] = vec
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return vec

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, shape (len(texts), dimension)."""
        if self._session is None:
            self.load()
        out = np.zeros((len(texts), self.spec.dimension), dtype=np.float32)
        if not texts:
            return out
        assert self._tokenizer is not None
        window = self.spec.window
        tokens = [truncate(e.ids, window) for e in self._tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(texts)), key=lambda i: len(tokens[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run([tokens[i] for i in idx])
        return out

    def _run(self, tokens: list[list[int]]) -> np.ndarray:
        width = max(len(t) for t in tokens)
        ids = np.zeros((len(tokens), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, t in enumerate(tokens):
            n = len(t)
            ids[row, :n] = t
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.spec.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        assert self._session is not None
        (result,) = self._session.run([self.spec.output_name], feeds)
        if self.spec.output_is_pooled:
            pooled = result
        else:
            m = mask[:, :, None].astype(np.float32)
            pooled = (result * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
