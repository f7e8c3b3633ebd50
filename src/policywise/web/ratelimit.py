"""Per-process rate-limit counters for Flask-Limiter, registered as ``local://``.

limits' own ``memory://`` storage expires its keys on a ``threading.Timer`` that it restarts from
every counted request once the last one has fired (every 10 ms). Under load that meant a new thread
for most API requests, and ``Thread.start`` waits until the new thread has run: a request gave up
the GIL to it each time. Here expired counters are swept inline, at most once per ``SWEEP_S``, under
one lock; reading a counter ignores an expired one, so a sweep is only about memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from math import floor
from typing import ClassVar

from limits.storage import SlidingWindowCounterSupport, Storage

SWEEP_S = 10.0


class LocalStorage(Storage, SlidingWindowCounterSupport):
    """Fixed- and sliding-window-counter support, counted in this process only."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["local"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] = time.time,
        **options: float | str | bool,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def __len__(self) -> int:
        return len(self._counts)

    def _live(self, key: str, now: float) -> int:
        entry = self._counts.get(key)
        return entry[0] if entry is not None and entry[1] > now else 0

    def _add(self, key: str, expiry: float, amount: int, now: float) -> int:
        if now >= self._next_sweep:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            self._next_sweep = now + SWEEP_S
        count, expires = self._counts.get(key, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + expiry
        count += amount
        self._counts[key] = (count, expires)
        return count

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        with self._lock:
            return self._add(key, expiry, amount, self._clock())

    def get(self, key: str) -> int:
        with self._lock:
            return self._live(key, self._clock())

    def get_expiry(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            entry = self._counts.get(key)
        return entry[1] if entry is not None and entry[1] > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            n = len(self._counts)
            self._counts.clear()
        return n

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    # The sliding window counter: the current window's count plus the previous window's, weighted
    # by how much of it still overlaps the last ``expiry`` seconds (the same arithmetic as limits').

    @staticmethod
    def _window_keys(key: str, expiry: int, now: float) -> tuple[str, str]:
        return f"{key}/{int((now - expiry) / expiry)}", f"{key}/{int(now / expiry)}"

    def _window(self, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        previous_key, current_key = self._window_keys(key, expiry, now)
        previous = self._live(previous_key, now)
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, self._live(current_key, now), current_ttl

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = self._clock()
        with self._lock:
            previous, previous_ttl, current, _ = self._window(key, expiry, now)
            if floor(previous * previous_ttl / expiry + current) + amount > limit:
                return False
            # Twice the window: the count is still needed as the previous window's.
            self._add(self._window_keys(key, expiry, now)[1], 2 * expiry, amount, now)
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        with self._lock:
            return self._window(key, expiry, self._clock())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        with self._lock:
            for k in self._window_keys(key, expiry, self._clock()):
                self._counts.pop(k, None)
