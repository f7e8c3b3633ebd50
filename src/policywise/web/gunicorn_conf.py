"""gunicorn settings, starting from the reference deployment (1 worker, 2 threads, timeout 30).

Differences, each measured in bench/bench_web.py and docs/benchmarks.md:
- preload_app: the master loads the model once; a recycled worker is forked with it loaded, so
  recycling costs no model reload (the reference reloaded it on the next request, ~1 s).
- Recycling on memory, not on a count: a worker whose memory stays above the soft limit after a
  garbage collection retires gracefully once it has served RECYCLE_MIN_REQUESTS, and the master
  forks a fresh one from its preloaded copy. max_requests stays as a backstop at 100,000 (+ jitter)
  instead of 50: bench/bench_soak.py served ~190,000 requests per worker without recycling, and a
  worker's own memory grew ~2 MB after the first round (docs/benchmarks.md); each recycle moves the
  retiring worker's keep-alive clients onto the other worker. Override with GUNICORN_MAX_REQUESTS.
- Keep-alive connections are rotated: every GUNICORN_KEEPALIVE_REQUESTS-th response of a worker
  says "Connection: close". A kept-alive connection otherwise stays with the worker that accepted
  it forever, and after a recycle every busy client sat on one worker while the new one idled
  (measured: all 30 of 30 connections on one worker, half the throughput). The client reconnects
  and whichever worker is free accepts it. A worker holding more than SLACK connections above
  another closes every connection it answers until it no longer does (web/worker.py, crowded).
- 2 workers instead of 1: a worker that recycles stops accepting at once but keeps its idle
  keep-alive connections open for up to 2 s (so a request a client is already sending is not
  lost); with a single worker nothing accepts meanwhile, and any idle browser connection stalled
  every client for ~2 s per recycle (p95 1.5 s under load). The second worker shares the
  preloaded pages (about 5-40 MB private each) and also uses the second core. WEB_CONCURRENCY=1
  restores the reference's single worker.
- Each worker pinned to a core of its own when there are as many workers as cores
  (GUNICORN_PIN_WORKERS; _pin_to_a_core).
"""

from __future__ import annotations

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "policywise.web.worker.BalancedThreadWorker"  # gthread, least-connections accepting
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "10000"))
keepalive_requests = int(os.environ.get("GUNICORN_KEEPALIVE_REQUESTS", "25"))
switch_interval_ms = float(os.environ.get("GUNICORN_SWITCH_INTERVAL_MS", "1"))
pin_workers = os.environ.get("GUNICORN_PIN_WORKERS", "1") != "0"
# A fresh worker never retires at once: a host whose baseline is over the soft limit would otherwise
# fork and retire workers in a loop. At worst it recycles every this many requests.
RECYCLE_MIN_REQUESTS = 200
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
wsgi_app = "policywise.web.wsgi:app"
accesslog = None  # the app logs each request as JSON, with its request id
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The tokenizer's thread pool does not survive fork; it would warn and fall back anyway.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# /metrics must count the whole service, not the one worker a scrape happens to reach: workers write
# their values under this folder (prometheus_client's multi-process mode). Set before the app, and
# so prometheus_client, is imported.
# gunicorn may execute this file more than once: the folder we made is remembered in the environment.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="policywise-metrics-")
    os.environ["POLICYWISE_OWN_METRICS_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def pre_fork(server: object, worker: object) -> None:
    import gc

    from policywise.web.worker import BOARD

    # What the master loaded (model session, index, topics: ~77,000 objects) lives as long as the
    # workers. Frozen, a worker's full collections never walk it: measured in process, one every ~1,500
    # answers, 16-40 ms holding the GIL. (No memory effect showed: a worker's USS after 4,000 answers is
    # 24-25 MB either way.)
    gc.freeze()

    taken = {w.policywise_slot for w in server.WORKERS.values()}  # type: ignore[attr-defined]
    worker.policywise_slot = BOARD.assign(taken)  # type: ignore[attr-defined]


def post_fork(server: object, worker: object) -> None:
    import sys

    # A worker's threads (gunicorn's poller, the request threads, warm-up) take turns on the GIL; at
    # Python's default 5 ms a cheap request could wait behind a busy thread for a whole turn. A/B at 30
    # clients: /health p95 12.2 / 12.6 ms at 1 ms against 13.1 / 13.3 at 5 ms (docs/benchmarks.md).
    sys.setswitchinterval(switch_interval_ms / 1000)
    _pin_to_a_core(getattr(worker, "policywise_slot", None))
    from policywise.web.wsgi import app, settings

    services = app.extensions["policywise"]
    try:
        # A reindex since the master preloaded: serve the new generation from the first request.
        services.assistant.sync_index()
    except Exception as exc:  # keep serving what the master loaded; /health names the generation
        server.log.warning("could not load the current index generation: %s", exc)  # type: ignore[attr-defined]
    if settings.warm_up:
        services.warm_up_async()
    worker.policywise_memory = services.memory  # type: ignore[attr-defined]


def _pin_to_a_core(slot: int | None) -> None:
    """Each worker on a core of its own when there are as many workers as cores: its threads then stop
    migrating between cores with their caches. Four A/B runs of 30 clients on this 2-core machine:
    /search 345-367 against 340-358 req/s, p95 91-99 against 97-105 ms; /health 7,976 / 8,163 against
    7,379 / 7,658 req/s (docs/benchmarks.md, eighth session). With fewer workers than cores a pinned worker
    would leave cores idle (one worker pinned: 171 searches per second; unpinned: 233-281). A recycled
    worker takes its predecessor's slot, and so its core."""
    if not pin_workers or slot is None:
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1 and workers == len(cpus) and slot < len(cpus):  # (more workers after TTIN: unpinned)
        os.sched_setaffinity(0, {cpus[slot]})


def pre_request(worker: object, req: object) -> None:
    rotate = keepalive_requests and (worker.nr + 1) % keepalive_requests == 0  # type: ignore[attr-defined]
    crowded = getattr(worker, "crowded", None)
    if rotate or (crowded is not None and crowded()):
        req.must_close = True  # type: ignore[attr-defined]  # gunicorn answers "Connection: close"


def post_request(worker: object, req: object, environ: object, resp: object) -> None:
    memory = getattr(worker, "policywise_memory", None)
    # The state is the one the last request's check left, after its garbage collection: reading it
    # costs nothing here.
    if memory is None or memory.state == "ok" or not worker.alive:  # type: ignore[attr-defined]
        return
    if worker.nr >= RECYCLE_MIN_REQUESTS:  # type: ignore[attr-defined]
        worker.log.warning(  # type: ignore[attr-defined]
            "memory %s limit reached (%.0f MB): retiring this worker after its current requests",
            memory.state,
            memory.last_rss_mb,
        )
        worker.alive = False  # type: ignore[attr-defined]  # what gunicorn does at max_requests


def worker_exit(server: object, worker: object) -> None:
    # A forked worker inherits native thread pools (onnxruntime, Chroma's runtime) whose C++
    # destructors abort at interpreter shutdown. All requests are finished by now; leave at once.
    import logging
    import sys

    from policywise.web.wsgi import app

    retriever = app.extensions["policywise"].assistant.opened_retriever
    if retriever is not None:
        retriever.index.discard_snapshot()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def child_exit(server: object, worker: object) -> None:
    from policywise.web.worker import BOARD

    slot = getattr(worker, "policywise_slot", None)
    if slot is not None:
        BOARD.leave(slot)  # also when the worker died without leaving (killed, timed out)
    # A recycled worker's gauges stop counting as live; its counters stay in the totals.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def on_exit(server: object) -> None:
    own = os.environ.get("POLICYWISE_OWN_METRICS_DIR")
    if own:
        import shutil

        shutil.rmtree(own, ignore_errors=True)
