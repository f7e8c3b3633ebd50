"""Retrieval evaluation on a question set with gold documents: hit@1/3/5 and MRR by question kind.

A question counts as answerable when it has gold documents. For those, a search that returns no
hit (the relevance gate said "not covered") is a miss. For unanswerable ones, the score is the
share that correctly return no hit.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from policywise.config import EMBEDDING_MODELS, Settings
from policywise.index.embedder import Embedder
from policywise.index.store import PolicyIndex
from policywise.retrieve import Retriever
from policywise.types import headed_text

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


def evaluate_answers(
    settings: Settings, questions_path: Path, index_dir: Path | None = None, provider: str = "extractive"
) -> dict[str, dict]:
    """Answer quality and latency for one provider, by question kind and overall."""
    from policywise.answer.check import lexically_supported
    from policywise.assistant import Assistant
    from policywise.sentences import split_sentences

    questions = load_questions(questions_path)
    if index_dir is not None:
        settings = replace(settings, vector_store_path=index_dir)
    assistant = Assistant(settings)
    assistant.warm_up()
    index = assistant.retriever.index
    rows = []
    for q in questions:
        t = time.perf_counter()
        a = assistant.ask(q["question"], provider=provider)
        latency = (time.perf_counter() - t) * 1000
        gold = {Path(g).name for g in q["gold_docs"]}
        answered = a.status == "answered"
        row = {"kind": q["kind"], "answerable": bool(gold), "answered": answered, "latency": latency}
        if gold and answered:
            kws = q.get("answer_keywords") or []
            row["keyword_recall"] = (
                sum(k.lower() in a.answer.lower() for k in kws) / len(kws) if kws else None
            )
            chunks = index.vectors.get([c.chunk_id for c in a.citations])
            good = 0
            for c in a.citations:
                text = " ".join(chunks.get(c.chunk_id, ("", {}))[0].split())
                lines = [" ".join(line.split()) for line in c.snippet.split("\n") if line.strip()]
                snippet_ok = all(line in text for line in lines)
                good += snippet_ok and Path(c.source).name in gold
            row["citation_accuracy"] = good / len(a.citations) if a.citations else 0.0
            sentences = [s for s in split_sentences(a.answer) if s.strip()]
            supported = 0
            for s in sentences:
                numbers = [int(n) for n in re.findall(r"\[(\d+)\]", s)]
                # A cited passage includes its section heading: an answer may name what a bullet is under.
                cited = [
                    headed_text(*chunks.get(c.chunk_id, ("", {}))) for c in a.citations if c.number in numbers
                ]
                supported += bool(cited) and lexically_supported(re.sub(r"\s*\[\d+\]", "", s), cited)
            row["groundedness"] = supported / len(sentences) if sentences else 0.0
        rows.append(row)
    return _answer_table(rows)


def _answer_table(rows: list[dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["kind"]].append(r)
        groups["all"].append(r)
    out: dict[str, dict] = {}
    for kind, rs in groups.items():
        answerable = [r for r in rs if r["answerable"]]
        unanswerable = [r for r in rs if not r["answerable"]]
        answered = [r for r in answerable if r["answered"]]
        lat = sorted(r["latency"] for r in rs)

        def mean(key: str, items: list[dict] = answered) -> float | None:
            vals = [r[key] for r in items if r.get(key) is not None]
            return round(sum(vals) / len(vals), 3) if vals else None

        out[kind] = {
            "n": len(rs),
            "keyword_recall": mean("keyword_recall"),
            "citation_accuracy": mean("citation_accuracy"),
            "groundedness": mean("groundedness"),
            "refusal_accuracy": round(sum(not r["answered"] for r in unanswerable) / len(unanswerable), 3)
            if unanswerable
            else None,
            "false_refusal_rate": round(sum(not r["answered"] for r in answerable) / len(answerable), 3)
            if answerable
            else None,
            "latency_p50_ms": round(lat[len(lat) // 2], 1),
            "latency_p95_ms": round(lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))], 1),
        }
    return out


def format_answer_table(results: dict[str, dict], provider: str) -> str:
    keys = [
        "keyword_recall",
        "citation_accuracy",
        "groundedness",
        "refusal_accuracy",
        "false_refusal_rate",
        "latency_p50_ms",
        "latency_p95_ms",
    ]
    lines = [
        "| provider | questions | n | " + " | ".join(k.replace("_", " ") for k in keys) + " |",
        "|" + "---|" * (len(keys) + 3),
    ]
    for kind in ["all", "factual", "paraphrase", "multi-doc", "unanswerable"]:
        row = results.get(kind)
        if row:
            cells = ["" if row[k] is None else str(row[k]) for k in keys]
            lines.append(f"| {provider} | {kind} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
