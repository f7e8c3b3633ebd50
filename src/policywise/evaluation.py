"""Retrieval evaluation on a question set with gold documents: hit@1/3/5 and MRR by question kind.

A question counts as answerable when it has gold documents. For those, a search that returns no
hit (the relevance gate said "not covered") is a miss. For unanswerable ones, the score is the
share that correctly return no hit.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from policywise.config import EMBEDDING_MODELS, Settings
from policywise.index.embedder import Embedder
from policywise.index.store import PolicyIndex
from policywise.retrieve import Retriever

logger = logging.getLogger(__name__)

KINDS = ("factual", "paraphrase", "multi-doc", "unanswerable")


def load_questions(path: Path) -> list[dict]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        q = json.loads(line)
        for key in ("id", "question", "gold_docs", "kind"):
            if key not in q:
                raise ValueError(f"{path}:{n}: missing {key!r}")
        out.append(q)
    return out


def _doc_ranking(sources: list[str]) -> list[str]:
    return list(dict.fromkeys(Path(s).name for s in sources))


def score_run(questions: list[dict], ranked_docs: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Metrics per kind, plus 'answerable' (all kinds with gold documents) and 'unanswerable'."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for q in questions:
        groups[q["kind"]].append(q)
        if q["gold_docs"]:
            groups["answerable"].append(q)
    table: dict[str, dict[str, float]] = {}
    for kind, qs in groups.items():
        row: dict[str, float] = {"n": len(qs)}
        if kind == "unanswerable" or not qs[0]["gold_docs"]:
            row["no_hit"] = sum(1 for q in qs if not ranked_docs[q["id"]]) / len(qs)
        else:
            for k in (1, 3, 5):
                row[f"hit@{k}"] = sum(
                    1 for q in qs if set(ranked_docs[q["id"]][:k]) & {Path(g).name for g in q["gold_docs"]}
                ) / len(qs)
            rr = []
            for q in qs:
                gold = {Path(g).name for g in q["gold_docs"]}
                ranks = [i for i, d in enumerate(ranked_docs[q["id"]], 1) if d in gold]
                rr.append(1.0 / ranks[0] if ranks else 0.0)
            row["mrr"] = sum(rr) / len(qs)
            row["no_hit"] = sum(1 for q in qs if not ranked_docs[q["id"]]) / len(qs)
        table[kind] = {k: round(v, 3) for k, v in row.items()}
    return table


def run_configs(
    retriever: Retriever, questions: list[dict], modes: tuple[str, ...], gate: bool = True
) -> dict[str, dict]:
    results = {}
    for mode in modes:
        ranked = {
            q["id"]: _doc_ranking(
                [h.source for h in retriever.search(q["question"], k=5, mode=mode, gate=gate).hits]
            )
            for q in questions
        }
        results[mode] = score_run(questions, ranked)
    return results


def evaluate_retrieval(
    settings: Settings,
    questions_path: Path,
    index_dir: Path | None = None,
    corpus: Path | None = None,
    gate: bool = True,
) -> dict[str, dict]:
    """Results keyed by configuration name, e.g. 'hybrid (all-MiniLM-L6-v2)' or 'bm25'.

    With ``gate=False`` the relevance gate is off: pure ranking quality, every question gets hits.
    """
    questions = load_questions(questions_path)
    results: dict[str, dict] = {}
    if corpus is None:
        index = PolicyIndex.open(
            Path(index_dir or settings.vector_store_path), settings.chroma_host, settings.chroma_port
        )
        model = index.manifest.embedding_model
        s = replace(settings, embedding_model=model)
        retriever = Retriever(index, Embedder.from_settings(s), s)
        runs = run_configs(retriever, questions, ("lexical", "dense", "hybrid"), gate)
        results["bm25"] = runs["lexical"]
        results[f"dense ({model})"] = runs["dense"]
        results[f"hybrid ({model})"] = runs["hybrid"]
        return results
    from policywise.ingest.pipeline import ingest

    with tempfile.TemporaryDirectory(prefix="policywise-eval-") as tmp:
        for model in EMBEDDING_MODELS:
            s = replace(settings, embedding_model=model)
            root = Path(tmp) / model
            ingest([corpus], s, index_root=root)
            index = PolicyIndex.open(root)
            retriever = Retriever(index, Embedder.from_settings(s), s)
            modes = ("lexical", "dense", "hybrid") if not results else ("dense", "hybrid")
            runs = run_configs(retriever, questions, modes, gate)
            if "lexical" in runs:
                results["bm25"] = runs["lexical"]
            results[f"dense ({model})"] = runs["dense"]
            results[f"hybrid ({model})"] = runs["hybrid"]
            index.close()
    return results


def format_retrieval_table(results: dict[str, dict]) -> str:
    header = "| configuration | questions | n | hit@1 | hit@3 | hit@5 | MRR | no hit |"
    lines = [header, "|" + "---|" * 8]
    order = ["answerable", "factual", "paraphrase", "multi-doc", "unanswerable"]
    for name, table in results.items():
        for kind in order:
            row = table.get(kind)
            if not row:
                continue

            def cell(key: str, r: dict = row) -> str:
                return f"{r[key]:.3f}" if key in r else ""

            lines.append(
                f"| {name} | {kind} | {int(row['n'])} | {cell('hit@1')} | {cell('hit@3')} | {cell('hit@5')} "
                f"| {cell('mrr')} | {cell('no_hit')} |"
            )
    return "\n".join(lines)
