"""gunicorn's threaded worker, accepting a connection only while it holds no more than the least-loaded one.

All workers poll one listening socket and whichever wakes first accepts; a kept-alive connection then stays
with it. Under load one worker ended up with about twice the clients of the other, and its clients waited
twice as long (docs/benchmarks.md, seventh session). Each worker
publishes how many connections it holds on a board the master shares with every worker it forks, and
accepts only while it holds fewer than the least-loaded other live worker + SLACK ("least connections", as
a load balancer would do). The least-loaded worker always accepts, so a connection never
waits for a worker that refuses while another has room; a worker that retires leaves the board at once,
so the others take its clients while it finishes.
"""

from __future__ import annotations

import ctypes
import multiprocessing

from gunicorn.workers.gthread import ThreadWorker

SLOTS = 32  # more than any number of workers this service runs
SLACK = 2
_ABSENT = -1


class ConnectionBoard:
    """Connection counts per worker slot, in memory shared across fork (the master creates it)."""

    def __init__(self, slots: int = SLOTS) -> None:
        self._counts = multiprocessing.RawArray(ctypes.c_long, [_ABSENT] * slots)

    def assign(self, taken: set[int]) -> int | None:
        """A free slot for a worker about to be forked (in the master, which forks one at a time)."""
        for slot in range(len(self._counts)):
            if slot not in taken:
                self._counts[slot] = 0
                return slot
        return None

    def publish(self, slot: int, connections: int) -> None:
        self._counts[slot] = connections

    def leave(self, slot: int) -> None:
        self._counts[slot] = _ABSENT

    def fewest_elsewhere(self, slot: int) -> int | None:
        """The fewest connections any other live worker holds, or None if there is none."""
        others = [n for i, n in enumerate(self._counts) if i != slot and n != _ABSENT]
        return min(others, default=None)


BOARD = ConnectionBoard()


class BalancedThreadWorker(ThreadWorker):
    """``gthread`` with least-connections accepting; the master sets ``policywise_slot`` before forking."""

    policywise_slot: int | None = None
    _alive = True

    @property  # type: ignore[override]
    def worker_connections(self) -> int:
        # Read by the event loop before every wait: the moment to publish and to look at the others.
        limit = int(self.cfg.worker_connections)
        slot = self.policywise_slot
        if slot is None or not self._alive:
            return limit
        BOARD.publish(slot, self.nr_conns)
        fewest = BOARD.fewest_elsewhere(slot)
        # Accept while holding fewer than the least-loaded other worker + SLACK: never more than SLACK ahead.
        return limit if fewest is None else min(limit, fewest + SLACK)

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        pass  # ThreadWorker.__init__ copies the setting; the getter reads it from cfg

    @property  # type: ignore[override]
    def alive(self) -> bool:
        return self._alive

    @alive.setter
    def alive(self, value: bool) -> None:
        # gunicorn sets alive False at max_requests, on SIGTERM, and our memory hook does too: from then on
        # the worker accepts nothing, so it must not hold the others back while its last requests finish.
        self._alive = value
        if not value and self.policywise_slot is not None:
            BOARD.leave(self.policywise_slot)

    def crowded(self) -> bool:
        """Whether this worker holds more than SLACK connections above the least-loaded other one.

        After a recycle the survivor holds every client and the fresh worker none; keep-alive rotation
        alone took ~2 s to even them out, with the survivor's clients waiting twice as long meanwhile.
        A crowded worker closes each connection after its response (pre_request in gunicorn_conf.py), and
        the client reconnects to whichever worker accepts: not this one, which refuses while crowded.
        """
        slot = self.policywise_slot
        if slot is None or not self._alive:
            return False
        fewest = BOARD.fewest_elsewhere(slot)
        return fewest is not None and self.nr_conns > fewest + SLACK

    def accept(self, listener: object) -> None:
        super().accept(listener)
        if self.policywise_slot is not None and self._alive:
            BOARD.publish(self.policywise_slot, self.nr_conns)
