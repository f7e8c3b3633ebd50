from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUNDLED_INDEX, BUNDLED_POLICIES, ROOT
from policywise.evaluation import load_questions, score_run
from policywise.index.embedder import Embedder
from policywise.index.manifest import Manifest
from policywise.index.store import PolicyIndex, current_generation
from policywise.ingest.chunker import chunker_settings
from policywise.ingest.pipeline import ingest
from policywise.retrieve import Retriever


@pytest.fixture(scope="module")
def retriever(bundled_index, settings):
    index = PolicyIndex.open(bundled_index)
    r = Retriever(index, Embedder.from_settings(settings), settings)
    yield r
    index.close()


def test_committed_index_matches_the_corpus(settings) -> None:
    """Fails when data/policies changed without rebuilding data/index (see README)."""
    gen = current_generation(BUNDLED_INDEX)
    assert gen is not None, "data/index has no CURRENT generation"
    manifest = Manifest.read(gen)
    on_disk = {
        p.relative_to(BUNDLED_POLICIES).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in BUNDLED_POLICIES.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    indexed = {src: f.sha256 for src, f in manifest.files.items()}
    assert indexed == on_disk, "data/index is stale: run `policywise ingest data/policies --rebuild`"
    assert manifest.embedding_model == settings.embedding_model
    assert manifest.chunker == chunker_settings(settings).as_dict()
    assert len(manifest.files) == 22


def test_vacation_question_finds_the_pto_policy(retriever) -> None:
    hits = retriever.search("how many vacation days do I get").hits
    assert hits[0].source == "pto_policy.md"
    assert hits[0].title and hits[0].section and hits[0].chunk_id and hits[0].score > 0


def test_a_passage_bm25_ranks_far_above_every_other_is_among_the_hits(retriever) -> None:
    # The update deadline is the one passage with "critical" and "update" in it (BM25 2.3 times the next),
    # but the dense model puts five passages of close cosines before it (0.25 against 0.36-0.42).
    query = "How quickly do I have to install a security update that's flagged as critical?"
    top = retriever.index.lexical.search(query, 2)
    assert top[0][1] >= 2 * top[1][1]
    hits = retriever.search(query).hits
    assert top[0][0] in [h.chunk_id for h in hits]
    assert any("within 72 hours for updates that the Security team marks as critical" in h.text for h in hits)


def test_exact_names_are_found(retriever) -> None:
    # A system name a dense model has never seen: BM25 carries it.
    for query, source in [
        ("what happens at Larkspur Launch", "onboarding_policy.md"),
        ("when do we have to tell the WSIB", "health_and_safety_policy.pdf"),
        ("can I book through Navan", "travel_policy.md"),
    ]:
        hits = retriever.search(query).hits
        assert hits and hits[0].source == source, (query, [h.source for h in hits])


def test_questions_no_policy_covers_get_no_hits(retriever) -> None:
    for q in [
        "What's the weather like in Lisbon tomorrow?",
        "Give me a recipe for banana bread",
        "How do I reverse a linked list in Python?",
    ]:
        result = retriever.search(q)
        assert result.hits == [], (q, [h.source for h in result.hits])
        assert not result.covered


def test_pdf_hits_carry_page_numbers(retriever) -> None:
    hits = retriever.search("what should I do if there is a fire in the office").hits
    pdf = [h for h in hits if h.source.endswith(".pdf")]
    assert pdf and all(isinstance(h.page, int) and h.page >= 1 for h in pdf)


def test_hybrid_beats_each_retriever_on_our_eval_set(retriever) -> None:
    questions = load_questions(ROOT / "eval" / "questions.jsonl")

    def run(mode: str, gate: bool) -> dict:
        ranked = {
            q["id"]: list(
                dict.fromkeys(
                    h.source for h in retriever.search(q["question"], k=5, mode=mode, gate=gate).hits
                )
            )
            for q in questions
        }
        return score_run(questions, ranked)

    # Ranking quality, gate off (docs/evaluation.md ranks the same way).
    scores = {mode: run(mode, gate=False) for mode in ("lexical", "dense", "hybrid")}
    hybrid = scores["hybrid"]["answerable"]
    # Four of the 74 are near-ties at the top (fused scores within 0.02): the float model and the
    # previous int8 conversion put 67 of 74 first, the shipped conversion 65 (docs/evaluation.md).
    assert hybrid["hit@1"] >= 0.87 and hybrid["hit@3"] >= 0.98, scores["hybrid"]
    assert hybrid["mrr"] > scores["lexical"]["answerable"]["mrr"]
    assert hybrid["mrr"] > scores["dense"]["answerable"]["mrr"]
    # The relevance gate (and the topic checks) must not turn away questions the policies do answer,
    # and should turn away most of those they don't (issue 2).
    gated = run("hybrid", gate=True)
    assert gated["answerable"]["no_hit"] <= 0.02, gated["answerable"]
    assert gated["unanswerable"]["no_hit"] > 0.5, gated["unanswerable"]


def test_third_party_corpus_ingests_and_retrieves(tmp_path, settings, external_corpus) -> None:
    report = ingest([external_corpus], settings, index_root=tmp_path / "ext")
    indexed = set(report.added)
    skipped = dict(report.skipped)
    files = {p.name for p in external_corpus.iterdir() if p.is_file()}
    assert indexed | set(skipped) == files
    assert all(reason for reason in skipped.values())
    index = PolicyIndex.open(tmp_path / "ext")
    r = Retriever(index, Embedder.from_settings(settings), settings)
    questions_file = ROOT / "eval" / "external_questions.jsonl"
    questions = [json.loads(line) for line in questions_file.read_text().splitlines() if line.strip()]
    answerable = [q for q in questions if q["gold_docs"]]
    found = 0
    for q in answerable:
        hits = r.search(q["question"], k=5).hits
        sources = [Path(h.source).name for h in hits]
        found += bool(set(sources[:3]) & set(q["gold_docs"]))
        # Near-duplicate copies of one policy must not crowd the results.
        texts = [" ".join(h.text.lower().split()) for h in hits]
        assert len(texts) == len(set(texts)), q["question"]
    assert found / len(answerable) >= 0.85
    index.close()


@pytest.mark.parametrize(
    "corpus_name,questions_name,at_least",
    [
        ("handbook-2", "handbook2_questions.jsonl", 0.9),
        ("handbook-3", "handbook3_questions.jsonl", 0.9),
        # One 26-page PDF holds most answers, so a first three of one document often crowds out the
        # second a question needs; and two of its four misses are compound questions whose whole finds
        # nothing the gate lets through (each part, searched alone as answers do, finds its passages).
        ("handbook-4", "handbook4_questions.jsonl", 0.85),
    ],
)
def test_corpus_in_another_style_ingests_and_retrieves(
    tmp_path, settings, corpus_name, questions_name, at_least
) -> None:
    """Handbooks written by people who had not seen this code (Word, PDF tables, intranet HTML, ASCII
    tables, memos, numbered clauses): every file ingests and the gold document is among the first
    three for nearly every answerable question."""
    corpus = ROOT / "eval" / "corpora" / corpus_name
    report = ingest([corpus], settings, index_root=tmp_path / "idx")
    # Every policy ingests; the corpus's SOURCES.md, a note about the folder, is reported and skipped.
    assert set(report.added) == {p.name for p in corpus.iterdir() if p.is_file() and p.stem != "SOURCES"}
    assert [source for source, _ in report.skipped] == ["SOURCES.md"]
    index = PolicyIndex.open(tmp_path / "idx")
    r = Retriever(index, Embedder.from_settings(settings), settings)
    questions = load_questions(ROOT / "eval" / questions_name)
    answerable = [q for q in questions if q["gold_docs"]]
    found = sum(
        bool({Path(h.source).name for h in r.search(q["question"], k=5).hits[:3]} & set(q["gold_docs"]))
        for q in answerable
    )
    assert found / len(answerable) >= at_least
    index.close()


def test_serving_leaves_the_committed_index_untouched(settings) -> None:
    # Chroma writes to its SQLite file even to read; searches must not dirty the repository's index.
    def digest() -> dict[str, str]:
        return {
            str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in BUNDLED_INDEX.rglob("*")
            if p.is_file() and p.name != ".lock"
        }

    before = digest()
    index = PolicyIndex.open(BUNDLED_INDEX, exact_max_chunks=0)  # through Chroma
    assert index.dense_backend == "chroma"
    retriever = Retriever(index, Embedder.from_settings(settings), settings)
    assert retriever.search("how many vacation days do I get").hits
    index.close()
    assert digest() == before


def test_exact_search_returns_what_chroma_returns(bundled_index, settings) -> None:
    """Small collections are searched in numpy; it must rank as Chroma, which holds the same vectors."""
    exact = PolicyIndex.open(bundled_index)
    chroma = PolicyIndex.open(bundled_index, exact_max_chunks=0)
    assert (exact.dense_backend, chroma.dense_backend) == ("exact", "chroma")
    embedder = Embedder.from_settings(settings)
    questions = load_questions(ROOT / "eval" / "questions.jsonl")
    same_top = 0
    for q in questions:
        vec = embedder.embed_query(q["question"])
        a, b = exact.nearest(vec, 10), chroma.nearest(vec, 10)
        assert len(a) == len(b) == 10
        # Rank by rank the similarities agree (ties may order differently; HNSW may only ever miss).
        for (_, sa), (_, sb) in zip(a, b, strict=True):
            assert sa == pytest.approx(sb, abs=1e-3), q["question"]
        same_top += a[0][0] == b[0][0]
    assert same_top >= len(questions) - 1
    exact.close()
    chroma.close()


@pytest.mark.parametrize("limit,backend", [("5000", "exact"), ("0", "chroma")])
def test_offline_process_loads_only_what_it_uses(bundled_index, limit, backend) -> None:
    """An extractive deployment on a small index never imports chromadb, the OpenAI SDK or onnx."""
    code = (
        "import json, sys\n"
        "from policywise.assistant import Assistant\n"
        "from policywise.config import load_settings\n"
        "a = Assistant(load_settings())\n"
        "ans = a.ask('Can I carry over unused vacation days?')\n"
        "print(json.dumps({'status': ans.status, 'backend': a.retriever.index.dense_backend,\n"
        "  'chromadb': 'chromadb' in sys.modules, 'openai': 'openai' in sys.modules,\n"
        "  'onnx': 'onnx' in sys.modules,\n"
        "  'sources': [c.source for c in ans.citations]}))\n"
    )
    env = {
        **os.environ,
        "VECTOR_STORE_PATH": str(bundled_index),
        "EXACT_SEARCH_MAX_CHUNKS": limit,
        "OPENROUTER_API_KEY": "",
        "LLM_BASE_URL": "",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "answered"
    assert result["backend"] == backend
    assert result["chromadb"] is (backend == "chroma")
    assert result["openai"] is False
    assert result["onnx"] is False  # the int8 conversion runs in a child process, once
    assert any("pto" in s.lower() or "vacation" in s.lower() for s in result["sources"])


def test_misspelled_words_are_corrected_against_the_policies(retriever) -> None:
    fixed, fixes = retriever.correct_spelling("how many vacaton days do I get, and is harrassment covered?")
    assert fixes == [("vacaton", "vacation"), ("harrassment", "harassment")]
    assert "vacation days" in fixed
    # The misspelled question finds what the well-spelled one finds.
    assert retriever.search("how many vacaton days do I get").hits[0].source == "pto_policy.md"
    # Real words the policies never use, and short words, are left alone.
    for text in (
        "Is there a sabbatical?",
        "Can I bring my dog?",
        "wfh rules",
        "I clocked in 8 minutes late",  # an inflection of a real word, not a misspelling of "locked"
    ):
        assert retriever.correct_spelling(text) == (text, [])


def test_best_sentence_similarity_is_read_in_blocks(monkeypatch) -> None:
    import numpy as np

    from policywise.index import sentences as sentences_module

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(7, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = sentences_module.SentenceStore.build(
        [("a", ["one", "two", "three"], vectors[:3]), ("b", ["four", "five", "six", "seven"], vectors[3:])]
    )
    query = vectors[5]
    whole = store.best_similarity(query)
    monkeypatch.setattr(sentences_module, "SIMILARITY_BLOCK", 2)
    assert store.best_similarity(query) == whole
    assert abs(whole - 1.0) < 1e-2  # float16 storage: the sentence itself, within rounding


def test_eval_of_a_corpus_answers_from_that_corpus(small_corpus, tmp_path) -> None:
    """`policywise eval --corpus` measured answers against the configured (bundled) index, whatever the
    corpus: keyword recall 0.16 and no correct citation on the third set."""
    questions = tmp_path / "questions.jsonl"
    rows = [
        ("How many vacation days do full-time employees accrue per year?", "vacation.md", "18"),
        ("How much are meals reimbursed per day when travelling?", "expenses.md", "$60"),
    ]
    lines = [
        {"id": f"s{n}", "kind": "factual", "question": q, "gold_docs": [doc], "answer_keywords": [kw]}
        for n, (q, doc, kw) in enumerate(rows)
    ]
    questions.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    command = ["eval", "--corpus", str(small_corpus), "--questions", str(questions), "--no-retrieval"]
    out = subprocess.run(
        [sys.executable, "-m", "policywise.cli", *command, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    answers = json.loads(out.stdout)["answers"]["extractive"]["all"]
    assert answers["keyword_recall"] == 1.0 and answers["citation_accuracy"] == 1.0, answers
