"""The API description served at /openapi.json (OpenAPI 3.0)."""

from __future__ import annotations

_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string", "nullable": True},
            },
            "required": ["code", "message", "field"],
        }
    },
}
_CITATION = {
    "type": "object",
    "properties": {
        "number": {"type": "integer"},
        "title": {"type": "string"},
        "source": {"type": "string"},
        "section": {"type": "string"},
        "section_id": {"type": "string"},
        "page": {"type": "integer", "nullable": True},
        "chunk_id": {"type": "string"},
        "snippet": {"type": "string"},
        "url": {"type": "string"},
    },
}
_ANSWER = {
    "type": "object",
    "properties": {
        "status": {
            "type": "string",
            "enum": ["answered", "insufficient_evidence", "out_of_scope", "refused"],
        },
        "answer": {"type": "string"},
        "citations": {"type": "array", "items": {"$ref": "#/components/schemas/Citation"}},
        "provider": {"type": "string"},
        "degraded": {"type": "boolean"},
        "degraded_reason": {"type": "string", "nullable": True},
        "reason": {"type": "string", "nullable": True},
        "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
        "question": {"type": "string"},
        "retrieved": {"type": "array", "items": {"type": "object"}},
        "flags": {"type": "array", "items": {"type": "string"}},
        "answer_id": {"type": "string"},
        "conversation_id": {"type": "string"},
    },
}


def _errors(*codes: int) -> dict:
    return {
        str(c): {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for c in codes
    }


def _json_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


OPENAPI: dict = {
    "openapi": "3.0.3",
    "info": {
        "title": "PolicyWise",
        "version": "0.1.0",
        "description": "Answers about company policies, with citations.",
    },
    "paths": {
        "/chat": {
            "post": {
                "summary": "Answer a question. With stream=true or Accept: text/event-stream, "
                "server-sent events: "
                "'delta' {text}, then one 'answer' event with the full Answer.",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["message"],
                        "additionalProperties": False,
                        "properties": {
                            "message": {"type": "string", "minLength": 1, "maxLength": 4000},
                            "conversation_id": {"type": "string", "maxLength": 64},
                            "stream": {"type": "boolean", "default": False},
                            "provider": {"type": "string", "enum": ["extractive", "llm"]},
                        },
                    }
                ),
                "responses": {
                    "200": {
                        "description": "the answer",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Answer"}},
                            "text/event-stream": {"schema": {"type": "string"}},
                        },
                    },
                    **_errors(400, 413, 415, 422, 429, 503),
                },
            }
        },
        "/search": {
            "post": {
                "summary": "Ranked policy passages for a query.",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["query"],
                        "additionalProperties": False,
                        "properties": {
                            "query": {"type": "string", "minLength": 1, "maxLength": 2000},
                            "top_k": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
                        },
                    }
                ),
                "responses": {"200": {"description": "hits"}, **_errors(400, 413, 415, 422, 429, 503)},
            }
        },
        "/feedback": {
            "post": {
                "summary": "Thumbs up or down on an answer.",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["answer_id", "rating"],
                        "additionalProperties": False,
                        "properties": {
                            "answer_id": {"type": "string"},
                            "rating": {"type": "string", "enum": ["up", "down"]},
                            "comment": {"type": "string", "maxLength": 1000},
                        },
                    }
                ),
                "responses": {"200": {"description": "recorded"}, **_errors(400, 404, 415, 422, 429)},
            }
        },
        "/health": {
            "get": {
                "summary": "Component and performance health; 503 when unhealthy.",
                "responses": {"200": {"description": "ok"}, "503": {"description": "unhealthy"}},
            }
        },
        "/health/memory": {
            "get": {"summary": "Memory manager statistics.", "responses": {"200": {"description": "ok"}}}
        },
        "/metrics": {
            "get": {"summary": "Prometheus exposition.", "responses": {"200": {"description": "ok"}}}
        },
        "/documents": {"get": {"summary": "Indexed documents.", "responses": {"200": {"description": "ok"}}}},
        "/documents/{source}": {
            "get": {
                "summary": "A document's text with section anchors "
                "(HTML, or JSON with Accept: application/json).",
                "parameters": [
                    {"name": "source", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}, **_errors(404)},
            }
        },
        "/admin/reindex": {
            "post": {
                "summary": "Incremental, atomic reindex (Bearer ADMIN_TOKEN).",
                "responses": {"200": {"description": "report"}, **_errors(401, 404, 409)},
            }
        },
        "/admin/stats": {
            "get": {
                "summary": "Usage statistics (Bearer ADMIN_TOKEN).",
                "responses": {"200": {"description": "stats"}, **_errors(401, 404)},
            }
        },
    },
    "components": {"schemas": {"Error": _ERROR, "Citation": _CITATION, "Answer": _ANSWER}},
}
