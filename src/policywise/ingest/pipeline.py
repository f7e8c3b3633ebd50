"""Incremental, atomic ingestion: files -> loaders -> chunks -> embeddings -> a new index generation.

Only new or changed files (by content hash) are loaded and embedded; removed files are removed.
Everything is written to a staging generation and published by flipping the CURRENT pointer, so
the served index is never half-updated: a failure or an interrupt leaves it exactly as it was.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from policywise.config import Settings
from policywise.index.embedder import Embedder
from policywise.index.lexical import LEXICAL_VERSION, LexicalIndex
from policywise.index.manifest import FileEntry, Manifest
from policywise.index.sentences import ChunkStore, SentenceStore
from policywise.index.store import (
    GEN_PREFIX,
    STAGING_SUFFIX,
    DocRecord,
    SectionRecord,
    current_generation,
    read_docstore,
    remove_stale,
    set_current,
    write_docstore,
)
from policywise.index.vector_store import VectorStore
from policywise.ingest.chunker import chunk_document, chunker_settings, section_id
from policywise.ingest.loaders import SUPPORTED_SUFFIXES, LoadError, load_document
from policywise.models import get_spec
from policywise.sentences import sentences_to_embed
from policywise.types import Chunk, Document, headed_text

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (source, done, total)


@dataclass
class IngestReport:
    index_path: str
    generation: str = ""
    files: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    chunks_total: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def scan(paths: Sequence[Path]) -> tuple[Path, list[Path]]:
    """The common root of ``paths`` and every regular, non-hidden file under them, sorted."""
    resolved = [p.resolve() for p in paths]
    for p in resolved:
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
    bases = [p if p.is_dir() else p.parent for p in resolved]
    root = Path(os.path.commonpath([str(b) for b in bases]))
    files: set[Path] = set()
    for p in resolved:
        if p.is_file():
            files.add(p)
            continue
        for f in p.rglob("*"):
            rel = f.relative_to(p)
            if f.is_file() and not any(part.startswith((".", "__")) for part in rel.parts):
                files.add(f)
    return root, sorted(files)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    index_root: Path | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> IngestReport:
    """Bring the index at ``index_root`` (default VECTOR_STORE_PATH) up to date with ``paths``."""
    index_root = Path(index_root or settings.vector_store_path)
    index_root.mkdir(parents=True, exist_ok=True)
    # One build at a time per index: a second one would race on the staging folder and the pointer.
    with open(index_root / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another ingest is already writing {index_root}") from None
        return _ingest(paths, settings, index_root, rebuild, progress, embedder)


# Files that describe a folder of documents rather than being one of them.
FOLDER_NOTES = {"readme", "sources", "license", "licence", "changelog", "contributing", "authors", "notice"}


def _ingest(
    paths: Sequence[Path],
    settings: Settings,
    index_root: Path,
    rebuild: bool,
    progress: Progress | None,
    embedder: Embedder | None,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport(index_path=str(index_root))
    chunk_cfg = chunker_settings(settings)
    spec = get_spec(settings.embedding_model)

    root, files = scan(paths)
    report.files = len(files)
    previous = None if rebuild else current_generation(index_root)
    old_manifest = Manifest.read(previous) if previous else None
    if old_manifest:
        old_manifest.check_compatible(
            spec.name, settings.embedding_precision, chunk_cfg.as_dict(), str(index_root)
        )

    sources: dict[str, Path] = {}
    hashes: dict[str, str] = {}
    for f in files:
        src = f.relative_to(root).as_posix()
        if f.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.skipped.append((src, f"unsupported format {f.suffix.lower() or '(no extension)'}"))
            continue
        if f.stem.lower() in FOLDER_NOTES:
            # Answers cited "File: HR-210_Paid_Time_Off_Policy.docx; Format: docx" from a SOURCES.md.
            report.skipped.append((src, "describes the folder (README, SOURCES, LICENSE...), not a policy"))
            continue
        try:
            hashes[src] = _sha256(f)
        except OSError as exc:
            report.skipped.append((src, f"unreadable: {exc.strerror or exc}"))
            continue
        sources[src] = f

    old_files = old_manifest.files if old_manifest else {}
    to_load = [s for s in sources if s not in old_files or old_files[s].sha256 != hashes[s]]
    report.unchanged = [s for s in sources if s in old_files and old_files[s].sha256 == hashes[s]]
    report.removed = sorted(s for s in old_files if s not in sources)

    unchanged_root = old_manifest is not None and old_manifest.root == _display_root(root)
    if previous is not None and not to_load and not report.removed and unchanged_root:
        # Nothing changed: keep the served generation as it is (and the committed index byte-identical).
        report.generation = previous.name
        report.chunks_total = old_manifest.chunk_count
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    staging = index_root / (f"{GEN_PREFIX}{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}{STAGING_SUFFIX}")
    _clear_interrupted_builds(index_root)
    try:
        if previous is not None:
            shutil.copytree(previous, staging)
        else:
            staging.mkdir(parents=True)
        manifest = Manifest(
            lexical_version=LEXICAL_VERSION,
            embedding_model=spec.name,
            embedding_precision=settings.embedding_precision,
            dimension=spec.dimension,
            chunker=chunk_cfg.as_dict(),
            files={s: e for s, e in old_files.items() if s in report.unchanged},
        )
        docs = read_docstore(previous) if previous is not None else {}
        docs = {s: d for s, d in docs.items() if s in report.unchanged}

        new_sentences: dict[str, tuple[list[str], np.ndarray]] = {}
        store = VectorStore(path=staging / "chroma")
        try:
            for src in [*report.removed, *(s for s in to_load if s in old_files)]:
                store.delete_where("source", src)
            embedder = embedder or Embedder.from_settings(settings, for_ingest=True)
            for n, src in enumerate(to_load, 1):
                if progress:
                    progress(src, n, len(to_load))
                try:
                    doc = load_document(sources[src], src)
                except LoadError as exc:
                    report.skipped.append((src, str(exc)))
                    if src in old_files:
                        # The new version is broken; it is no longer what the index holds, so drop it.
                        report.removed.append(src)
                    continue
                chunks = chunk_document(doc, chunk_cfg)
                if not chunks:
                    report.skipped.append((src, "no text to index"))
                    continue
                vectors = embedder.embed([c.embed_text() for c in chunks])
                store.add(
                    [c.id for c in chunks], vectors, [c.text for c in chunks], [_meta(c) for c in chunks]
                )
                pairs = [sentences_to_embed(c.text) for c in chunks]
                per_chunk = [[quoted for quoted, _ in p] for p in pairs]
                sent_vecs = embedder.embed([embedded for p in pairs for _, embedded in p])
                row = 0
                for c, sents in zip(chunks, per_chunk, strict=True):
                    new_sentences[c.id] = (sents, sent_vecs[row : row + len(sents)])
                    row += len(sents)
                report.chunks_embedded += len(chunks)
                (report.updated if src in old_files else report.added).append(src)
                manifest.files[src] = FileEntry(
                    sha256=doc.sha256,
                    title=doc.title,
                    format=doc.format,
                    chunks=len(chunks),
                    size=sources[src].stat().st_size,
                )
                docs[src] = _doc_record(doc)
            records = store.all_records()
            vector_ids, vectors = store.all_embeddings()
        finally:
            store.close()

        if not records:
            raise RuntimeError("nothing to index: no file produced any text")
        lexical = LexicalIndex.build(
            [r[0] for r in records],
            [headed_text(r[1], r[2]) for r in records],
        )
        shutil.rmtree(staging / "bm25", ignore_errors=True)
        lexical.save(staging / "bm25")
        _write_sentences(staging, [r[0] for r in records], new_sentences)
        row = {cid: i for i, cid in enumerate(vector_ids)}
        ChunkStore(
            [r[0] for r in records],
            [r[1] for r in records],
            [r[2] for r in records],
            vectors[[row[r[0]] for r in records]],
        ).save(staging)
        write_docstore(staging, docs)
        manifest.root = _display_root(root)
        manifest.built_at = datetime.now(UTC).isoformat(timespec="seconds")
        manifest.build_seconds = round(time.perf_counter() - started, 3)
        manifest.write(staging)
        report.chunks_total = len(records)

        final = staging.with_name(staging.name.removesuffix(STAGING_SUFFIX))
        staging.rename(final)
        set_current(index_root, final)
        report.generation = final.name
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # Processes that already serve the old generation hold its data in memory; it can go.
    remove_stale(index_root, keep=final)
    report.seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "ingest done: %d added, %d updated, %d removed, %d skipped, %d chunks in %.2fs",
        len(report.added),
        len(report.updated),
        len(report.removed),
        len(report.skipped),
        report.chunks_total,
        report.seconds,
    )
    return report


def _write_sentences(
    generation: Path, chunk_ids: list[str], new: dict[str, tuple[list[str], np.ndarray]]
) -> None:
    """Sentence vectors for every chunk in the index: kept from the previous build, or just embedded."""
    old = SentenceStore.load(generation) if SentenceStore.exists(generation) else None
    entries = []
    for cid in chunk_ids:
        if cid in new:
            entries.append((cid, *new[cid]))
        elif old is not None and cid in old:
            entries.append((cid, old.sentences(cid), old.vectors(cid)))
        else:
            raise RuntimeError(f"chunk {cid} has no sentence vectors; rebuild with --rebuild")
    store = SentenceStore.build(entries)
    del old  # release the memory map before the file is replaced
    store.save(generation)


def _clear_interrupted_builds(index_root: Path) -> None:
    for child in index_root.glob(f"{GEN_PREFIX}*{STAGING_SUFFIX}"):
        logger.warning("removing staging left by an interrupted build: %s", child.name)
        shutil.rmtree(child, ignore_errors=True)


def _display_root(root: Path) -> str:
    try:
        return root.relative_to(Path.cwd()).as_posix() or "."
    except ValueError:
        return root.as_posix()


def _meta(c: Chunk) -> dict:
    return {
        "source": c.source,
        "title": c.title,
        "section": c.section,
        "page": c.page,
        "position": c.position,
        "section_id": c.section_id,
        "n_tokens": c.n_tokens,
    }


def _doc_record(doc: Document) -> DocRecord:
    return DocRecord(
        source=doc.source,
        title=doc.title,
        format=doc.format,
        sections=[
            SectionRecord(id=section_id(doc.source, i, s), heading=s.heading, page=s.page, text=s.text)
            for i, s in enumerate(doc.sections)
            if s.text.strip()
        ],
    )
