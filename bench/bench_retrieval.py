"""Retrieval benchmark: ingest throughput, search latency, HNSW recall and RSS, for each embedding model.

    .venv/bin/python bench/bench_retrieval.py [--synthetic 100000] [--models all-MiniLM-L6-v2,...]

Prints Markdown tables (recorded in docs/benchmarks.md). Latencies are single-client wall-clock
times of ``Retriever.search`` with the query-embedding cache off, so every query is embedded.

The large-scale rows use synthetic chunks: each vector mixes two real chunk embeddings of the
bundled corpus plus Gaussian noise (so neighbourhoods look like real ones, clustered by topic),
and each text is a random sample of real corpus sentences (so BM25 sees a realistic vocabulary).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from policywise.config import EMBEDDING_MODELS, load_settings  # noqa: E402
from policywise.index.embedder import Embedder  # noqa: E402
from policywise.index.lexical import LexicalIndex  # noqa: E402
from policywise.index.manifest import Manifest  # noqa: E402
from policywise.index.sentences import ChunkStore, SentenceStore  # noqa: E402
from policywise.index.store import PolicyIndex, set_current  # noqa: E402
from policywise.index.vector_store import HNSW, VectorStore  # noqa: E402
from policywise.retrieve import Retriever  # noqa: E402


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def questions() -> list[str]:
    qs = []
    for name in ("questions.jsonl", "external_questions.jsonl"):
        for line in (ROOT / "eval" / name).read_text().splitlines():
            if line.strip():
                qs.append(json.loads(line)["question"])
    return qs


def rss_probe(model: str, index: str, exact_max_chunks: str) -> None:
    """Run in a fresh process: RSS after loading the model and the index and answering one search."""
    import psutil

    proc = psutil.Process()
    before = proc.memory_info().rss
    settings = load_settings(env={}, embedding_model=model)
    idx = PolicyIndex.open(Path(index), exact_max_chunks=int(exact_max_chunks))
    retriever = Retriever(idx, Embedder.from_settings(settings), settings)
    retriever.embedder.load()
    after_model = proc.memory_info().rss
    idx.load()
    retriever.search("how many vacation days do I get")
    for q in questions()[:50]:
        retriever.search(q)
    info = proc.memory_info()
    print(
        json.dumps(
            {
                "python_mb": before / 2**20,
                "after_model_mb": after_model / 2**20,
                "loaded_mb": info.rss / 2**20,
            }
        )
    )


def measure_rss(model: str, index: Path, exact_max_chunks: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-probe", model, str(index), str(exact_max_chunks)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_searches(retriever: Retriever, qs: list[str], rounds: int = 2) -> tuple[list[float], list[float]]:
    for q in qs[:10]:
        retriever.search(q)  # warm up: model loaded, pages touched
    total, embed = [], []
    for _ in range(rounds):
        for q in qs:
            t = time.perf_counter()
            retriever.embedder.embed_query(q)
            embed.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            retriever.search(q)
            total.append((time.perf_counter() - t) * 1000)
    return total, embed


def synthetic_index(base: PolicyIndex, model: str, n: int, out: Path, hnsw: dict | None = None) -> float:
    rng = np.random.default_rng(7)
    _, vecs = base.vectors.all_embeddings()
    records = base.vectors.all_records()
    sentences = [s for _, text, _ in records for s in text.split(". ") if len(s) > 20]
    gen = out / "gen-synthetic"
    (gen / "chroma").mkdir(parents=True)
    store = VectorStore(path=gen / "chroma", hnsw=hnsw)
    t = time.perf_counter()
    all_ids, all_texts = [], []
    step = 5000
    pyrng = random.Random(7)
    for start in range(0, n, step):
        m = min(step, n - start)
        a = vecs[rng.integers(0, len(vecs), m)]
        b = vecs[rng.integers(0, len(vecs), m)]
        w = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        v = (
            w * a
            + (1 - w) * b
            + rng.normal(0, 0.3 / np.sqrt(vecs.shape[1]), (m, vecs.shape[1])).astype(np.float32)
        )
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        chunk_ids = [f"s{start + i}" for i in range(m)]
        texts = [". ".join(pyrng.sample(sentences, 4)) for _ in range(m)]
        metas = [
            {"source": f"synthetic/{(start + i) // 50}.md", "title": "Synthetic", "section": ""}
            for i in range(m)
        ]
        store.add(chunk_ids, v, texts, metas)
        all_ids.extend(chunk_ids)
        all_texts.extend(texts)
    build_s = time.perf_counter() - t
    store.close()
    LexicalIndex.build(all_ids, all_texts).save(gen / "bm25")
    reopened = VectorStore(path=gen / "chroma", hnsw=hnsw)
    vec_ids, vectors = reopened.all_embeddings()
    metas = {i: m for i, _, m in reopened.all_records()}
    reopened.close()
    row = {cid: i for i, cid in enumerate(vec_ids)}
    texts = dict(zip(all_ids, all_texts, strict=True))
    ChunkStore(
        all_ids, [texts[i] for i in all_ids], [metas[i] for i in all_ids], vectors[[row[i] for i in all_ids]]
    ).save(gen)
    # One "sentence" per synthetic chunk, with the chunk's vector: search reads sentences for its topic rules,
    # and embedding 400,000 sampled sentences would take longer than the rest of the benchmark.
    SentenceStore.build((cid, [texts[cid]], vectors[row[cid]][None, :]) for cid in all_ids).save(gen)
    (gen / "docs.json").write_text("{}")
    spec = base.manifest
    Manifest(
        embedding_model=model,
        embedding_precision=spec.embedding_precision,
        dimension=spec.dimension,
        chunker=spec.chunker,
        lexical_version=spec.lexical_version,
    ).write(gen)
    set_current(out, gen)
    return build_s


def recall_at_5(index: PolicyIndex, embedder: Embedder, qs: list[str]) -> float:
    ids, vecs = index.vectors.all_embeddings()
    hits = total = 0
    for q in qs:
        qv = embedder.embed_query(q)
        exact = {ids[i] for i in np.argsort(-(vecs @ qv))[:5]}
        approx = {h.id for h in index.vectors.query(qv, 5)}
        hits += len(exact & approx)
        total += 5
    return hits / total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(EMBEDDING_MODELS))
    ap.add_argument("--synthetic", type=int, default=100_000, help="synthetic chunk count (0 to skip)")
    ap.add_argument("--threads", type=int, default=1, help="ORT_THREADS for search (ingest: INGEST_THREADS)")
    ap.add_argument("--compare-defaults", action="store_true", help="also measure Chroma's default HNSW")
    ap.add_argument("--rss-probe", nargs=3, metavar=("MODEL", "INDEX", "LIMIT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_probe:
        rss_probe(*args.rss_probe)
        return
    # Imported here, not at the top: the RSS probe runs this file and must not count the loaders.
    from policywise.ingest.pipeline import ingest

    qs = questions()
    rows, scale_rows = [], []
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        for model in args.models.split(","):
            settings = load_settings(env={}, embedding_model=model, ort_threads=args.threads)
            idx_dir = Path(tmp) / model
            t = time.perf_counter()
            report = ingest([ROOT / "data" / "policies"], settings, index_root=idx_dir)
            ingest_s = time.perf_counter() - t
            embedder = Embedder.from_settings(settings, cache_size=0)
            # The default for a corpus this size is exact search in numpy; Chroma's query is measured too.
            index = PolicyIndex.open(idx_dir)
            total, embed = time_searches(Retriever(index, embedder, settings), qs)
            via_chroma = PolicyIndex.open(idx_dir, exact_max_chunks=0)
            total_c, _ = time_searches(Retriever(via_chroma, embedder, settings), qs)
            via_chroma.close()
            recall = recall_at_5(index, embedder, qs)
            rss = measure_rss(model, idx_dir, settings.exact_search_max_chunks)
            rss_c = measure_rss(model, idx_dir, 0)
            rows.append(
                [
                    model,
                    f"{report.chunks_total / ingest_s:.0f}",
                    f"{pct(embed, 50):.1f} / {pct(embed, 95):.1f}",
                    f"{pct(total, 50):.1f} / {pct(total, 95):.1f}",
                    f"{pct(total_c, 50):.1f} / {pct(total_c, 95):.1f}",
                    f"{recall:.3f}",
                    f"{rss['after_model_mb'] - rss['python_mb']:.0f}",
                    f"{rss['loaded_mb']:.0f}",
                    f"{rss_c['loaded_mb']:.0f}",
                ]
            )
            print(f"done {model} (bundled)", file=sys.stderr, flush=True)
            if args.synthetic:
                configs = [("ours", None)]
                if args.compare_defaults:
                    configs.append(("chroma defaults", {"space": "cosine"}))
                for label, hnsw in configs:
                    big = Path(tmp) / f"{model}-{args.synthetic}-{label.replace(' ', '_')}"
                    build_s = synthetic_index(index, model, args.synthetic, big, hnsw)
                    big_index = PolicyIndex.open(big, exact_max_chunks=0)
                    big_ret = Retriever(big_index, embedder, settings)
                    total_b, _ = time_searches(big_ret, qs, rounds=1)
                    recall_b = recall_at_5(big_index, embedder, qs)
                    hnsw_desc = (
                        "M={max_neighbors}, ef_c={ef_construction}, ef_s={ef_search}".format(**HNSW)
                        if hnsw is None
                        else "M=16, ef_c=100, ef_s=100"
                    )
                    scale_rows.append(
                        [
                            model,
                            f"{args.synthetic:,}",
                            hnsw_desc,
                            f"{args.synthetic / build_s:.0f}",
                            f"{pct(total_b, 50):.1f} / {pct(total_b, 95):.1f}",
                            f"{recall_b:.3f}",
                        ]
                    )
                    big_index.close()
                    print(f"done {model} ({label}, {args.synthetic})", file=sys.stderr, flush=True)
            index.close()
    print(
        f"\nBundled corpus (data/policies, {report.chunks_total} chunks), "
        f"ORT threads {args.threads}, single client:\n"
    )
    head = [
        "model",
        "ingest chunks/s",
        "query embed ms p50 / p95",
        "search ms p50 / p95 (exact, default)",
        "search ms p50 / p95 (via Chroma)",
        "HNSW recall@5",
        "model RSS MB",
        "process RSS MB, model + index loaded (exact)",
        "same, via Chroma",
    ]
    print(table(head, rows))
    if scale_rows:
        print(
            f"\nSynthetic scale ({args.synthetic:,} chunks; vectors add rate is Chroma insert throughput):\n"
        )
        head = ["model", "chunks", "HNSW", "vectors added /s", "search ms p50 / p95", "HNSW recall@5"]
        print(table(head, scale_rows))
    print(f"\nHNSW settings in use: {HNSW}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
