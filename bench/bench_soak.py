"""Soak test: does a worker leak? gunicorn as configured but never recycled, rounds of load.

    .venv/bin/python bench/bench_soak.py [--rounds 8] [--clients 30]

Each round loads /health, then /search, then /chat (every question distinct), and after each endpoint
prints every worker's RSS, USS (its own pages), open file descriptors and threads. ``max_requests`` is
off, so the same two workers serve the whole run: growth that does not level off is a leak, and how
fast it grows is what the ``max_requests`` backstop in gunicorn_conf.py has to cover.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_web import QUERIES, Server, load, load_wrk, table

PHASES = [
    ("GET", "/health", 5, lambda i, n: None),
    ("POST", "/search", 20, lambda i, n: {"query": QUERIES[(i + n) % len(QUERIES)] + f" {i}-{n}"}),
    ("POST", "/chat", 20, lambda i, n: {"message": QUERIES[(i + n) % len(QUERIES)] + f" ({i}-{n})"}),
]


def workers(server: Server) -> list[str]:
    out = []
    for w in sorted(psutil.Process(server.proc.pid).children(), key=lambda p: p.pid):
        m = w.memory_full_info()
        out.append(f"{m.rss / 2**20:.0f} / {m.uss / 2**20:.1f} / {w.num_fds()} / {w.num_threads()}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument(
        "--generator", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python"
    )
    args = ap.parse_args()
    server = Server({"GUNICORN_MAX_REQUESTS": "0"})
    rows = []
    try:
        server.wait_ready()
        rows.append(["start", "", "0", *workers(server)])
        total = 0
        for r in range(args.rounds):
            for method, path, seconds, body in PHASES:
                if args.generator == "wrk":
                    res = load_wrk(server.port, args.clients, seconds, method, path)
                else:
                    res = load(server.port, args.clients, seconds, method, path, body)
                total += int(res["requests"])
                rows.append([str(r + 1), f"{method} {path}", str(total), *workers(server)])
                print(f"  round {r + 1} {path}: {total} requests", file=sys.stderr, flush=True)
    finally:
        server.stop()
    n = max(len(row) for row in rows) - 3
    print(
        f"\n{args.clients} clients, rounds of /health 5 s, /search 20 s, /chat 20 s, load from "
        f"{args.generator}, no recycling. Per worker: RSS MB / USS MB / open files / threads.\n"
    )
    head = ["round", "after", "requests so far"] + [f"worker {i + 1}" for i in range(n)]
    print(table(head, [row + [""] * (len(head) - len(row)) for row in rows]))


if __name__ == "__main__":
    main()
