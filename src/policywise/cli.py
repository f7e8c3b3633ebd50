"""policywise ingest | search | eval: the command line over the same engine the web service uses."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

import click

from policywise.config import ConfigError, Settings, load_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """PolicyWise: answers about company policies, with citations."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = {"settings": settings}


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (default VECTOR_STORE_PATH)."
)
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of only new or changed files.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[Path, ...], index_dir: Path | None, rebuild: bool, as_json: bool
) -> None:
    """Index policy documents (Markdown, text, HTML, PDF, DOCX) incrementally and atomically."""
    from policywise.index.manifest import IndexMismatchError
    from policywise.ingest.pipeline import ingest as run_ingest

    settings = _settings(ctx)
    bar = None

    def progress(source: str, done: int, total: int) -> None:
        nonlocal bar
        if as_json:
            return
        if bar is None:
            bar = click.progressbar(length=total, label="Embedding", file=sys.stderr, show_pos=True)
            bar.__enter__()
        bar.update(1, current_item=source)

    try:
        report = run_ingest(list(paths), settings, index_root=index_dir, rebuild=rebuild, progress=progress)
    except (IndexMismatchError, FileNotFoundError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if as_json:
        click.echo(json.dumps(report.__dict__, indent=2))
        return
    click.echo(
        f"Indexed {report.index_path} ({report.generation}): {report.files} files, "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged; {report.chunks_embedded} chunks embedded, "
        f"{report.chunks_total} in the index; {report.seconds:.2f}s"
    )
    for source, reason in report.skipped:
        click.echo(f"  skipped {source}: {reason}")


def _hit_json(hit: object, rank: int, full: bool = True) -> dict:
    d = hit.to_dict()  # type: ignore[attr-defined]
    out = {
        "rank": rank,
        "score": d["score"],
        "source": d["source"],
        "title": d["title"],
        "section": d["section"],
        "page": d["page"],
        "chunk_id": d["chunk_id"],
    }
    if full:
        out.update(dense_score=d["dense_score"], lexical_score=d["lexical_score"], text=d["text"])
    return out


@main.command()
@click.argument("query", required=False)
@click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (default VECTOR_STORE_PATH)."
)
@click.option(
    "-k", "top_k", type=click.IntRange(1, 50), default=None, help="Number of passages (default TOP_K)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see README for the format).")
@click.option("--batch", type=click.File("r"), help='JSONL file of {"id", "query"} lines (\'-\' for stdin).')
@click.option(
    "--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True
)
@click.pass_context
def search(
    ctx: click.Context,
    query: str | None,
    index_dir: Path | None,
    top_k: int | None,
    as_json: bool,
    batch: TextIO | None,
    mode: str,
) -> None:
    """Find the policy passages most relevant to QUERY."""
    from policywise.retrieve import open_retriever

    if (query is None) == (batch is None):
        raise click.UsageError("give either a QUERY or --batch FILE")
    retriever = _open(lambda: open_retriever(_settings(ctx), index_dir))
    if batch is not None:
        _search_batch(retriever, batch, top_k, mode)
        return
    assert query is not None
    result = retriever.search(query, k=top_k, mode=mode)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "query": query,
                    "covered": result.covered,
                    "missing_topics": result.missing_topics,
                    "topic_not_in_hits": result.topic_not_in_hits,
                    "fact_not_in_hits": result.fact_not_in_hits,
                    "hits": [_hit_json(h, i) for i, h in enumerate(result.hits, 1)],
                    "timings_ms": result.timings_ms,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if result.missing_topics:
        click.echo(f"The policies don't mention {' or '.join(result.missing_topics)}.")
        return
    if result.topic_not_in_hits:
        click.echo(f"No policy passage close to this question mentions {result.topic_not_in_hits}.")
        return
    if result.fact_not_in_hits and result.topic is not None:
        click.echo(
            f"No policy passage states the {result.fact_not_in_hits} asked for about {result.topic.label}."
        )
        return
    if not result.hits:
        click.echo("No policy passage matches this question.")
        return
    for i, h in enumerate(result.hits, 1):
        where = h.section + (f", page {h.page}" if h.page else "")
        click.secho(f"{i}. {h.title}  [{h.source}]  score {h.score:.3f}", bold=True)
        click.echo(f"   {where}")
        snippet = " ".join(h.text.split())
        click.echo(f"   {snippet[:300]}{'...' if len(snippet) > 300 else ''}")


def _open(factory: Callable[[], T]) -> T:
    """Run a setup step, turning a missing or mismatched index into a clear CLI error."""
    from policywise.index.manifest import IndexMismatchError
    from policywise.index.store import IndexNotFoundError

    try:
        return factory()
    except (IndexNotFoundError, IndexMismatchError) as exc:
        raise click.ClickException(str(exc)) from exc


def _search_batch(retriever: object, batch: TextIO, top_k: int | None, mode: str) -> None:
    for n, line in enumerate(batch, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            query = item["query"]
            if not isinstance(query, str) or not query.strip():
                raise ValueError("'query' must be a non-empty string")
        except (ValueError, KeyError, TypeError) as exc:
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            click.echo(json.dumps({"id": None, "line": n, "error": f"line {n}: {reason}"}))
            continue
        result = retriever.search(query, k=top_k, mode=mode)  # type: ignore[attr-defined]
        out = {
            "id": item.get("id"),
            "hits": [_hit_json(h, i, full=False) for i, h in enumerate(result.hits, 1)],
        }
        click.echo(json.dumps(out, ensure_ascii=False))


@main.command()
@click.argument("question", required=False)
@click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (default VECTOR_STORE_PATH)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON (see README).")
@click.option(
    "--provider",
    type=click.Choice(["extractive", "llm"]),
    default=None,
    help="Default: the LLM when one is configured, else extractive.",
)
@click.option(
    "--batch", type=click.File("r"), help='JSONL file of {"id", "question"} lines (\'-\' for stdin).'
)
@click.pass_context
def ask(
    ctx: click.Context,
    question: str | None,
    index_dir: Path | None,
    as_json: bool,
    provider: str | None,
    batch: TextIO | None,
) -> None:
    """Answer QUESTION from the policies, with citations."""
    from policywise.assistant import Assistant

    if (question is None) == (batch is None):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    settings = _settings(ctx)
    if index_dir is not None:
        settings = settings.with_overrides(vector_store_path=index_dir)
    if provider == "llm" and not settings.llm_configured:
        raise click.UsageError("--provider llm needs OPENROUTER_API_KEY or LLM_BASE_URL")
    assistant = Assistant(settings)
    _open(lambda: assistant.retriever)
    if batch is not None:
        _ask_batch(assistant, batch, provider)
        return
    answer = assistant.ask(question, provider=provider)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(answer.answer)
    for c in answer.citations:
        where = c.section + (f", page {c.page}" if c.page else "")
        click.echo(f"  [{c.number}] {c.title} - {where} ({c.source})")
    if answer.degraded:
        click.echo(f"  (fallback: {answer.degraded_reason})", err=True)


def _ask_batch(assistant: object, batch: TextIO, provider: str | None) -> None:
    for n, line in enumerate(batch, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            question = item["question"]
        except (ValueError, KeyError, TypeError) as exc:
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            click.echo(json.dumps({"id": None, "line": n, "error": f"line {n}: {reason}"}))
            continue
        a = assistant.ask(question, provider=provider)  # type: ignore[attr-defined]
        out = {
            "id": item.get("id"),
            "status": a.status,
            "answer": a.answer,
            "citations": [
                {
                    "number": c.number,
                    "source": c.source,
                    "title": c.title,
                    "section": c.section,
                    "page": c.page,
                    "snippet": c.snippet,
                }
                for c in a.citations
            ],
            "retrieved": [{"source": r["source"], "score": r["score"]} for r in a.retrieved],
        }
        click.echo(json.dumps(out, ensure_ascii=False))


@main.command()
@click.option("--dev", is_flag=True, help="Flask's debug server with reload instead of gunicorn.")
@click.option("--port", type=int, default=None, help="Port (default PORT, 8000).")
@click.option("--host", default=None, help="Address to bind (default 0.0.0.0; --dev: 127.0.0.1).")
@click.pass_context
def serve(ctx: click.Context, dev: bool, port: int | None, host: str | None) -> None:
    """Run the web service: gunicorn with the packaged configuration."""
    import os

    settings = _settings(ctx)
    port = port or settings.port
    if dev:
        from policywise.web import create_app

        create_app(settings.with_overrides(flask_env="development")).run(
            host=host or "127.0.0.1", port=port, debug=True, threaded=True
        )
        return
    from policywise.web import gunicorn_conf

    env = {**os.environ, "PORT": str(port)}
    if host:
        env["HOST"] = host
    args = [sys.executable, "-m", "gunicorn", "-c", gunicorn_conf.__file__]
    os.execve(sys.executable, args, env)


@main.command()
@click.option("--days", type=int, default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats(ctx: click.Context, days: int, as_json: bool) -> None:
    """Usage statistics from the analytics database (ANALYTICS_DB)."""
    from policywise.ops.analytics import Analytics

    settings = _settings(ctx)
    data = Analytics(settings.analytics_path, settings.analytics_retention_days).stats(days=days)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"Last {days} days: {data['questions']} questions")
    for key in (
        "status_mix",
        "no_answer_rate",
        "thumbs_up_rate",
        "latency_ms",
        "error_rate",
        "degraded_rate",
    ):
        click.echo(f"  {key.replace('_', ' ')}: {data.get(key)}")
    for key in ("top_questions", "top_unanswered", "top_documents"):
        click.echo(f"  {key.replace('_', ' ')}:")
        for item in data.get(key, []):
            label = item.get("question") or item.get("document")
            click.echo(f"    {item['count']:4d}  {label}")


@main.command("eval")
@click.option("--retrieval/--no-retrieval", default=True, help="Retrieval table: hit@k and MRR by kind.")
@click.option(
    "--answers/--no-answers", default=True, help="Answer table: keywords, citations, refusals, latency."
)
@click.option(
    "--questions", type=click.Path(exists=True, path_type=Path), default=Path("eval/questions.jsonl")
)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index of the configured model.")
@click.option(
    "--corpus",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Policy folder: builds temporary indexes so every model can be compared (retrieval).",
)
@click.option("--no-gate", is_flag=True, help="Turn the relevance gate off: ranking quality only.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def eval_cmd(
    ctx: click.Context,
    retrieval: bool,
    answers: bool,
    questions: Path,
    index_dir: Path | None,
    corpus: Path | None,
    no_gate: bool,
    as_json: bool,
) -> None:
    """Measure retrieval and answer quality on a question set with gold documents."""
    from policywise.evaluation import (
        evaluate_answers,
        evaluate_retrieval,
        format_answer_table,
        format_retrieval_table,
    )

    settings = _settings(ctx)
    out: dict[str, dict] = {}
    if retrieval:
        out["retrieval"] = _open(
            lambda: evaluate_retrieval(
                settings, questions, index_dir=index_dir, corpus=corpus, gate=not no_gate
            )
        )
    if answers:
        providers = ["extractive"] + (["llm"] if settings.llm_configured else [])
        with tempfile.TemporaryDirectory(prefix="policywise-eval-") as tmp:
            answer_index = index_dir
            if corpus is not None and index_dir is None:
                # Answers about the corpus come from an index of it, not from the configured one.
                from policywise.ingest.pipeline import ingest

                answer_index = Path(tmp)
                ingest([corpus], settings, index_root=answer_index)

            def measure(provider: str, index: Path | None = answer_index) -> dict:
                return evaluate_answers(settings, questions, index_dir=index, provider=provider)

            out["answers"] = {p: _open(lambda p=p: measure(p)) for p in providers}
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    if "retrieval" in out:
        click.echo(format_retrieval_table(out["retrieval"]))
    for provider, table in out.get("answers", {}).items():
        click.echo("")
        click.echo(format_answer_table(table, provider))


if __name__ == "__main__":
    main()
