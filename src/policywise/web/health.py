"""Health, memory and metrics endpoints: cheap, honest, and never loading a model themselves."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from policywise.index.store import current_generation
from policywise.web.headers import SECURITY_HEADERS, request_id
from policywise.web.openapi import OPENAPI
from policywise.web.services import Services

bp = Blueprint("health", __name__)
WSGIApp = Callable[[dict, Callable], Any]

# A health body this recent is sent again while no component changed state: monitors poll every few
# seconds, load balancers more often, and under load building it cost a tenth of the request. Only the
# performance figures can be this much older; every status is current.
HEALTH_BODY_MAX_AGE_S = 0.25


def _svc() -> Services:
    return current_app.extensions["policywise"]


def _component(status: str, detail: str | None = None, **extra: object) -> dict:
    out: dict = {"status": status}
    if detail:
        out["detail"] = detail
    out.update(extra)
    return out


def health_report(svc: Services) -> dict:
    loaded = svc.assistant.components()
    settings = svc.settings
    if svc.warm_error and not loaded["vectors_loaded"]:
        vector = _component("down", svc.warm_error)
    elif loaded["vectors_loaded"]:
        index = svc.assistant.retriever.index
        vector = _component(
            "operational",
            chunks=index.manifest.chunk_count,
            search=index.dense_backend,
            generation=index.generation.name,
        )
    elif settings.chroma_host or current_generation(settings.vector_store_path) is not None:
        vector = _component("not_loaded", "the index loads on first use or during warm-up")
    else:
        vector = _component("down", f"no index at {settings.vector_store_path}")
    embedding = _component(
        "operational" if loaded["model_loaded"] else "not_loaded", None, model=settings.embedding_model
    )
    llm = svc.assistant.llm
    if llm is None:
        llm_status = _component(
            "degraded", "no LLM configured: answers are extractive", provider="extractive"
        )
    else:
        breaker = llm.breaker.snapshot()
        state = breaker["state"]
        llm_status = _component(
            "operational" if state == "closed" else "degraded",
            None if state == "closed" else f"circuit {state}: answers fall back to extractive",
            provider=f"llm:{llm.model}",
            circuit=state,
        )
        svc.metrics.set_circuit_state(state)
    mem_state = svc.memory_state()
    memory = _component(
        {"ok": "operational", "soft": "degraded", "hard": "degraded"}[mem_state],
        None if mem_state == "ok" else f"memory {mem_state} limit reached",
    )
    components = {
        "vector_store": vector,
        "llm_service": llm_status,
        "embedding_service": embedding,
        "memory_manager": memory,
    }
    if vector["status"] == "down":
        overall = "unhealthy"
    elif mem_state != "ok" or (llm is not None and llm_status["status"] == "degraded"):
        overall = "degraded"
    else:
        # No LLM configured is the offline default, not a fault: it is reported, not penalised.
        overall = "healthy"
    rss = svc.memory.last_rss_mb
    svc.metrics.set_rss(rss)
    return {
        "status": overall,
        "components": components,
        "performance": {
            "memory_usage_mb": round(rss, 1),
            "response_time_avg_ms": round(svc.metrics.avg_response_ms(), 2),
            "uptime_hours": svc.uptime_hours,
        },
    }


@bp.get("/health")
def health() -> Response:
    # Served by HealthFastPath below; this view answers requests the fast path hands on (CORS).
    body, status = health_body(_svc())
    resp = Response(body, status=status, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def health_body(svc: Services) -> tuple[bytes, int]:
    """The /health JSON and its HTTP status, reused while recent and no component changed state."""
    state = _health_state(svc)
    now = time.monotonic()
    cached = svc.health_body
    if cached is None or cached[1] != state or now - cached[0] > HEALTH_BODY_MAX_AGE_S:
        report = health_report(svc)
        status = 503 if report["status"] == "unhealthy" else 200
        cached = (now, state, json.dumps(report).encode(), status)
        svc.health_body = cached
    return cached[2], cached[3]


class HealthFastPath:
    """WSGI middleware answering ``GET /health`` before Flask's request machinery.

    Load balancers and monitors poll /health far more often than people ask questions; under load
    Flask's request context, routing and hooks were most of its cost (p95 12-15 ms at 30 clients on
    two cores, a constant Flask view ~11 ms; served here ~9 ms: docs/benchmarks.md). The body, status,
    headers and metrics are those of the Flask view; a request with an Origin (CORS) goes through Flask.
    """

    def __init__(self, app: WSGIApp, svc: Services) -> None:
        self.app = app
        self.svc = svc

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") != "/health"
            or environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_ORIGIN" in environ
        ):
            return self.app(environ, start_response)
        started = time.perf_counter()
        body, status = health_body(self.svc)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Request-ID", request_id(environ.get("HTTP_X_REQUEST_ID", ""))),
            *SECURITY_HEADERS,
        ]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        self.svc.metrics.observe_request("/health", "GET", status, time.perf_counter() - started)
        return [body]


def _health_state(svc: Services) -> tuple:
    """Everything a status in the report depends on, read without loading or touching files."""
    a = svc.assistant
    r = a.opened_retriever
    llm = a.llm
    return (
        r is not None and r.embedder.loaded,
        r is not None and r.index.dense_loaded,
        r.index.generation.name if r is not None else None,
        svc.warm_error,
        llm.breaker.state if llm is not None else None,
        svc.memory_state(),
    )


@bp.get("/health/memory")
def health_memory() -> Response:
    svc = _svc()
    stats = svc.memory.stats()
    stats["embedding_model"] = svc.settings.embedding_model
    stats["worker_pid"] = os.getpid()
    r = svc.assistant.opened_retriever  # never open the index from a health check
    stats["vector_db_size_mb"] = round(r.index.size_bytes() / 2**20, 2) if r is not None else None
    return jsonify(stats)


@bp.get("/metrics")
def metrics() -> Response:
    svc = _svc()
    svc.metrics.set_rss(svc.memory.rss_mb())
    r = svc.assistant.opened_retriever
    if r is not None:
        svc.metrics.set_index_chunks(r.index.manifest.chunk_count)
    if svc.assistant.llm is not None:
        svc.metrics.set_circuit_state(svc.assistant.llm.breaker.state)
    body, content_type = svc.metrics.render()
    return Response(body, content_type=content_type)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(OPENAPI)
