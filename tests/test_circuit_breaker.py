"""CircuitBreaker: every state transition, driven by a fake clock, plus concurrency."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from policywise.ops.circuit_breaker import CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def tripped(clock: FakeClock, threshold: int = 3, reset: float = 30.0) -> CircuitBreaker:
    breaker = CircuitBreaker(failure_threshold=threshold, reset_timeout_s=reset, clock=clock)
    for _ in range(threshold):
        breaker.record_failure("server_error")
    assert breaker.state == "open"
    return breaker


def test_starts_closed_and_allows(clock):
    breaker = CircuitBreaker(clock=clock)
    assert breaker.state == "closed"
    assert breaker.allow()
    assert breaker.snapshot() == {
        "state": "closed",
        "consecutive_failures": 0,
        "opened_at": None,
        "last_error": "",
        "opens_total": 0,
    }


def test_stays_closed_below_threshold(clock):
    breaker = CircuitBreaker(failure_threshold=3, clock=clock)
    breaker.record_failure("a")
    breaker.record_failure("b")
    assert breaker.state == "closed"
    assert breaker.allow()
    snap = breaker.snapshot()
    assert snap["consecutive_failures"] == 2
    assert snap["last_error"] == "b"


def test_success_resets_the_consecutive_count(clock):
    breaker = CircuitBreaker(failure_threshold=3, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"
    assert breaker.snapshot()["consecutive_failures"] == 2


def test_opens_at_threshold_and_refuses(clock):
    breaker = tripped(clock, threshold=3)
    assert not breaker.allow()
    snap = breaker.snapshot()
    assert snap["state"] == "open"
    assert snap["consecutive_failures"] == 3
    assert snap["opens_total"] == 1
    assert snap["last_error"] == "server_error"
    assert datetime.fromisoformat(snap["opened_at"]).tzinfo is not None


def test_threshold_of_one_opens_on_first_failure(clock):
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)
    breaker.record_failure("x")
    assert breaker.state == "open"


def test_open_turns_half_open_after_reset_timeout(clock):
    breaker = tripped(clock, reset=30.0)
    clock.advance(29.9)
    assert breaker.state == "open"
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.state == "half_open"
    assert breaker.snapshot()["state"] == "half_open"


def test_half_open_allows_exactly_one_probe(clock):
    breaker = tripped(clock)
    clock.advance(30)
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()


def test_probe_success_closes(clock):
    breaker = tripped(clock)
    clock.advance(30)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.allow() and breaker.allow()
    snap = breaker.snapshot()
    assert snap["consecutive_failures"] == 0
    assert snap["opened_at"] is None
    assert snap["opens_total"] == 1


def test_probe_failure_reopens_for_another_full_timeout(clock):
    breaker = tripped(clock, reset=30.0)
    clock.advance(30)
    assert breaker.allow()
    breaker.record_failure("timeout")
    assert breaker.state == "open"
    assert not breaker.allow()
    snap = breaker.snapshot()
    assert snap["opens_total"] == 2
    assert snap["last_error"] == "timeout"
    clock.advance(29)
    assert breaker.state == "open"
    clock.advance(1)
    assert breaker.state == "half_open"
    assert breaker.allow()


def test_late_failure_while_open_does_not_extend_the_cool_down(clock):
    breaker = tripped(clock, reset=30.0)
    clock.advance(20)
    breaker.record_failure("straggler")
    clock.advance(10)
    assert breaker.state == "half_open"
    assert breaker.snapshot()["opens_total"] == 1


def test_abandoned_probe_slot_expires(clock):
    # A probe whose caller never reports back must not keep the breaker half-open forever.
    breaker = tripped(clock, reset=30.0)
    clock.advance(30)
    assert breaker.allow()
    clock.advance(10)
    assert not breaker.allow()
    clock.advance(20)
    assert breaker.allow()


def test_concurrent_probes_in_half_open_only_one_allowed(clock):
    breaker = tripped(clock)
    clock.advance(30)
    n = 32
    barrier = threading.Barrier(n)
    results: list[bool] = []
    lock = threading.Lock()

    def probe() -> None:
        barrier.wait()
        allowed = breaker.allow()
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=probe) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == n
    assert results.count(True) == 1


def test_concurrent_failures_are_all_counted(clock):
    breaker = CircuitBreaker(failure_threshold=10_000, clock=clock)
    threads = [
        threading.Thread(target=lambda: [breaker.record_failure("x") for _ in range(50)]) for _ in range(16)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert breaker.snapshot()["consecutive_failures"] == 800


def test_long_error_is_truncated(clock):
    breaker = CircuitBreaker(clock=clock)
    breaker.record_failure("e" * 5000)
    assert len(breaker.snapshot()["last_error"]) <= 200


@pytest.mark.parametrize("kwargs", [{"failure_threshold": 0}, {"reset_timeout_s": -1}])
def test_rejects_invalid_settings(kwargs):
    with pytest.raises(ValueError):
        CircuitBreaker(**kwargs)
