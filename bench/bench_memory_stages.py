"""Where a preloading gunicorn master's memory goes: one process loading what wsgi.py loads, step by step.

Every page a master holds when it forks counts in a worker's RSS, so this is a worker's RSS after start
less the files it has not touched yet. Linux only (reads /proc/self/smaps_rollup).

    .venv/bin/python bench/bench_memory_stages.py
"""

from __future__ import annotations

import gc
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


def main() -> int:
    if not Path("/proc/self/smaps_rollup").exists():
        print("needs Linux's /proc/self/smaps_rollup", file=sys.stderr)
        return 1
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

    print("| stage | RSS MB | anonymous MB | anonymous added MB |")
    print("|---|---|---|---|")
    previous = rows[0][2]
    for name, rss, anon in rows:
        print(f"| {name} | {rss:.1f} | {anon:.1f} | {anon - previous:+.1f} |")
        previous = anon
    return 0


def _search(state: dict[str, object]) -> None:
    state["retriever"].search("How many sick days do I get?")  # type: ignore[attr-defined]
    state["app"].extensions["policywise"].suggestions()  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
