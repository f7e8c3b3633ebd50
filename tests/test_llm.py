"""LLMClient against a real local HTTP server speaking the chat-completions protocol (no SDK mocks)."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from email.utils import formatdate

import pytest

from llm_server import (
    Hang,
    Malformed,
    Reply,
    Status,
    StreamCut,
    StreamReply,
    llm_server,  # noqa: F401 - pytest fixture
)
from policywise.answer.llm import LLMClient, LLMConfig, LLMError
from policywise.config import OPENROUTER_BASE_URL, Settings
from policywise.ops.circuit_breaker import CircuitBreaker

API_KEY = "sk-or-v1-TESTSECRET-0123456789abcdef"
MESSAGES = [
    {"role": "system", "content": "Answer only from the policy excerpts."},
    {"role": "user", "content": "How many vacation days do full-time employees get?"},
]


class RecordingSleep:
    """Stands in for time.sleep: records the requested waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeper() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def make_client(llm_server, sleeper):  # noqa: F811 - the fixture imported above
    clients: list[LLMClient] = []

    def make(breaker: CircuitBreaker | None = None, sleep=sleeper, **overrides) -> LLMClient:
        settings = {"model": "test-model", "timeout_s": 2.0, "deadline_s": 5.0, "max_retries": 2}
        settings.update(overrides)
        config = LLMConfig(base_url=llm_server.base_url, api_key=API_KEY, **settings)
        client = LLMClient(config, breaker=breaker, sleep=sleep)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def collect(client: LLMClient, **kwargs) -> tuple[list[str], LLMError | None]:
    pieces: list[str] = []
    try:
        for piece in client.stream(MESSAGES, **kwargs):
            pieces.append(piece)
    except LLMError as err:
        return pieces, err
    return pieces, None


# Happy paths ------------------------------------------------------------------------------------


def test_complete_returns_the_answer_and_sends_the_configured_request(llm_server, make_client):  # noqa: F811
    llm_server.script([Reply("  Full-time employees accrue 18 vacation days per year.\n")])
    client = make_client(max_tokens=123, temperature=0.2)

    answer = client.complete(MESSAGES)

    assert answer == "Full-time employees accrue 18 vacation days per year."
    (body,) = llm_server.requests
    assert body["model"] == "test-model"
    assert body["messages"] == MESSAGES
    assert body["max_tokens"] == 123
    assert body["temperature"] == 0.2
    assert not body.get("stream")
    assert llm_server.request_headers[0]["authorization"] == f"Bearer {API_KEY}"
    assert client.model == "test-model"
    assert client.stats == {"calls": 1, "failures": 0, "retries": 0}
    assert client.breaker.state == "closed"


def test_stream_yields_deltas_that_assemble_the_answer(llm_server, make_client):  # noqa: F811
    text = "Up to 4 unused days may be carried into the next year."
    llm_server.script([StreamReply(text, chunk_size=5)])
    client = make_client()

    pieces, err = collect(client)

    assert err is None
    assert len(pieces) == len(text) // 5 + 1
    assert "".join(pieces) == text
    assert llm_server.requests[0]["stream"] is True
    assert client.stats == {"calls": 1, "failures": 0, "retries": 0}


def test_stream_is_lazy_until_iterated(llm_server, make_client):  # noqa: F811
    client = make_client()
    iterator = client.stream(MESSAGES)
    assert llm_server.requests == []
    assert "".join(iterator) == llm_server.default_text


# Retries ----------------------------------------------------------------------------------------


def test_429_honours_retry_after_seconds(llm_server, make_client, sleeper):  # noqa: F811
    llm_server.script([Status(429, headers={"Retry-After": "1"}), Reply("ok")])
    client = make_client()

    assert client.complete(MESSAGES) == "ok"
    assert sleeper.waits == [1.0]
    assert len(llm_server.requests) == 2
    assert client.stats == {"calls": 1, "failures": 0, "retries": 1}


def test_429_honours_retry_after_http_date(llm_server, make_client, sleeper):  # noqa: F811
    llm_server.script(
        [Status(429, headers={"Retry-After": formatdate(time.time() + 3, usegmt=True)}), Reply("ok")]
    )
    client = make_client()

    assert client.complete(MESSAGES) == "ok"
    (wait,) = sleeper.waits
    assert 1.5 <= wait <= 3.0  # HTTP-dates have one-second resolution


def test_retry_after_is_capped_at_backoff_max(llm_server, make_client, sleeper):  # noqa: F811
    llm_server.script([Status(429, headers={"Retry-After": "120"}), Reply("ok")])
    client = make_client(backoff_max_s=2.0, deadline_s=10.0)

    assert client.complete(MESSAGES) == "ok"
    assert sleeper.waits == [2.0]


def test_real_sleep_for_retry_after(llm_server, make_client):  # noqa: F811
    llm_server.script([Status(429, headers={"Retry-After": "0.3"}), Reply("ok")])
    client = make_client(sleep=time.sleep)

    started = time.monotonic()
    assert client.complete(MESSAGES) == "ok"
    assert 0.3 <= time.monotonic() - started < 1.5


def test_5xx_then_success_with_jittered_exponential_backoff(llm_server, make_client, sleeper):  # noqa: F811
    llm_server.script([Status(500), Status(502), Reply("recovered")])
    client = make_client(backoff_base_s=0.5)

    assert client.complete(MESSAGES) == "recovered"
    assert len(llm_server.requests) == 3
    first, second = sleeper.waits
    assert 0 <= first <= 0.5 and 0 <= second <= 1.0
    assert client.stats == {"calls": 1, "failures": 0, "retries": 2}
    assert client.breaker.snapshot()["consecutive_failures"] == 0


def test_5xx_exhausting_retries_is_one_breaker_failure(llm_server, make_client, sleeper):  # noqa: F811
    llm_server.script([Status(500), Status(503), Status(500)])
    breaker = CircuitBreaker(failure_threshold=3)
    client = make_client(breaker=breaker, max_retries=2)

    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)

    assert info.value.kind == "server_error"
    assert info.value.retryable
    assert info.value.status == 500
    assert len(llm_server.requests) == 3
    assert len(sleeper.waits) == 2
    snap = breaker.snapshot()
    assert snap["consecutive_failures"] == 1
    assert snap["state"] == "closed"
    assert snap["last_error"] == "server_error (HTTP 500)"
    assert client.stats == {"calls": 1, "failures": 1, "retries": 2}


def test_200_with_embedded_provider_error_is_retried(llm_server, make_client):  # noqa: F811
    # OpenRouter reports some upstream failures as HTTP 200 with an "error" object.
    llm_server.script([Malformed(body='{"error": {"message": "upstream failed", "code": 502}}'), Reply("ok")])
    client = make_client()
    assert client.complete(MESSAGES) == "ok"
    assert len(llm_server.requests) == 2


# Timeouts and the deadline ----------------------------------------------------------------------


def test_hang_past_timeout_raises_timeout(llm_server, make_client):  # noqa: F811
    llm_server.script([Hang(3)])
    client = make_client(timeout_s=0.3, max_retries=0)

    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)

    assert info.value.kind == "timeout"
    assert info.value.retryable
    assert time.monotonic() - started < 1.0


def test_timeout_then_success(llm_server, make_client):  # noqa: F811
    llm_server.script([Hang(3), Reply("second time lucky")])
    client = make_client(timeout_s=0.3)
    assert client.complete(MESSAGES) == "second time lucky"
    assert client.stats["retries"] == 1


def test_repeated_hangs_stop_at_the_overall_deadline(llm_server, make_client):  # noqa: F811
    llm_server.script([Hang(3)] * 10)
    client = make_client(sleep=time.sleep, timeout_s=0.3, deadline_s=0.8, max_retries=10, backoff_base_s=0.05)

    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)
    elapsed = time.monotonic() - started

    assert info.value.kind == "deadline"
    assert not info.value.retryable
    assert elapsed < 0.8 + 0.4
    assert len(llm_server.requests) >= 2


def test_explicit_deadline_shortens_the_attempt_timeout(llm_server, make_client):  # noqa: F811
    llm_server.script([Hang(3)])
    client = make_client(timeout_s=5.0)

    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES, deadline=time.monotonic() + 0.4)

    assert info.value.kind == "deadline"
    assert time.monotonic() - started < 0.8


def test_backoff_that_would_cross_the_deadline_is_not_slept(llm_server, make_client, sleeper):  # noqa: F811
    llm_server.script([Status(429, headers={"Retry-After": "5"}), Reply("too late")])
    client = make_client(deadline_s=1.0)

    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)

    assert info.value.kind == "deadline"
    assert sleeper.waits == []
    assert len(llm_server.requests) == 1


def test_deadline_already_passed_sends_nothing(llm_server, make_client):  # noqa: F811
    client = make_client()
    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES, deadline=time.monotonic() - 1)
    assert info.value.kind == "deadline"
    assert llm_server.requests == []


# Non-retryable failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour",
    [
        Malformed("{not json"),
        Malformed("plain text, not a completion", content_type="text/plain"),
        Malformed("{}"),
        Malformed('{"choices": []}'),
        Malformed('{"choices": [{"index": 0, "message": {"role": "assistant", "content": null}}]}'),
        Malformed('{"choices": [{"index": 0, "message": {"role": "assistant", "content": "  "}}]}'),
    ],
    ids=["invalid-json", "not-json-content-type", "no-choices", "empty-choices", "null-content", "blank"],
)
def test_malformed_response_is_bad_response(llm_server, make_client, behaviour):  # noqa: F811
    llm_server.script([behaviour])
    client = make_client()

    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)

    assert info.value.kind == "bad_response"
    assert not info.value.retryable
    assert len(llm_server.requests) == 1


@pytest.mark.parametrize("code", [400, 401, 404, 422])
def test_4xx_is_client_error_and_not_retried(llm_server, make_client, sleeper, code):  # noqa: F811
    llm_server.script([Status(code), Reply("never reached")])
    client = make_client()

    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)

    assert info.value.kind == "client_error"
    assert info.value.status == code
    assert not info.value.retryable
    assert len(llm_server.requests) == 1
    assert sleeper.waits == []


def test_connection_refused_is_connection_error(sleeper):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, model="m", max_retries=1)
    client = LLMClient(config, sleep=sleeper)
    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)
    assert info.value.kind == "connection"
    assert len(sleeper.waits) == 1
    client.close()


# Streaming failures -----------------------------------------------------------------------------


def test_stream_cut_mid_way_yields_partial_text_then_raises(llm_server, make_client):  # noqa: F811
    llm_server.script([StreamCut("Receipts are required ab", chunk_size=6)])
    client = make_client()

    pieces, err = collect(client)

    assert "".join(pieces) == "Receipts are required ab"
    assert err is not None and err.kind in ("connection", "bad_response")
    # Text was already handed to the caller, so the attempt is not repeated.
    assert len(llm_server.requests) == 1
    assert client.stats == {"calls": 1, "failures": 1, "retries": 0}
    assert client.breaker.snapshot()["consecutive_failures"] == 1


def test_stream_cut_before_any_text_is_retried(llm_server, make_client):  # noqa: F811
    llm_server.script([StreamCut(""), StreamReply("Submit claims within 45 days.")])
    client = make_client()

    pieces, err = collect(client)

    assert err is None
    assert "".join(pieces) == "Submit claims within 45 days."
    assert len(llm_server.requests) == 2


def test_stream_error_status_is_retried_like_complete(llm_server, make_client, sleeper):  # noqa: F811
    llm_server.script([Status(503), StreamReply("fine now")])
    client = make_client()
    pieces, err = collect(client)
    assert err is None and "".join(pieces) == "fine now"
    assert len(sleeper.waits) == 1


def test_slow_stream_stops_at_the_deadline_after_yielding_what_arrived(llm_server, make_client):  # noqa: F811
    llm_server.script([StreamReply("a" * 40, chunk_size=2, delay_s=0.1)])
    client = make_client(timeout_s=1.0, deadline_s=0.35)

    started = time.monotonic()
    pieces, err = collect(client)

    assert err is not None and err.kind == "deadline"
    assert 1 <= len(pieces) < 20
    assert time.monotonic() - started < 0.7


def test_stream_hang_mid_way_is_bounded_by_the_read_timeout(llm_server, make_client):  # noqa: F811
    llm_server.script([StreamReply("abcdefgh", chunk_size=4, delay_s=2.0)])
    client = make_client(timeout_s=0.3, max_retries=0)
    started = time.monotonic()
    pieces, err = collect(client)
    assert pieces == []
    assert err is not None and err.kind == "timeout"
    assert time.monotonic() - started < 1.0


def test_abandoning_a_stream_closes_a_half_open_probe(llm_server, make_client):  # noqa: F811
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10, clock=clock)
    breaker.record_failure("earlier outage")
    clock.now += 10
    llm_server.script([StreamReply("first words and more", chunk_size=3)])
    client = make_client(breaker=breaker)

    stream = client.stream(MESSAGES)
    assert next(stream) == "fir"
    stream.close()

    assert breaker.state == "closed"


# Circuit breaker --------------------------------------------------------------------------------


def test_breaker_opens_fails_fast_then_half_open_probe_closes_it(llm_server, make_client):  # noqa: F811
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=30, clock=clock)
    client = make_client(breaker=breaker, max_retries=0)
    llm_server.script([Status(500), Status(500)])

    for _ in range(2):
        with pytest.raises(LLMError) as info:
            client.complete(MESSAGES)
        assert info.value.kind == "server_error"
    assert breaker.state == "open"

    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)
    assert info.value.kind == "circuit_open"
    assert not info.value.retryable
    pieces, err = collect(client)
    assert pieces == [] and err is not None and err.kind == "circuit_open"
    assert len(llm_server.requests) == 2  # nothing reached the server while open

    clock.now += 30
    assert breaker.state == "half_open"
    llm_server.script([Reply("back online")])
    assert client.complete(MESSAGES) == "back online"
    assert breaker.state == "closed"
    assert breaker.snapshot()["opens_total"] == 1


def test_failed_half_open_probe_reopens(llm_server, make_client):  # noqa: F811
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=30, clock=clock)
    client = make_client(breaker=breaker, max_retries=0)
    llm_server.script([Status(500), Status(500)])

    with pytest.raises(LLMError):
        client.complete(MESSAGES)
    clock.now += 30
    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)
    assert info.value.kind == "server_error"
    assert breaker.state == "open"
    assert breaker.snapshot()["opens_total"] == 2
    with pytest.raises(LLMError) as info:
        client.complete(MESSAGES)
    assert info.value.kind == "circuit_open"
    assert len(llm_server.requests) == 2


# Secrets ----------------------------------------------------------------------------------------


def test_api_key_never_appears_in_errors_or_logs(llm_server, make_client, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    echo = f'{{"error": {{"message": "Incorrect API key provided: {API_KEY}"}}}}'
    llm_server.script(
        [Status(401, body=echo), Status(500, body=echo), Status(500), Hang(3), Hang(3), StreamCut("partial")]
    )
    client = make_client(breaker=CircuitBreaker(failure_threshold=100), timeout_s=0.3, max_retries=1)

    errors: list[LLMError] = []
    for call in (client.complete, client.complete, client.complete):
        with pytest.raises(LLMError) as info:
            call(MESSAGES)
        errors.append(info.value)
    errors.append(collect(client)[1])

    assert [e.kind for e in errors] == ["client_error", "server_error", "timeout", "connection"]
    assert "Incorrect API key provided: ***" in str(errors[0])
    for err in errors:
        rendered = str(err) + repr(err) + "".join(traceback.format_exception(err))
        assert API_KEY not in rendered
    assert caplog.records, "expected the client to log"
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert MESSAGES[1]["content"] not in record.getMessage()
    assert API_KEY not in repr(client._config)


# Config and plumbing ----------------------------------------------------------------------------


def test_config_from_settings_openrouter_and_custom_endpoint():
    openrouter = LLMConfig.from_settings(Settings(openrouter_api_key="sk-or-x", llm_model="some/model:free"))
    assert (openrouter.base_url, openrouter.api_key, openrouter.model) == (
        OPENROUTER_BASE_URL,
        "sk-or-x",
        "some/model:free",
    )
    local = LLMConfig.from_settings(
        Settings(
            llm_base_url="http://localhost:8080/v1", llm_timeout_s=3, llm_deadline_s=7, llm_max_retries=1
        )
    )
    assert local.base_url == "http://localhost:8080/v1"
    assert local.api_key == "not-needed"
    assert (local.timeout_s, local.deadline_s, local.max_retries) == (3, 7, 1)


def test_empty_base_url_is_rejected():
    with pytest.raises(ValueError):
        LLMClient(LLMConfig(base_url="", api_key="", model="m"))


def test_concurrent_calls_share_one_client_and_count_exactly(llm_server, make_client):  # noqa: F811
    client = make_client()
    results: list[str] = []
    lock = threading.Lock()

    def ask() -> None:
        answer = client.complete(MESSAGES)
        with lock:
            results.append(answer)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [llm_server.default_text] * 8
    assert client.stats == {"calls": 8, "failures": 0, "retries": 0}
