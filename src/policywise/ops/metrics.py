"""Prometheus metrics for the web service, on a private registry.

Each ``Metrics`` owns its own ``CollectorRegistry``: registering on the global default registry would
make a second app instance (every test, every ``create_app`` call) fail with duplicate time series.

Under gunicorn with several workers a scrape reaches one worker at random, so the config sets
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multi-process mode): every worker writes its
values to files there and ``render`` sums them, so counters are the service's, not one worker's.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import deque
from collections.abc import Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
)

logger = logging.getLogger(__name__)

# From a cached 1 ms answer to a 10 s LLM deadline; the default buckets start at 5 ms and would hide
# the fast extractive path.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}
WINDOW = 1000
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of already sorted values; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


class Metrics:
    """Request, answer, LLM and resource metrics plus a rolling latency window for the health page."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The standard process/runtime series, as the default registry would have them.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._requests = Counter(
            "policywise_http_requests",
            "HTTP requests handled.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "policywise_http_request_duration_seconds",
            "HTTP request latency.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._answers = Counter(
            "policywise_answers",
            "Answers produced, by outcome.",
            ["status", "provider", "degraded"],
            registry=self.registry,
        )
        self._llm_calls = Counter(
            "policywise_llm_calls",
            "LLM answer attempts: ok, error:<kind> or fallback.",
            ["outcome"],
            registry=self.registry,
        )
        # Across workers: the worst circuit state and the largest index among live workers, and
        # each worker's own RSS (labelled by pid).
        self._circuit = Gauge(
            "policywise_llm_circuit_state",
            "LLM circuit breaker: 0 closed, 1 half_open, 2 open.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._circuit_info = Gauge(
            "policywise_llm_circuit_state_info",
            "1 for the LLM circuit breaker's current state, 0 for the others.",
            ["state"],
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._rss = Gauge(
            "policywise_process_rss_bytes",
            "Resident set size.",
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self._chunks = Gauge(
            "policywise_index_chunks",
            "Chunks in the loaded index.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._lock = threading.Lock()
        self._window: deque[float] = deque(maxlen=WINDOW)
        self._window_sum = 0.0  # kept alongside so /health's average costs O(1), not a copy
        self.set_circuit_state("closed")

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """`endpoint` must be the route template, not the raw path, or label cardinality is unbounded."""
        self._requests.labels(endpoint=endpoint, method=method.upper(), status=str(status)).inc()
        self._latency.labels(endpoint=endpoint).observe(seconds)
        with self._lock:
            if len(self._window) == self._window.maxlen:
                self._window_sum -= self._window[0]
            self._window.append(seconds)
            self._window_sum += seconds

    def observe_answer(self, status: str, provider: str, degraded: bool) -> None:
        self._answers.labels(status=status, provider=provider, degraded=str(bool(degraded)).lower()).inc()

    def observe_llm(self, outcome: str) -> None:
        self._llm_calls.labels(outcome=outcome).inc()

    def set_circuit_state(self, state: str) -> None:
        value = CIRCUIT_STATES.get(state)
        if value is None:
            # Called on the request path: a typo in a caller must not turn into a 500.
            logger.warning("unknown circuit state %r; metric left unchanged", state)
            return
        self._circuit.set(value)
        for name in CIRCUIT_STATES:
            self._circuit_info.labels(state=name).set(1 if name == state else 0)

    def set_rss(self, mb: float) -> None:
        self._rss.set(mb * 1024 * 1024)

    def set_index_chunks(self, n: int) -> None:
        self._chunks.set(n)

    def _window_ms(self) -> list[float]:
        with self._lock:
            return [s * 1000.0 for s in self._window]

    def avg_response_ms(self) -> float:
        with self._lock:
            n, total = len(self._window), self._window_sum
        return max(0.0, total) * 1000.0 / n if n else 0.0

    def p95_response_ms(self) -> float:
        return percentile(sorted(self._window_ms()), 95)

    def render(self) -> tuple[bytes, str]:
        if os.environ.get(MULTIPROCESS_ENV):
            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined)
            return generate_latest(combined), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
