"""The JSON API: /chat (answers, optionally streamed), /search, /feedback, /documents."""

from __future__ import annotations

import gc
import html
import json
import logging
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context
from pydantic import BaseModel, ValidationError

from policywise.types import Answer
from policywise.web.errors import ApiError, validation_error
from policywise.web.schemas import ChatRequest, FeedbackRequest, SearchRequest
from policywise.web.services import Services

logger = logging.getLogger(__name__)
bp = Blueprint("api", __name__)


def _svc() -> Services:
    return current_app.extensions["policywise"]


def _parse(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "invalid_json", "the body is not valid JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _guard_memory() -> str:
    """Refuse new work when memory is critical; report 'soft' so callers can do less."""
    state = _svc().memory_state()
    if state == "hard":
        raise ApiError(
            503,
            "overloaded",
            "the service is short of memory; retry in a few seconds",
            headers={"Retry-After": "5"},
        )
    return state


def _with_memory_retry(fn: Callable[[], object]) -> object:
    try:
        return fn()
    except MemoryError:
        # One collection and one retry: a transient peak should not cost the user an error.
        _svc().memory.collect()
        gc.collect()
        return fn()


def citation_url(source: str, section_id: str) -> str:
    return f"/documents/{quote(source)}" + (f"#sec-{section_id}" if section_id else "")


def answer_payload(answer: Answer, conversation_id: str) -> dict:
    data = answer.to_dict()
    data["answer_id"] = data.pop("id")
    data["conversation_id"] = conversation_id
    for c in data["citations"]:
        c["url"] = citation_url(c["source"], c.get("section_id", ""))
    return data


@bp.post("/chat")
def chat() -> Response:
    req: ChatRequest = _parse(ChatRequest)  # type: ignore[assignment]
    svc = _svc()
    state = _guard_memory()
    provider = "extractive" if state == "soft" else req.provider
    conversation_id = req.conversation_id or svc.conversations.new_id()
    history = svc.conversations.history(conversation_id)
    wants_stream = req.stream or "text/event-stream" in request.headers.get("Accept", "")
    if wants_stream:
        return _stream_chat(svc, req.message, history, provider, conversation_id)
    started = time.perf_counter()
    answer: Answer = _with_memory_retry(lambda: svc.assistant.ask(req.message, history, provider))  # type: ignore[assignment]
    _record(svc, answer, conversation_id, started)
    return jsonify(answer_payload(answer, conversation_id))


def _stream_chat(
    svc: Services, message: str, history: list, provider: str | None, conversation_id: str
) -> Response:
    request_id = g.get("request_id", "")

    def events() -> Iterator[str]:
        started = time.perf_counter()
        try:
            for item in svc.assistant.stream(message, history, provider):
                if isinstance(item, Answer):
                    _record(svc, item, conversation_id, started)
                    yield _sse("answer", answer_payload(item, conversation_id))
                else:
                    yield _sse("delta", {"text": item})
        except Exception:  # the stream is already open; report in-band
            logger.exception("streaming answer failed (request %s)", request_id)
            yield _sse(
                "error",
                {"error": {"code": "internal_error", "message": "something went wrong", "field": None}},
            )

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(events()), mimetype="text/event-stream", headers=headers)


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _record(svc: Services, answer: Answer, conversation_id: str, started: float) -> None:
    latency = (time.perf_counter() - started) * 1000
    svc.metrics.observe_answer(answer.status, answer.provider.split(":")[0], answer.degraded)
    if answer.degraded_reason and answer.degraded_reason.startswith("llm_"):
        svc.metrics.observe_llm(f"error:{answer.degraded_reason[4:]}")
    elif answer.provider.startswith("llm"):
        svc.metrics.observe_llm("ok")
    if answer.status == "answered":
        svc.conversations.add(conversation_id, answer.question, answer.answer)
    top = answer.citations[0].source if answer.citations else None
    try:
        svc.analytics.record_question(
            answer.id, answer.question, answer.status, latency, answer.provider, top, answer.degraded
        )
    except Exception:  # analytics must never cost the user their answer
        logger.warning("analytics write failed", exc_info=True)
    logger.info(
        "answered",
        extra={"answer_status": answer.status, "provider": answer.provider, "degraded": answer.degraded},
    )


@bp.post("/search")
def search() -> Response:
    req: SearchRequest = _parse(SearchRequest)  # type: ignore[assignment]
    state = _guard_memory()
    k = min(req.top_k, 3) if state == "soft" else req.top_k
    svc = _svc()
    result = _with_memory_retry(lambda: svc.assistant.retriever.search(req.query, k=k))
    hits = [
        {**h.to_dict(), "rank": i, "url": citation_url(h.source, h.section_id)}
        for i, h in enumerate(result.hits, 1)  # type: ignore[attr-defined]
    ]
    return jsonify(
        {
            "query": req.query,
            "covered": result.covered,  # type: ignore[attr-defined]
            "missing_topics": result.missing_topics,  # type: ignore[attr-defined]
            "topic_not_in_hits": result.topic_not_in_hits,  # type: ignore[attr-defined]
            "fact_not_in_hits": result.fact_not_in_hits,  # type: ignore[attr-defined]
            "hits": hits,
        }
    )


@bp.post("/feedback")
def feedback() -> Response:
    req: FeedbackRequest = _parse(FeedbackRequest)  # type: ignore[assignment]
    known = _svc().analytics.record_feedback(req.answer_id, req.rating, req.comment)
    if not known:
        raise ApiError(404, "unknown_answer", "no answer with this id", "answer_id")
    return jsonify({"ok": True})


@bp.get("/documents")
def documents() -> Response:
    index = _svc().assistant.retriever.index
    files = index.manifest.files
    docs = [
        {
            "source": src,
            "title": d.title,
            "format": d.format,
            "chunks": files[src].chunks if src in files else 0,
            "updated": index.manifest.built_at,
            "url": citation_url(src, ""),
        }
        for src, d in sorted(index.documents.items())
    ]
    return jsonify({"documents": docs, "count": len(docs)})


@bp.get("/documents/<path:source>")
def document(source: str) -> Response:
    doc = _svc().assistant.retriever.index.documents.get(source)
    if doc is None:
        raise ApiError(404, "not_found", "no such document", "source")
    sections = [{"id": s.id, "heading": s.heading, "page": s.page, "text": s.text} for s in doc.sections]
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json":
        return jsonify({"source": source, "title": doc.title, "format": doc.format, "sections": sections})
    return Response(_document_html(doc.title, source, sections), mimetype="text/html")


def _document_html(title: str, source: str, sections: list[dict]) -> str:
    parts = []
    for s in sections:
        heading = s["heading"].split(" > ")[-1] if s["heading"] else ""
        page = f' <span class="page">page {s["page"]}</span>' if s["page"] else ""
        paras = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in s["text"].split("\n\n"))
        parts.append(
            f'<section id="sec-{html.escape(s["id"])}"><h2>{html.escape(heading)}{page}</h2>{paras}</section>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} - PolicyWise</title>"
        '<link rel="stylesheet" href="/static/app.css"></head>'
        f'<body class="doc"><header class="doc-head"><a href="/">&larr; PolicyWise</a>'
        f'<h1>{html.escape(title)}</h1><p class="source">{html.escape(source)}</p></header>'
        f'<main class="doc-body">{"".join(parts)}</main></body></html>'
    )
