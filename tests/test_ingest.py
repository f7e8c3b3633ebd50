from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from policywise.index.embedder import Embedder
from policywise.index.manifest import IndexMismatchError, Manifest
from policywise.index.store import PolicyIndex, current_generation
from policywise.ingest.pipeline import ingest
from policywise.retrieve import Retriever


def _search(index_root: Path, settings, query: str) -> list[str]:
    index = PolicyIndex.open(index_root)
    try:
        retriever = Retriever(index, Embedder.from_settings(settings), settings)
        return [h.source for h in retriever.search(query, k=3).hits]
    finally:
        index.close()


def test_first_ingest_indexes_every_file(tmp_path, settings, small_corpus) -> None:
    (small_corpus / "notes.xlsx").write_bytes(b"PK\x03\x04 not really")
    (small_corpus / "broken.pdf").write_bytes(b"%PDF-1.7 garbage")
    # A note about the folder is no policy: its "File: vacation.md; Topic: vacation days" was being cited.
    (small_corpus / "SOURCES.md").write_text("# Sources\n\n- vacation.md: vacation days, from our old wiki\n")
    report = ingest([small_corpus], settings, index_root=tmp_path / "idx")
    assert sorted(report.added) == ["expenses.md", "security.txt", "vacation.md"]
    skipped = dict(report.skipped)
    assert "unsupported format .xlsx" in skipped["notes.xlsx"]
    assert skipped.get("broken.pdf")
    assert "describes the folder" in skipped["SOURCES.md"]
    manifest = Manifest.read(current_generation(tmp_path / "idx"))
    assert manifest.embedding_model == settings.embedding_model
    assert set(manifest.files) == {"expenses.md", "security.txt", "vacation.md"}
    assert manifest.chunk_count == report.chunks_total > 0
    assert _search(tmp_path / "idx", settings, "how long must passwords be")[0] == "security.txt"


def test_incremental_ingest_embeds_only_changes(tmp_path, settings, small_corpus) -> None:
    idx = tmp_path / "idx"
    ingest([small_corpus], settings, index_root=idx)
    again = ingest([small_corpus], settings, index_root=idx)
    assert again.chunks_embedded == 0 and not again.changed
    assert sorted(again.unchanged) == ["expenses.md", "security.txt", "vacation.md"]

    text = (small_corpus / "expenses.md").read_text().replace("45 days", "21 days")
    (small_corpus / "expenses.md").write_text(text)
    (small_corpus / "security.txt").unlink()
    (small_corpus / "parking.md").write_text(
        "# Parking\n\nThe garage on level P2 is reserved for visitors.\n"
    )
    report = ingest([small_corpus], settings, index_root=idx)
    assert report.updated == ["expenses.md"]
    assert report.removed == ["security.txt"]
    assert report.added == ["parking.md"]
    files = Manifest.read(current_generation(idx)).files
    # vacation.md was untouched: only the changed and new files were embedded.
    assert report.chunks_embedded == files["expenses.md"].chunks + files["parking.md"].chunks
    assert report.chunks_total == report.chunks_embedded + files["vacation.md"].chunks
    index = PolicyIndex.open(idx)
    try:
        sources = {m["source"] for _, _, m in index.vectors.all_records()}
        assert sources == {"expenses.md", "vacation.md", "parking.md"}
        texts = " ".join(t for _, t, _ in index.vectors.all_records())
        assert "21 days" in texts and "45 days" not in texts
        assert set(index.lexical.ids) == {i for i, _, _ in index.vectors.all_records()}
    finally:
        index.close()
    # Only one generation is left on disk after a successful swap.
    assert len([p for p in idx.iterdir() if p.name.startswith("gen-")]) == 1


class _FailingEmbedder(Embedder):
    """Injects a crash part-way through a build (e.g. the process running out of memory)."""

    def __init__(self, settings, fail_after: int) -> None:
        super().__init__(settings.embedding_model, model_cache_dir=settings.model_cache_dir)
        self.calls = 0
        self.fail_after = fail_after

    def embed(self, texts):
        self.calls += 1
        if self.calls > self.fail_after:
            raise MemoryError("simulated failure while embedding")
        return super().embed(texts)


def test_failed_build_leaves_previous_index_serving(tmp_path, settings, small_corpus) -> None:
    idx = tmp_path / "idx"
    ingest([small_corpus], settings, index_root=idx)
    before = current_generation(idx)
    (small_corpus / "vacation.md").write_text("# Vacation\n\nEveryone gets 30 days.\n")
    (small_corpus / "new.md").write_text("# New\n\nA new policy about bicycles.\n")
    with pytest.raises(MemoryError):
        ingest([small_corpus], settings, index_root=idx, embedder=_FailingEmbedder(settings, 1))
    assert current_generation(idx) == before
    assert not list(idx.glob("*.staging"))
    assert _search(idx, settings, "how many vacation days per year")[0] == "vacation.md"
    index = PolicyIndex.open(idx)
    try:
        assert "18 vacation days" in " ".join(t for _, t, _ in index.vectors.all_records())
    finally:
        index.close()


def test_interrupted_build_leaves_previous_index(tmp_path, settings, small_corpus) -> None:
    idx = tmp_path / "idx"
    ingest([small_corpus], settings, index_root=idx)
    before = current_generation(idx)
    for i in range(40):
        (small_corpus / f"extra{i}.md").write_text(
            f"# Extra {i}\n\n"
            + " ".join(f"Clause {j} of policy {i} applies to team {j}." for j in range(120))
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "policywise.cli", "ingest", str(small_corpus), "--index", str(idx)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(idx.glob("*.staging/chroma")):
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert current_generation(idx) == before
    assert _search(idx, settings, "passwords length")[0] == "security.txt"
    # The next build cleans up the abandoned staging folder and succeeds.
    report = ingest([small_corpus], settings, index_root=idx)
    assert len(report.added) == 40 and not list(idx.glob("*.staging"))


def test_index_built_with_another_model_is_a_clear_error(tmp_path, settings, small_corpus) -> None:
    idx = tmp_path / "idx"
    ingest([small_corpus], settings, index_root=idx)
    other = (
        "paraphrase-MiniLM-L3-v2"
        if settings.embedding_model != "paraphrase-MiniLM-L3-v2"
        else "all-MiniLM-L6-v2"
    )
    other_settings = replace(settings, embedding_model=other)
    with pytest.raises(IndexMismatchError) as err:
        ingest([small_corpus], other_settings, index_root=idx)
    assert settings.embedding_model in str(err.value) and other in str(err.value)
    index = PolicyIndex.open(idx)
    with pytest.raises(IndexMismatchError):
        Retriever(index, Embedder.from_settings(other_settings), other_settings)
    index.close()
    with pytest.raises(IndexMismatchError) as err:
        ingest([small_corpus], replace(settings, chunk_max_tokens=64), index_root=idx)
    assert "chunker" in str(err.value)
    # --rebuild switches model on purpose.
    report = ingest([small_corpus], other_settings, index_root=idx, rebuild=True)
    assert report.chunks_embedded == report.chunks_total


def test_index_embedded_at_another_precision_is_a_clear_error(tmp_path, settings, small_corpus) -> None:
    idx = tmp_path / "idx"
    ingest([small_corpus], settings, index_root=idx)
    other = "fp32" if settings.embedding_precision == "int8" else "int8"
    other_settings = replace(settings, embedding_precision=other)
    with pytest.raises(IndexMismatchError) as err:
        ingest([small_corpus], other_settings, index_root=idx)
    assert "EMBEDDING_PRECISION" in str(err.value) and other in str(err.value)
    index = PolicyIndex.open(idx)
    try:
        with pytest.raises(IndexMismatchError):
            Retriever(index, Embedder.from_settings(other_settings), other_settings)
    finally:
        index.close()
    report = ingest([small_corpus], other_settings, index_root=idx, rebuild=True)
    assert report.chunks_embedded == report.chunks_total
    assert _search(idx, other_settings, "how many vacation days per year")[0] == "vacation.md"


def test_cli_ingest_and_search_json(tmp_path, small_corpus) -> None:
    idx = tmp_path / "idx"
    out = subprocess.run(
        [sys.executable, "-m", "policywise.cli", "ingest", str(small_corpus), "--index", str(idx), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(out.stdout)
    assert summary["files"] == 3 and summary["chunks_total"] > 0
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "policywise.cli",
            "search",
            "what is the daily meal limit when travelling",
            "--index",
            str(idx),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    top = result["hits"][0]
    assert top["source"] == "expenses.md" and "$60" in top["text"] and top["section"].endswith("Meals")
    assert {"rank", "score", "title", "section", "page", "chunk_id"} <= set(top)
