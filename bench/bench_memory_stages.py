"""Where a preloading gunicorn master's memory goes: one process loading what wsgi.py loads, step by step.

Every page a master holds when it forks counts in a worker's RSS, so this is a worker's RSS after start
less the files it has not touched yet. A second table, from a fresh interpreter, is the floor under any
worker that can serve: the libraries the web issue prescribes (Flask, pydantic, prometheus_client,
Flask-Limiter, psutil) and the embedding stack (numpy, onnxruntime, tokenizers, the model's vocabulary),
before any PolicyWise code, model session or index. Linux only (reads /proc/self/smaps_rollup).

    .venv/bin/python bench/bench_memory_stages.py
"""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def _rollup() -> tuple[float, float]:
    values = {}
    with open("/proc/self/smaps_rollup", encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Anonymous:"):
                values[parts[0]] = int(parts[1]) / 1024
    return values["Rss:"], values["Anonymous:"]


def main(argv: list[str]) -> int:
    if not Path("/proc/self/smaps_rollup").exists():
        print("needs Linux's /proc/self/smaps_rollup", file=sys.stderr)
        return 1
    if argv == ["--floor"]:
        _print_table(_floor())
        return 0
    rows: list[tuple[str, float, float]] = [("interpreter", *_rollup())]
    state: dict[str, object] = {}

    def step(name: str, action: Callable[[], None]) -> None:
        action()
        rows.append((name, *_rollup()))

    def imports() -> None:
        import numpy  # noqa: F401

        from policywise.config import load_settings
        from policywise.web import create_app

        state["load_settings"], state["create_app"] = load_settings, create_app

    def app() -> None:
        settings = state["load_settings"]()  # type: ignore[operator]
        state["app"] = state["create_app"](settings.with_overrides(warm_up=False))  # type: ignore[operator]
        state["retriever"] = state["app"].extensions["policywise"].assistant.retriever  # type: ignore[attr-defined]

    def model() -> None:
        import onnxruntime  # noqa: F401

        state["retriever"].embedder.load()  # type: ignore[attr-defined]

    def index() -> None:
        idx = state["retriever"].index  # type: ignore[attr-defined]
        _ = idx.lexical, idx.sentences, idx.documents, idx.chunks

    step("imports (numpy, Flask, pydantic, prometheus_client, bm25s...)", imports)
    step("the app", app)
    step("onnxruntime, then the model session and tokenizer", model)
    step("the index (BM25, chunks, sentences, documents)", index)
    step("topic labels and patterns", lambda: state["retriever"].warm_topics())  # type: ignore[attr-defined]
    step("a first search, the suggestions checked", lambda: _search(state))
    step("after a full collection", lambda: gc.collect() and None)

    _print_table(rows)
    print()
    # A fresh interpreter: what this one has imported would hide the libraries' own cost.
    return subprocess.run([sys.executable, __file__, "--floor"], check=False).returncode


def _floor() -> list[tuple[str, float, float]]:
    rows = [("interpreter", *_rollup())]
    import flask  # noqa: F401
    import flask_limiter  # noqa: F401
    import prometheus_client  # noqa: F401
    import psutil  # noqa: F401
    import pydantic  # noqa: F401

    rows.append(("Flask, pydantic, prometheus_client, Flask-Limiter, psutil", *_rollup()))
    import numpy  # noqa: F401

    rows.append(("numpy", *_rollup()))
    import onnxruntime  # noqa: F401
    import tokenizers

    rows.append(("onnxruntime, tokenizers", *_rollup()))
    from policywise.models import tokenizer_path

    state = [tokenizers.Tokenizer.from_file(str(tokenizer_path()))]
    rows.append(("the model's WordPiece vocabulary", *_rollup()))
    del state
    return rows


def _print_table(rows: list[tuple[str, float, float]]) -> None:
    print("| stage | RSS MB | anonymous MB | anonymous added MB |")
    print("|---|---|---|---|")
    previous = rows[0][2]
    for name, rss, anon in rows:
        print(f"| {name} | {rss:.1f} | {anon:.1f} | {anon - previous:+.1f} |")
        previous = anon


def _search(state: dict[str, object]) -> None:
    state["retriever"].search("How many sick days do I get?")  # type: ignore[attr-defined]
    state["app"].extensions["policywise"].suggestions()  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
