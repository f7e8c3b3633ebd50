"""A real, scriptable OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

Each request to POST /v1/chat/completions consumes the next scripted behaviour; with the script
empty it answers ``default_text``. Requests are recorded so tests can assert on what was sent.

    from llm_server import llm_server  # noqa: F401  (the pytest fixture)

    def test_x(llm_server):
        llm_server.script([Status(503), Reply("Eighteen days.")])
        ...  # point a client at llm_server.base_url
        assert llm_server.requests[0]["model"] == "test-model"
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CHAT_PATH = "/v1/chat/completions"


# Behaviours -------------------------------------------------------------------------------------


@dataclass
class Reply:
    """A normal answer; sent as SSE chunks when the request asked to stream."""

    text: str
    finish_reason: str = "stop"

    def respond(self, handler: _Handler, request: dict) -> None:
        if request.get("stream"):
            StreamReply(self.text, finish_reason=self.finish_reason).respond(handler, request)
            return
        _send_json(handler, 200, _completion(self.text, request, self.finish_reason))


@dataclass
class Status:
    """An HTTP error status, with optional headers (e.g. Retry-After) and raw body."""

    code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    def respond(self, handler: _Handler, request: dict) -> None:
        body = self.body
        if body is None:
            error = {"message": f"scripted status {self.code}", "type": "scripted", "code": self.code}
            body = json.dumps({"error": error})
        _send_raw(handler, self.code, body.encode(), "application/json", self.headers)


@dataclass
class Hang:
    """Say nothing for ``seconds`` (the client should time out), then answer with ``then``."""

    seconds: float
    then: Reply | None = None

    def respond(self, handler: _Handler, request: dict) -> None:
        # An Event rather than sleep() so that stopping the server ends the hang at once.
        if handler.server.owner.stopping.wait(self.seconds):
            return
        (self.then or Reply(handler.server.owner.default_text)).respond(handler, request)


@dataclass
class Malformed:
    """A 200 whose body is not a chat completion (invalid JSON by default)."""

    body: str = "{not json"
    content_type: str = "application/json"
    status: int = 200

    def respond(self, handler: _Handler, request: dict) -> None:
        _send_raw(handler, self.status, self.body.encode(), self.content_type, {})


@dataclass
class StreamReply:
    """SSE: a role chunk, ``text`` in ``chunk_size`` pieces ``delay_s`` apart, a finish chunk, [DONE]."""

    text: str
    chunk_size: int = 4
    delay_s: float = 0.0
    finish_reason: str = "stop"

    def respond(self, handler: _Handler, request: dict) -> None:
        sse = _SSEWriter(handler, request)
        for piece in _pieces(self.text, self.chunk_size):
            if self.delay_s and handler.server.owner.stopping.wait(self.delay_s):
                return
            sse.delta(piece)
        sse.finish(self.finish_reason)
        sse.done()


@dataclass
class StreamCut:
    """SSE chunks for ``text_before_cut``, then the connection is closed without a finish or [DONE]."""

    text_before_cut: str
    chunk_size: int = 4

    def respond(self, handler: _Handler, request: dict) -> None:
        sse = _SSEWriter(handler, request)
        for piece in _pieces(self.text_before_cut, self.chunk_size):
            sse.delta(piece)
        # No terminating zero-length chunk: the client sees the body end mid-message.
        handler.close_connection = True


Behaviour = Reply | Status | Hang | Malformed | StreamReply | StreamCut


# Server -----------------------------------------------------------------------------------------


class LLMTestServer:
    """The server plus its script and request log; ``start()`` before use, ``stop()`` after."""

    def __init__(self, default_text: str = "This is the default answer.") -> None:
        self.default_text = default_text
        self.requests: list[dict] = []  # JSON bodies, in arrival order
        self.request_headers: list[dict[str, str]] = []
        self.stopping = threading.Event()
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def script(self, behaviours: Iterable[Behaviour]) -> None:
        """Queue behaviours, consumed one per request after any already queued."""
        with self._lock:
            self._script.extend(behaviours)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> None:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> LLMTestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _take(self, body: dict, headers: dict[str, str]) -> Behaviour:
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(headers)
            return self._script.popleft() if self._script else Reply(self.default_text)


@pytest.fixture
def llm_server() -> Iterator[LLMTestServer]:
    server = LLMTestServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LLMTestServer

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that time out hang up mid-response on purpose; that is the scenario, not a failure.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so responses can be chunked (SSE) and connections kept alive, as real servers do.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; Nagle would hold the second back ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0] != CHAT_PATH:
            _send_json(self, 404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            _send_json(self, 400, {"error": {"message": "request body is not JSON"}})
            return
        behaviour = self.server.owner._take(body, {k.lower(): v for k, v in self.headers.items()})
        try:
            behaviour.respond(self, body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (timeout) before we answered; that is what the test wanted.
            self.close_connection = True


# Wire format ------------------------------------------------------------------------------------


def _completion(text: str, request: dict, finish_reason: str) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "test-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10},
    }


def _send_json(handler: _Handler, status: int, obj: object) -> None:
    _send_raw(handler, status, json.dumps(obj).encode(), "application/json", {})


def _send_raw(
    handler: _Handler, status: int, body: bytes, content_type: str, headers: dict[str, str]
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(size, 1))]


class _SSEWriter:
    """text/event-stream over chunked transfer encoding, one HTTP chunk per event."""

    def __init__(self, handler: _Handler, request: dict) -> None:
        self._handler = handler
        self._id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        self._model = request.get("model", "test-model")
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        self._event(self._chunk({"role": "assistant", "content": ""}, None))

    def delta(self, text: str) -> None:
        self._event(self._chunk({"content": text}, None))

    def finish(self, reason: str) -> None:
        self._event(self._chunk({}, reason))

    def done(self) -> None:
        self._write(b"data: [DONE]\n\n")
        self._handler.wfile.write(b"0\r\n\r\n")
        self._handler.wfile.flush()

    def _chunk(self, delta: dict, finish_reason: str | None) -> dict:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    def _event(self, obj: dict) -> None:
        self._write(f"data: {json.dumps(obj)}\n\n".encode())

    def _write(self, data: bytes) -> None:
        self._handler.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self._handler.wfile.flush()
