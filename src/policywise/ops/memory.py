"""Process memory guard: knows the memory budget, measures RSS and says when to degrade or shed load.

The budget is the container's cgroup limit when there is one (the kernel OOM-kills at that line, not
at the host's RAM), else a configured fallback. Above the soft threshold the service collects garbage
and degrades (smaller retrieval, extractive answers); above the hard threshold it refuses new work.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from policywise.config import Settings

logger = logging.getLogger(__name__)

OK = "ok"
SOFT = "soft"
HARD = "hard"

_MB = 1024 * 1024
# cgroup v1 reports "no limit" as a huge page-aligned number (2**63 rounded down); anything this far
# beyond real hardware cannot be a deliberate limit.
_ABSURD_LIMIT_BYTES = 1 << 50  # 1 PiB


def read_cgroup_limit_mb(cgroup_root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The cgroup memory limit in MB (v2 first, then v1), or None when there is none or it is unreadable."""
    candidates = (cgroup_root / "memory.max", cgroup_root / "memory" / "memory.limit_in_bytes")
    for path in candidates:
        try:
            raw = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if raw == "max":
            continue
        try:
            limit = int(raw)
        except ValueError:
            logger.warning("ignoring unparseable cgroup memory limit %r in %s", raw, path)
            continue
        if limit <= 0 or limit >= _ABSURD_LIMIT_BYTES:
            continue
        # A limit above the host's RAM never binds, so it says nothing about the real budget.
        if limit > psutil.virtual_memory().total:
            continue
        return limit / _MB
    return None


class MemoryManager:
    """Thread-safe RSS watcher with soft/hard thresholds expressed as ratios of the memory limit."""

    def __init__(
        self,
        limit_mb: float | None = None,
        soft_ratio: float = 0.75,
        hard_ratio: float = 0.90,
        fallback_limit_mb: float = 512.0,
        gc_interval_s: float = 5.0,
        cgroup_root: Path = Path("/sys/fs/cgroup"),
        clock: Callable[[], float] = time.monotonic,
        process: psutil.Process | None = None,
    ) -> None:
        """``process``: whose memory to watch (this process by default)."""
        if not 0 < soft_ratio < hard_ratio <= 1:
            raise ValueError("need 0 < soft_ratio < hard_ratio <= 1")
        if gc_interval_s < 0:
            raise ValueError("gc_interval_s must not be negative")
        if limit_mb is not None:
            limit, source = float(limit_mb), "explicit"
        else:
            cgroup_mb = read_cgroup_limit_mb(cgroup_root)
            if cgroup_mb is not None:
                limit, source = cgroup_mb, "cgroup"
            else:
                limit, source = float(fallback_limit_mb), "default"
        if limit <= 0:
            raise ValueError(f"memory limit must be positive, got {limit} MB ({source})")
        self.limit_mb = limit
        self.limit_source = source
        self.soft_ratio = soft_ratio
        self.hard_ratio = hard_ratio
        self.gc_interval_s = gc_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._fixed_process = process
        self._own: psutil.Process | None = None
        self._peak_mb = 0.0
        self._last_mb: float | None = None
        self._read_at = 0.0
        self._gc_collections = 0
        self._last_gc: float | None = None
        self._components: dict[str, float] = {}
        # Classify once without collecting so `state` is meaningful before the first check().
        self._state = self._classify(self.rss_mb())
        logger.info(
            "memory limit %.0f MB (%s); soft %.0f MB, hard %.0f MB",
            self.limit_mb,
            source,
            self.soft_limit_mb,
            self.hard_limit_mb,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> MemoryManager:
        """A cgroup limit wins when present; MEMORY_LIMIT_MB is the budget outside containers."""
        return cls(
            limit_mb=None,
            soft_ratio=settings.memory_soft_ratio,
            hard_ratio=settings.memory_hard_ratio,
            fallback_limit_mb=settings.memory_limit_mb,
            **kwargs,
        )

    @property
    def soft_limit_mb(self) -> float:
        return self.limit_mb * self.soft_ratio

    @property
    def hard_limit_mb(self) -> float:
        return self.limit_mb * self.hard_ratio

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def rss_mb(self, max_age_s: float = 0.0) -> float:
        """Resident memory now; or the last reading if it is at most ``max_age_s`` old."""
        if max_age_s > 0:
            with self._lock:
                last, read_at = self._last_mb, self._read_at
            if last is not None and time.monotonic() - read_at <= max_age_s:
                return last
        rss = self._proc().memory_info().rss / _MB
        with self._lock:
            self._peak_mb = max(self._peak_mb, rss)
            self._last_mb = rss
            self._read_at = time.monotonic()
        return rss

    def _proc(self) -> psutil.Process:
        # This manager is created in a gunicorn master that preloads and then forks: each worker
        # must measure itself, not the master whose pid a psutil.Process() made there would keep.
        if self._fixed_process is not None:
            return self._fixed_process
        own = self._own
        if own is None or own.pid != os.getpid():
            own = self._own = psutil.Process(os.getpid())
            with self._lock:
                self._last_mb, self._peak_mb = None, 0.0
        return own

    @property
    def last_rss_mb(self) -> float:
        """The latest reading (as of the last check), without reading /proc again."""
        with self._lock:
            last = self._last_mb
        return last if last is not None else self.rss_mb()

    def _classify(self, rss: float) -> str:
        if rss >= self.hard_limit_mb:
            return HARD
        if rss >= self.soft_limit_mb:
            return SOFT
        return OK

    def check(self, max_age_s: float = 0.0) -> str:
        """Measure and classify; under pressure collect garbage first so we don't degrade needlessly.

        ``max_age_s``: reuse a reading that recent (a busy server need not read /proc per request).
        """
        rss = self.rss_mb(max_age_s)
        state = self._classify(rss)
        if state != OK and self._claim_gc_slot():
            # Collect outside the lock: a full collection can take tens of ms and other request
            # threads only need to read the state meanwhile.
            self._run_gc()
            rss = self.rss_mb()
            state = self._classify(rss)
        with self._lock:
            previous, self._state = self._state, state
        if state != previous:
            log = logger.info if state == OK else logger.warning
            log("memory state %s -> %s (rss %.0f MB of %.0f MB)", previous, state, rss, self.limit_mb)
        return state

    def _claim_gc_slot(self) -> bool:
        # Rate-limited because under sustained pressure every request would otherwise pay for a full
        # collection that cannot free memory that is genuinely in use.
        now = self._clock()
        with self._lock:
            if self._last_gc is not None and now - self._last_gc < self.gc_interval_s:
                return False
            self._last_gc = now
            return True

    def _run_gc(self) -> int:
        collected = gc.collect()
        with self._lock:
            self._gc_collections += 1
        logger.debug("gc.collect() freed %d objects", collected)
        return collected

    def collect(self) -> int:
        """Collect now regardless of the rate limit; also restarts the rate-limit interval."""
        with self._lock:
            self._last_gc = self._clock()
        return self._run_gc()

    def track(self, component: str, mb: float) -> None:
        with self._lock:
            self._components[component] = round(float(mb), 1)

    def stats(self) -> dict[str, Any]:
        rss = self.rss_mb()
        with self._lock:
            return {
                "memory_usage_mb": round(rss, 1),
                "memory_available_mb": round(max(self.limit_mb - rss, 0.0), 1),
                "memory_utilization": round(min(max(rss / self.limit_mb, 0.0), 1.0), 3),
                "peak_rss_mb": round(self._peak_mb, 1),
                "limit_mb": round(self.limit_mb, 1),
                "limit_source": self.limit_source,
                "soft_limit_mb": round(self.soft_limit_mb, 1),
                "hard_limit_mb": round(self.hard_limit_mb, 1),
                "state": self._state,
                "gc_collections": self._gc_collections,
                "gc_stats": [dict(generation) for generation in gc.get_stats()],
                "components": dict(self._components),
            }
