"""A thread-safe circuit breaker for calls to a flaky dependency (the LLM API).

After ``failure_threshold`` consecutive failed calls the circuit opens and callers fail fast
(PolicyWise falls back to its extractive answer) instead of paying a timeout on every question.
Once ``reset_timeout_s`` has passed it turns half-open and lets a single probe through: success
closes it, failure re-opens it for another full ``reset_timeout_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

_MAX_ERROR_CHARS = 200


class CircuitBreaker:
    """Closed -> open after N consecutive failures -> half-open after a cool-down -> closed on success."""

    def __init__(
        self,
        failure_threshold: int = 3,
        reset_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_timeout_s < 0:
            raise ValueError("reset_timeout_s must not be negative")
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_mono: float | None = None
        self._opened_wall: str | None = None
        self._last_error = ""
        self._opens_total = 0
        # When the half-open probe was let through; None means the probe slot is free.
        self._probe_started: float | None = None

    @property
    def state(self) -> str:
        with self._lock:
            return self._current_state()

    def allow(self) -> bool:
        """Whether a call may go ahead now; in half-open, True for exactly one caller at a time."""
        with self._lock:
            state = self._current_state()
            if state == CLOSED:
                return True
            if state == OPEN:
                return False
            now = self._clock()
            # A probe whose caller never reported back (crashed thread, abandoned generator) must not
            # wedge the breaker half-open forever, so its slot expires after another cool-down.
            if self._probe_started is None or now - self._probe_started >= self.reset_timeout_s:
                self._probe_started = now
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            was = self._current_state()
            self._state = CLOSED
            self._failures = 0
            self._opened_mono = None
            self._opened_wall = None
            self._probe_started = None
        if was != CLOSED:
            logger.info("circuit closed (was %s)", was)

    def record_failure(self, error: str = "") -> None:
        with self._lock:
            state = self._current_state()
            self._failures += 1
            self._last_error = error[:_MAX_ERROR_CHARS]
            if state == HALF_OPEN or (state == CLOSED and self._failures >= self.failure_threshold):
                self._open()
                opened, failures = True, self._failures
            else:
                opened, failures = False, self._failures
        if opened:
            logger.warning(
                "circuit opened after %d consecutive failures (last: %s); retry in %.1fs",
                failures,
                error[:_MAX_ERROR_CHARS] or "unknown",
                self.reset_timeout_s,
            )

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "state": self._current_state(),
                "consecutive_failures": self._failures,
                "opened_at": self._opened_wall,
                "last_error": self._last_error,
                "opens_total": self._opens_total,
            }

    # Both helpers expect the lock to be held.
    def _current_state(self) -> str:
        if (
            self._state == OPEN
            and self._opened_mono is not None
            and self._clock() - self._opened_mono >= self.reset_timeout_s
        ):
            self._state = HALF_OPEN
            self._probe_started = None
        return self._state

    def _open(self) -> None:
        self._state = OPEN
        self._opened_mono = self._clock()
        # Wall-clock time is only for humans reading /health; the injected clock drives the logic.
        self._opened_wall = datetime.now(UTC).isoformat(timespec="seconds")
        self._opens_total += 1
        self._probe_started = None
