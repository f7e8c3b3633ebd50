"""LLM calls through any OpenAI-compatible chat-completions API (OpenRouter, llama.cpp, vLLM, Ollama).

The SDK's own retries are switched off (``max_retries=0``): this module runs the retry loop itself
so that one overall deadline bounds the whole answer (the caller falls back to the extractive answer
when it passes), ``Retry-After`` is honoured but capped, and the circuit breaker sees one outcome per
call rather than one per attempt. Every failure surfaces as ``LLMError`` with a small set of kinds.

Nothing here logs or puts into an exception the API key, request headers or message contents.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import httpx2
from openai import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    OpenAI,
    OpenAIError,
)
from openai.types.chat import ChatCompletion

from policywise.answer.errors import ERROR_KINDS, LLMError
from policywise.ops.circuit_breaker import CircuitBreaker

if TYPE_CHECKING:
    from policywise.config import Settings

logger = logging.getLogger(__name__)

__all__ = ["ERROR_KINDS", "LLMClient", "LLMConfig", "LLMError"]

# Exceptions one attempt can raise that mean "the endpoint misbehaved", as opposed to bugs here.
# ValueError covers invalid JSON bodies and SSE events, which the SDK lets through unwrapped.
_ATTEMPT_ERRORS = (OpenAIError, ValueError, httpx2.HTTPError)
_MAX_DETAIL_CHARS = 200


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    api_key: str = field(repr=False)
    model: str
    max_tokens: int = 400
    temperature: float = 0.1
    timeout_s: float = 10.0
    deadline_s: float = 20.0
    max_retries: int = 2
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMConfig:
        base_url, api_key = settings.llm_endpoint
        return cls(
            base_url=base_url,
            api_key=api_key,
            model=settings.llm_model,
            max_tokens=settings.max_tokens,
            temperature=settings.llm_temperature,
            timeout_s=settings.llm_timeout_s,
            deadline_s=settings.llm_deadline_s,
            max_retries=settings.llm_max_retries,
        )


class LLMClient:
    """Chat completions with bounded retries, an overall deadline and a circuit breaker. Thread-safe."""

    def __init__(
        self,
        config: LLMConfig,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not config.base_url:
            raise ValueError("LLM base URL is empty: set OPENROUTER_API_KEY or LLM_BASE_URL")
        if config.max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self._config = config
        self._breaker = breaker if breaker is not None else CircuitBreaker()
        self._sleep = sleep
        self._clock = clock
        # Local servers ignore the key, but the SDK refuses to start without one.
        self._client = OpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "not-needed",
            timeout=config.timeout_s,
            max_retries=0,
        )
        self._stats_lock = threading.Lock()
        self._stats = {"calls": 0, "failures": 0, "retries": 0}

    @property
    def model(self) -> str:
        return self._config.model

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    @property
    def stats(self) -> dict[str, int]:
        """A consistent copy of the counters: calls made, calls that failed, retries taken."""
        with self._stats_lock:
            return dict(self._stats)

    def close(self) -> None:
        """Release pooled HTTP connections."""
        self._client.close()

    def complete(self, messages: list[dict], deadline: float | None = None) -> str:
        """The answer text for ``messages``, or LLMError. ``deadline`` is an absolute ``clock()`` value."""
        deadline = self._resolve_deadline(deadline)
        self._begin_call()
        start = self._clock()
        attempt = 0
        while True:
            timeout, clipped = self._attempt_budget(deadline, attempt, start)
            try:
                text = self._complete_once(messages, timeout)
            except LLMError as err:
                self._back_off(err, attempt, deadline, clipped, start)
                attempt += 1
                continue
            self._succeed(attempt, start, len(text))
            return text

    def stream(self, messages: list[dict], deadline: float | None = None) -> Iterator[str]:
        """Text deltas as they arrive; lazy: the breaker check and the request happen on first ``next()``.

        A failure before any text arrived is retried like ``complete``; once text has been yielded a
        failure raises LLMError straight away (after what arrived), and the caller decides what to
        do with the partial answer.
        """
        return self._stream(messages, self._resolve_deadline(deadline))

    def _stream(self, messages: list[dict], deadline: float) -> Iterator[str]:
        self._begin_call()
        start = self._clock()
        attempt = 0
        chars = 0
        try:
            while True:
                timeout, clipped = self._attempt_budget(deadline, attempt, start)
                pieces = self._stream_once(messages, timeout, deadline)
                try:
                    for piece in pieces:
                        chars += len(piece)
                        yield piece
                except LLMError as err:
                    if chars:
                        self._fail(err, attempt, start)
                    self._back_off(err, attempt, deadline, clipped, start)
                    attempt += 1
                    continue
                finally:
                    # Closes the HTTP response now, also when the caller abandons us mid-stream.
                    pieces.close()
                self._succeed(attempt, start, chars)
                return
        except GeneratorExit:
            # The caller stopped reading. Text did arrive, so the endpoint works; recording that also
            # frees a half-open probe slot that would otherwise stay taken.
            if chars:
                self._breaker.record_success()
            logger.info("LLM stream closed by caller model=%s chars=%d", self._config.model, chars)
            raise

    # One attempt each ---------------------------------------------------------------------------

    def _create(self, messages: list[dict], timeout: float, stream: bool) -> Any:
        """One chat-completions request; SDK errors become LLMError with a kind."""
        try:
            return self._client.chat.completions.create(
                model=self._config.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=self._config.max_tokens,
                temperature=self._config.temperature,
                stream=stream,
                timeout=timeout,
            )
        except _ATTEMPT_ERRORS as exc:
            raise self._classify(exc) from None

    def _complete_once(self, messages: list[dict], timeout: float) -> str:
        response = self._create(messages, timeout, stream=False)
        # A non-JSON content type makes the SDK hand back the raw body as a str.
        if not isinstance(response, ChatCompletion):
            raise LLMError("bad_response", "response is not a chat completion")
        _raise_embedded_error(response)
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise LLMError("bad_response", "response has no choices")
        choice = choices[0]
        content = getattr(getattr(choice, "message", None), "content", None)
        if not isinstance(content, str) or not content.strip():
            raise LLMError("bad_response", "response has no message content")
        if getattr(choice, "finish_reason", None) == "length":
            logger.warning("LLM answer cut at max_tokens=%d model=%s", self._config.max_tokens, self.model)
        return content.strip()

    def _stream_once(
        self, messages: list[dict], timeout: float, deadline: float
    ) -> Generator[str, None, None]:
        stream = self._create(messages, timeout, stream=True)
        finished = False
        chars = 0
        try:
            for chunk in stream:
                _raise_embedded_error(chunk)
                for choice in getattr(chunk, "choices", None) or ():
                    piece = getattr(getattr(choice, "delta", None), "content", None)
                    if isinstance(piece, str) and piece:
                        chars += len(piece)
                        yield piece
                    if getattr(choice, "finish_reason", None):
                        finished = True
                # The SDK's read timeout only bounds each read; a slow trickle needs this check.
                if not finished and self._clock() >= deadline:
                    raise LLMError("deadline", f"stream passed the deadline after {chars} chars")
        except _ATTEMPT_ERRORS as exc:
            raise self._classify(exc) from None
        finally:
            stream.close()
        # [DONE] is not visible through the SDK, but every OpenAI-compatible server ends a complete
        # stream with a finish_reason; a clean EOF without one is a cut connection.
        if not finished:
            raise LLMError("connection", f"stream ended without a finish_reason after {chars} chars")
        if not chars:
            raise LLMError("bad_response", "stream finished without any content")

    # Retry policy --------------------------------------------------------------------------------

    def _resolve_deadline(self, deadline: float | None) -> float:
        return self._clock() + self._config.deadline_s if deadline is None else deadline

    def _begin_call(self) -> None:
        with self._stats_lock:
            self._stats["calls"] += 1
        if not self._breaker.allow():
            with self._stats_lock:
                self._stats["failures"] += 1
            logger.warning("LLM call skipped: circuit open model=%s", self._config.model)
            raise LLMError("circuit_open", "circuit breaker is open; not calling the LLM")

    def _attempt_budget(self, deadline: float, attempt: int, start: float) -> tuple[float, bool]:
        """The next attempt's timeout, and whether the deadline (not timeout_s) set it."""
        left = deadline - self._clock()
        if left <= 0:
            self._fail(LLMError("deadline", f"no time left for attempt {attempt + 1}"), attempt, start)
        return min(self._config.timeout_s, left), left < self._config.timeout_s

    def _back_off(self, err: LLMError, attempt: int, deadline: float, clipped: bool, start: float) -> None:
        """Sleep before the next attempt, or record the call as failed and raise."""
        if err.kind == "timeout" and clipped:
            err = LLMError("deadline", "the attempt cut short by the deadline timed out", status=err.status)
        if not err.retryable or attempt >= self._config.max_retries:
            self._fail(err, attempt, start)
        delay = self._retry_delay(err, attempt)
        if self._clock() + delay >= deadline:
            self._fail(
                LLMError("deadline", f"retry in {delay:.2f}s would pass the deadline (last: {err.kind})"),
                attempt,
                start,
            )
        with self._stats_lock:
            self._stats["retries"] += 1
        logger.warning(
            "LLM attempt %d failed kind=%s status=%s model=%s elapsed=%.2fs; retrying in %.2fs",
            attempt + 1,
            err.kind,
            err.status,
            self._config.model,
            self._clock() - start,
            delay,
        )
        self._sleep(delay)

    def _retry_delay(self, err: LLMError, attempt: int) -> float:
        if err.retry_after is not None:
            return min(max(err.retry_after, 0.0), self._config.backoff_max_s)
        # Full jitter spreads out the retries of concurrent requests that failed together.
        cap = min(self._config.backoff_max_s, self._config.backoff_base_s * 2**attempt)
        return random.uniform(0, cap)

    def _succeed(self, attempt: int, start: float, chars: int) -> None:
        self._breaker.record_success()
        logger.info(
            "LLM answer model=%s attempts=%d elapsed=%.2fs chars=%d",
            self._config.model,
            attempt + 1,
            self._clock() - start,
            chars,
        )

    def _fail(self, err: LLMError, attempt: int, start: float) -> NoReturn:
        with self._stats_lock:
            self._stats["failures"] += 1
        self._breaker.record_failure(err.kind if err.status is None else f"{err.kind} (HTTP {err.status})")
        logger.warning(
            "LLM call failed kind=%s status=%s model=%s attempts=%d elapsed=%.2fs",
            err.kind,
            err.status,
            self._config.model,
            attempt + 1,
            self._clock() - start,
        )
        raise err

    # Error mapping -------------------------------------------------------------------------------

    def _classify(self, exc: Exception) -> LLMError:
        # Order matters: APITimeoutError subclasses APIConnectionError, and both subclass APIError.
        if isinstance(exc, APITimeoutError):
            return LLMError("timeout", "request timed out")
        if isinstance(exc, APIConnectionError):
            return LLMError("connection", "connection failed or was cut")
        if isinstance(exc, APIStatusError):
            status = exc.status_code
            detail = f"HTTP {status}"
            server_message = _server_message(exc.body)
            if server_message:
                detail += f": {self._redact(server_message)[:_MAX_DETAIL_CHARS]}"
            if status == 429:
                kind = "rate_limited"
            elif status == 408:
                kind = "timeout"
            elif status >= 500:
                kind = "server_error"
            else:
                kind = "client_error"
            retry_after = _retry_after(exc.response.headers) if status in (429, 503) else None
            return LLMError(kind, detail, status=status, retry_after=retry_after)
        if isinstance(exc, APIResponseValidationError):
            return LLMError("bad_response", "response did not match the chat-completion schema")
        if isinstance(exc, APIError):
            # An error event inside a 200 stream (OpenRouter relays upstream provider failures this way).
            return LLMError("server_error", f"error event in stream: {self._redact(exc.message)[:200]}")
        if isinstance(exc, ValueError):
            return LLMError("bad_response", "response body is not valid JSON")
        if isinstance(exc, httpx2.HTTPError):
            return LLMError("connection", f"transport error ({type(exc).__name__})")
        return LLMError("bad_response", f"unexpected SDK error ({type(exc).__name__})")

    def _redact(self, text: str) -> str:
        key = self._config.api_key
        # Very short keys would mangle ordinary words; real keys are long.
        if key and len(key) >= 4:
            text = text.replace(key, "***")
        return text


def _raise_embedded_error(obj: object) -> None:
    """OpenRouter can answer HTTP 200 with {"error": {...}} instead of a completion; treat it as a 5xx."""
    extra = getattr(obj, "model_extra", None) or {}
    error = extra.get("error") if isinstance(extra, dict) else None
    if error:
        code = error.get("code") if isinstance(error, dict) else None
        status = code if isinstance(code, int) else None
        kind = "rate_limited" if status == 429 else "server_error"
        raise LLMError(kind, f"provider error in a 200 response (code {code})", status=status)


def _server_message(body: object) -> str:
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str):
            return message
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return ""


def _retry_after(headers: Any) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, Retry-After seconds, or an HTTP-date."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
