"""The embedding model at int8 and at float precision: same meaning, same neighbours."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from conftest import BUNDLED_POLICIES, ROOT
from policywise.config import EMBEDDING_MODELS
from policywise.index.embedder import Embedder
from policywise.ingest.chunker import chunk_document, chunker_settings
from policywise.ingest.loaders import load_document


def _questions() -> list[dict]:
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def bundled_chunks(settings) -> list[tuple[str, str]]:
    """(source, text embedded) for every chunk of the bundled corpus."""
    cfg = chunker_settings(settings)
    out = []
    for path in sorted(BUNDLED_POLICIES.iterdir()):
        doc = load_document(path, path.name)
        out += [(path.name, c.embed_text()) for c in chunk_document(doc, cfg)]
    return out


@pytest.mark.parametrize("model", EMBEDDING_MODELS)
def test_int8_vectors_keep_the_meaning_of_float_ones(settings, model, bundled_chunks) -> None:
    questions = [q["question"] for q in _questions() if q["kind"] != "unanswerable"]
    sources = np.array([source for source, _ in bundled_chunks])
    texts = [text for _, text in bundled_chunks]
    fp32 = Embedder.from_settings(replace(settings, embedding_model=model, embedding_precision="fp32"))
    int8 = Embedder.from_settings(replace(settings, embedding_model=model, embedding_precision="int8"))
    a, b = fp32.embed(questions), int8.embed(questions)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    cos = (a * b).sum(axis=1)
    assert cos.min() > 0.97, f"least similar: {questions[int(cos.argmin())]!r} at {cos.min():.3f}"
    # Searched densely at each precision, the questions find the same policy first.
    first_a = sources[(a @ fp32.embed(texts).T).argmax(axis=1)]
    first_b = sources[(b @ int8.embed(texts).T).argmax(axis=1)]
    assert (first_a == first_b).mean() >= 0.95


def test_int8_without_a_model_cache_matches_the_cached_model(settings) -> None:
    texts = ["Can I carry over unused vacation days?", "How do I report a phishing email?"]
    cached = Embedder.from_settings(settings).embed(texts)
    uncached = Embedder.from_settings(replace(settings, model_cache_dir=None)).embed(texts)
    assert np.allclose(cached, uncached, atol=1e-5)


@pytest.mark.parametrize("model", EMBEDDING_MODELS)
def test_a_text_longer_than_the_window_is_read_up_to_the_window(settings, model) -> None:
    embedder = Embedder.from_settings(replace(settings, embedding_model=model))
    fits = embedder.spec.window - 2  # [CLS] and [SEP] take two places
    # Each of these words is one token, so the first `fits` words are what the model can read.
    words = ("leave pay travel expense remote security holiday claim " * 100).split()
    cut, whole, shorter = embedder.embed(
        [" ".join(words[:fits]), " ".join(words), " ".join(words[: fits - 8])]
    )
    assert np.allclose(cut, whole, atol=1e-6)
    assert not np.allclose(cut, shorter, atol=1e-3)
