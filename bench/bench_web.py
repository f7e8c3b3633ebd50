"""Web benchmark: gunicorn as configured, 30 concurrent clients, memory and readiness of the worker.

    .venv/bin/python bench/bench_web.py [--clients 30] [--seconds 15] [--generator wrk|python]

Starts gunicorn with gunicorn.conf.py on a free loopback port for each scenario, waits for it,
measures the worker's memory after start and after the first answer, then runs each endpoint under
load (closed loop: every client sends its next request when the previous one returns, over
keep-alive connections), and prints Markdown tables (recorded in docs/benchmarks.md), with the CPU time
the server spent per request.

The load comes from wrk (Debian's package) when it is installed: a Python load generator on the
same two cores takes about a core for itself and inflates every latency it reports.

Scenarios: "ours" (2 workers, preload, max_requests 100,000), "ours, recycling every 50" to show that
recycling itself is cheap, "ours with 1 worker" (the reference's worker count) and "reference-style"
(1 worker, no preload, max_requests 50: the reference's settings).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
QUERIES = [
    "How many vacation days do I get?",
    "What is the hotel limit in Boston?",
    "How long must my password be?",
    "Can I carry over unused PTO?",
    "How do I report a lost laptop?",
    "When are performance reviews?",
    "How much is the home office stipend?",
    "Who do I contact about harassment?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None) -> int:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="pw-web-")
        full = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "ANALYTICS_DB": f"{self.tmp}/analytics.sqlite3",
            "RATELIMIT": "1000000 per minute",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=open(f"{self.tmp}/gunicorn.log", "w"),  # noqa: SIM115
        )

    def wait_ready(self) -> float:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                if request(conn, "GET", "/health", None) == 200:
                    return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("server did not start")

    def worker(self) -> psutil.Process:
        """The largest worker (with 2 workers, the one that answered the first question)."""
        children = psutil.Process(self.proc.pid).children()
        return max(children, key=lambda p: p.memory_info().rss)

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers so far, recycled workers included: a cost per request
        that moves less with the machine's other load than requests per second do."""
        master = psutil.Process(self.proc.pid)
        t = master.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system  # children: workers reaped
        for w in master.children():
            try:
                c = w.cpu_times()
                total += c.user + c.system
            except psutil.Error:
                pass  # exited in between: counted with the master's children from now on
        return total

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def mem(proc: psutil.Process) -> str:
    """RSS / PSS / USS of one process, in MB."""
    info = proc.memory_full_info()
    return f"{info.rss / 2**20:.0f} / {info.pss / 2**20:.0f} / {info.uss / 2**20:.0f}"


def total_pss(server: Server) -> float:
    """What the server costs the host: master and workers, shared pages counted once."""
    master = psutil.Process(server.proc.pid)
    return sum(p.memory_full_info().pss for p in [master, *master.children()]) / 2**20


def load(port: int, clients: int, seconds: float, method: str, path: str, body_fn) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    peak = {"rss": 0.0}

    def client(i: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            try:
                status = request(conn, method, path, body_fn(i, n))
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            dt = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(dt)
                if status != 200:
                    errors += 1
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "p99": pct(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
        "peak": peak,
    }


# Every query is distinct, across wrk's threads too (each thread has its own Lua state and counter): a
# repeated question would be answered from the embedder's query cache and flatter the numbers.
WRK_SCRIPT = """
local queries = {%s}
local method, path, field = "%s", "%s", "%s"
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  if method == "GET" then return wrk.format("GET", path) end
  local q = queries[(n %% #queries) + 1] .. " " .. tid .. "-" .. n
  local body = '{"' .. field .. '": "' .. q .. '"}'
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%f %%f %%f %%f\\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
  io.write(string.format("MAX %%f\\n", latency.max))
end
"""


def load_wrk(port: int, clients: int, seconds: float, method: str, path: str) -> dict:
    field = "query" if path == "/search" else "message"
    queries = ", ".join(json.dumps(q) for q in QUERIES)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT % (queries, method, path, field))
        script = fh.name
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds:.0f}s",
            "--timeout",
            "30s",
            "-s",
            script,
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    n, errors, duration_us, p50, p95, p99 = (float(x) for x in line.split()[1:])
    max_us = float(next(x for x in out.splitlines() if x.startswith("MAX ")).split()[1])
    return {
        "requests": int(n),
        "errors": int(errors),
        "rps": n / (duration_us / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "max": max_us / 1000,
    }


def sample_peak(server: Server, stop: threading.Event, out: dict) -> None:
    while not stop.is_set():
        try:
            for w in psutil.Process(server.proc.pid).children():
                out["rss"] = max(out.get("rss", 0.0), w.memory_info().rss / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.05)


def scenario(
    name: str, env: dict[str, str], clients: int, seconds: float, generator: str
) -> tuple[list, list]:
    server = Server(env)
    try:
        ready = server.wait_ready()
        time.sleep(1.0)  # let the warm-up thread finish opening the index
        mem_start = mem(server.worker())
        # This connection stays open and idle during the load, as a browser's keep-alive one does:
        # a recycling worker keeps such connections for up to 2 s before it exits.
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        t = time.perf_counter()
        request(conn, "POST", "/chat", {"message": "How many vacation days do I get?"})
        first_ms = (time.perf_counter() - t) * 1000
        mem_first = mem(server.worker())
        host_first = total_pss(server)
        rows = []
        peak: dict = {}
        stop = threading.Event()
        sampler = threading.Thread(target=sample_peak, args=(server, stop, peak), daemon=True)
        sampler.start()
        for label, method, path, body in [
            ("GET /health", "GET", "/health", lambda i, n: None),
            (
                "POST /search",
                "POST",
                "/search",
                lambda i, n: {"query": QUERIES[(i + n) % len(QUERIES)] + f" {i}-{n}"},
            ),
            (
                "POST /chat",
                "POST",
                "/chat",
                lambda i, n: {"message": QUERIES[(i + n) % len(QUERIES)] + f" ({i}-{n})"},
            ),
        ]:
            cpu_before = server.cpu_seconds()
            if generator == "wrk":
                r = load_wrk(server.port, clients, seconds, method, path)
            else:
                r = load(server.port, clients, seconds, method, path, body)
            cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, int(r["requests"]))
            rows.append(
                [
                    name,
                    label,
                    f"{r['requests']}",
                    f"{r['errors']}",
                    f"{r['rps']:.0f}",
                    f"{r['p50']:.1f}",
                    f"{r['p95']:.1f}",
                    f"{r['p99']:.1f}",
                    f"{r['max']:.0f}",
                    f"{cpu_ms:.2f}",
                ]
            )
            print(
                f"  {name} {label}: {r['rps']:.0f} req/s p95 {r['p95']:.1f} ms errors {r['errors']}",
                file=sys.stderr,
                flush=True,
            )
        stop.set()
        mem_row = [
            name,
            f"{ready:.2f}",
            f"{first_ms:.0f}",
            mem_start,
            mem_first,
            f"{host_first:.0f}",
            f"{peak.get('rss', 0):.0f}",
        ]
        return rows, [mem_row]
    finally:
        server.stop()


def table(head: list[str], rows: list[list[str]]) -> str:
    return "\n".join(
        ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        + ["| " + " | ".join(r) + " |" for r in rows]
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--models", default="all-MiniLM-L6-v2,paraphrase-MiniLM-L3-v2")
    ap.add_argument(
        "--generator", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python"
    )
    ap.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    load_rows, mem_rows = [], []
    scenarios = []
    for model in args.models.split(","):
        index = "data/index" if model == "all-MiniLM-L6-v2" else None
        if index is None:
            tmp = tempfile.mkdtemp(prefix="pw-l3-")
            subprocess.run(
                [sys.executable, "-m", "policywise.cli", "ingest", "data/policies", "--index", tmp],
                cwd=ROOT,
                env={**os.environ, "EMBEDDING_MODEL": model},
                check=True,
                capture_output=True,
            )
            index = tmp
        base = {"EMBEDDING_MODEL": model, "VECTOR_STORE_PATH": index}
        scenarios.append((f"{model}: ours", {**base}))
        scenarios.append(
            (
                f"{model}: ours, recycling every 50",
                {**base, "GUNICORN_MAX_REQUESTS": "50", "GUNICORN_MAX_REQUESTS_JITTER": "5"},
            )
        )
        if model == "all-MiniLM-L6-v2":
            scenarios.append((f"{model}: ours with 1 worker", {**base, "WEB_CONCURRENCY": "1"}))
        if model == "paraphrase-MiniLM-L3-v2" and args.reference:
            scenarios.append(
                (
                    f"{model}: reference-style (no preload, max_requests 50)",
                    {
                        **base,
                        "GUNICORN_PRELOAD": "0",
                        "WEB_CONCURRENCY": "1",
                        "GUNICORN_MAX_REQUESTS": "50",
                        "GUNICORN_MAX_REQUESTS_JITTER": "5",
                    },
                )
            )
    for name, env in scenarios:
        print(f"scenario {name}", file=sys.stderr, flush=True)
        rows, mrows = scenario(name, env, args.clients, args.seconds, args.generator)
        load_rows += rows
        mem_rows += mrows
    print(
        f"\nLoad: {args.clients} concurrent clients, {args.seconds:.0f} s per endpoint, "
        f"closed loop, keep-alive, load from {args.generator}, "
        "extractive answers, 2 workers x 2 threads unless stated:\n"
    )
    print(
        table(
            [
                "scenario",
                "endpoint",
                "requests",
                "errors",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "server CPU ms / request",
            ],
            load_rows,
        )
    )
    print(
        "\nReadiness and memory (RSS / PSS / USS in MB; PSS splits pages shared with the master, "
        "USS is a worker's own):\n"
    )
    print(
        table(
            [
                "scenario",
                "ready s (start to /health 200)",
                "first answer ms",
                "a worker after start",
                "a worker after first answer",
                "all processes (PSS)",
                "peak worker RSS under load",
            ],
            mem_rows,
        )
    )
    print(f"\npython {sys.version.split()[0]}; {os.cpu_count()} CPUs; load generator in the same machine")


if __name__ == "__main__":
    main()
