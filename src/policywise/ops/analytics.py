"""Usage analytics in SQLite: what employees ask, how it went, and what the policies fail to cover.

The same file keeps the recent turns of each conversation, so that a follow-up question reaching
another gunicorn worker than the one that answered the first still has its context.

One connection guarded by a lock rather than one per thread: the threaded dev server starts a thread
per request, so per-thread connections would pile up, and SQLite serialises writers anyway. WAL mode
lets gunicorn workers in other processes read and write the same file concurrently.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from policywise.ops.metrics import percentile

logger = logging.getLogger(__name__)

RATINGS = ("up", "down")
UNANSWERED_STATUSES = ("insufficient_evidence", "out_of_scope")
MAX_COMMENT_CHARS = 1000
# Pruning scans the table, so it runs at most every PRUNE_EVERY inserts or PRUNE_INTERVAL_S seconds.
PRUNE_EVERY = 500
PRUNE_INTERVAL_S = 60.0
_DAY_S = 86400.0
TURN_RETENTION_S = 86400.0  # conversation turns are context for follow-ups, not history to keep

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    answer_id    TEXT PRIMARY KEY,
    ts           REAL NOT NULL,
    question     TEXT NOT NULL,
    question_key TEXT NOT NULL,
    status       TEXT NOT NULL,
    latency_ms   REAL NOT NULL,
    provider     TEXT NOT NULL,
    top_document TEXT,
    degraded     INTEGER NOT NULL,
    error        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_ts ON questions(ts);
CREATE TABLE IF NOT EXISTS turns (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    ts              REAL NOT NULL,
    question        TEXT NOT NULL,
    answer          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns(conversation_id, id);
CREATE INDEX IF NOT EXISTS turns_ts ON turns(ts);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY REFERENCES questions(answer_id) ON DELETE CASCADE,
    ts        REAL NOT NULL,
    rating    TEXT NOT NULL,
    comment   TEXT
);
"""

_WHITESPACE = re.compile(r"\s+")


def question_key(question: str) -> str:
    """Grouping key: the same question typed with other capitals or spacing counts once."""
    return _WHITESPACE.sub(" ", question).strip().casefold()


class Analytics:
    """Records questions and feedback; summarises them for the admin dashboard. Thread-safe."""

    def __init__(
        self,
        path: Path,
        retention_days: int = 90,
        max_rows: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.path = Path(path)
        self.retention_days = retention_days
        self.max_rows = max_rows
        self._clock = clock
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._conn_pid: int | None = None
        self._inserts_since_prune = 0
        self._last_prune = clock()
        with self._lock:
            self._prune()

    # -- connection -------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        # A connection inherited across fork (gunicorn --preload) must not be used by the child.
        if self._conn is None or self._conn_pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the
            # last commits, which analytics can afford.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(_SCHEMA)
            self._conn, self._conn_pid = conn, os.getpid()
        return self._conn

    def close(self) -> None:
        """Close the connection; a later call reopens it, so a late request at shutdown doesn't fail."""
        with self._lock:
            if self._conn is not None and self._conn_pid == os.getpid():
                self._conn.close()
            self._conn = None
            self._conn_pid = None

    # -- writes -----------------------------------------------------------------------------------

    def record_question(
        self,
        answer_id: str,
        question: str,
        status: str,
        latency_ms: float,
        provider: str,
        top_document: str | None,
        degraded: bool,
        error: bool = False,
    ) -> None:
        """Store one answered question; `question` must already be redacted by the caller."""
        row = (
            answer_id,
            self._clock(),
            question,
            question_key(question),
            status,
            float(latency_ms),
            provider,
            top_document,
            int(bool(degraded)),
            int(bool(error)),
        )
        try:
            with self._lock:
                conn = self._connection()
                # Upsert rather than REPLACE: REPLACE deletes the row and would cascade to its feedback.
                conn.execute(
                    """INSERT INTO questions (answer_id, ts, question, question_key, status, latency_ms,
                                              provider, top_document, degraded, error)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(answer_id) DO UPDATE SET
                           ts=excluded.ts, question=excluded.question, question_key=excluded.question_key,
                           status=excluded.status, latency_ms=excluded.latency_ms,
                           provider=excluded.provider, top_document=excluded.top_document,
                           degraded=excluded.degraded, error=excluded.error""",
                    row,
                )
                self._inserts_since_prune += 1
                if (
                    self._inserts_since_prune >= PRUNE_EVERY
                    or self._clock() - self._last_prune >= PRUNE_INTERVAL_S
                ):
                    self._prune()
        except sqlite3.Error:
            # Analytics is best effort: a locked or full disk must not fail the employee's answer.
            logger.exception("could not record analytics for answer %s", answer_id)

    def record_feedback(self, answer_id: str, rating: str, comment: str | None = None) -> bool:
        """Thumbs up/down on an answer; False when the answer is unknown. A second vote replaces the first."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}, got {rating!r}")
        if comment is not None:
            comment = comment.strip()[:MAX_COMMENT_CHARS] or None
        with self._lock:
            conn = self._connection()
            # The existence check and the write share one statement, so a concurrent prune cannot
            # remove the question in between.
            cursor = conn.execute(
                """INSERT INTO feedback (answer_id, ts, rating, comment)
                   SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM questions WHERE answer_id = ?)
                   ON CONFLICT(answer_id) DO UPDATE SET
                       ts=excluded.ts, rating=excluded.rating, comment=excluded.comment""",
                (answer_id, self._clock(), rating, comment, answer_id),
            )
            return cursor.rowcount > 0

    # -- conversations ----------------------------------------------------------------------------

    def add_turn(self, conversation_id: str, question: str, answer: str) -> None:
        """Remember one exchange (the question already redacted) for follow-ups."""
        with self._lock:
            self._connection().execute(
                "INSERT INTO turns (conversation_id, ts, question, answer) VALUES (?, ?, ?, ?)",
                (conversation_id, self._clock(), question, answer),
            )

    def recent_turns(self, conversation_id: str, limit: int, max_age_s: float) -> list[tuple[str, str]]:
        """The last ``limit`` exchanges of a conversation younger than ``max_age_s``, oldest first."""
        if limit < 1:
            return []
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    """SELECT question, answer FROM turns WHERE conversation_id = ? AND ts >= ?
                   ORDER BY id DESC LIMIT ?""",
                    (conversation_id, self._clock() - max_age_s, limit),
                )
                .fetchall()
            )
        return [(q, a) for q, a in reversed(rows)]

    def _prune(self) -> None:
        """Drop rows past retention, then the oldest beyond max_rows; feedback goes with its question."""
        now = self._clock()
        conn = self._connection()
        conn.execute("DELETE FROM turns WHERE ts < ?", (now - TURN_RETENTION_S,))
        cutoff = now - self.retention_days * _DAY_S
        old = conn.execute("DELETE FROM questions WHERE ts < ?", (cutoff,)).rowcount
        excess = conn.execute(
            """DELETE FROM questions WHERE rowid IN (
                   SELECT rowid FROM questions ORDER BY ts DESC, rowid DESC LIMIT -1 OFFSET ?)""",
            (self.max_rows,),
        ).rowcount
        if old or excess:
            logger.info("analytics pruned %d expired and %d excess questions", old, excess)
        self._last_prune = now
        self._inserts_since_prune = 0

    # -- reads ------------------------------------------------------------------------------------

    def stats(self, days: int = 30, top: int = 10) -> dict[str, Any]:
        if days < 1:
            raise ValueError("days must be at least 1")
        top = max(int(top), 0)
        since = self._clock() - days * _DAY_S
        with self._lock:
            conn = self._connection()
            total, errors, degraded = conn.execute(
                """SELECT COUNT(*), COALESCE(SUM(error), 0), COALESCE(SUM(degraded), 0)
                   FROM questions WHERE ts >= ?""",
                (since,),
            ).fetchone()
            status_mix = dict(
                conn.execute(
                    """SELECT status, COUNT(*) FROM questions WHERE ts >= ?
                       GROUP BY status ORDER BY COUNT(*) DESC, status""",
                    (since,),
                ).fetchall()
            )
            providers = dict(
                conn.execute(
                    """SELECT provider, COUNT(*) FROM questions WHERE ts >= ?
                       GROUP BY provider ORDER BY COUNT(*) DESC, provider""",
                    (since,),
                ).fetchall()
            )
            latencies = [
                row[0]
                for row in conn.execute(
                    "SELECT latency_ms FROM questions WHERE ts >= ? ORDER BY latency_ms", (since,)
                )
            ]
            votes = dict(
                conn.execute(
                    """SELECT f.rating, COUNT(*) FROM feedback f JOIN questions q USING (answer_id)
                       WHERE q.ts >= ? GROUP BY f.rating""",
                    (since,),
                ).fetchall()
            )
            top_questions = self._top_questions(conn, since, top, ())
            top_unanswered = self._top_questions(conn, since, top, UNANSWERED_STATUSES)
            top_documents = [
                {"document": document, "count": count}
                for document, count in conn.execute(
                    """SELECT top_document, COUNT(*) FROM questions
                       WHERE ts >= ? AND top_document IS NOT NULL AND top_document != ''
                       GROUP BY top_document ORDER BY COUNT(*) DESC, top_document LIMIT ?""",
                    (since, top),
                )
            ]

        # Refusals are guardrail decisions, not gaps in the policies, so they don't count as unanswered.
        considered = total - status_mix.get("refused", 0)
        unanswered = considered - status_mix.get("answered", 0)
        up, down = votes.get("up", 0), votes.get("down", 0)
        return {
            "period_days": days,
            "questions": total,
            "status_mix": status_mix,
            "no_answer_rate": _rate(unanswered, considered),
            "thumbs_up_rate": round(up / (up + down), 3) if up + down else None,
            "feedback_count": up + down,
            "latency_ms": {
                "p50": round(percentile(latencies, 50), 1),
                "p95": round(percentile(latencies, 95), 1),
            },
            "error_rate": _rate(errors, total),
            "degraded_rate": _rate(degraded, total),
            "top_questions": top_questions,
            "top_unanswered": top_unanswered,
            "top_documents": top_documents,
            "providers": providers,
        }

    @staticmethod
    def _top_questions(
        conn: sqlite3.Connection, since: float, top: int, statuses: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        status_filter = f"AND status IN ({', '.join('?' * len(statuses))})" if statuses else ""
        # With MAX(ts) in the select, SQLite takes the bare `question` column from the newest row of the
        # group, so each group is shown as it was most recently typed.
        rows = conn.execute(
            f"""SELECT question, COUNT(*) AS n, MAX(ts) AS last FROM questions
                WHERE ts >= ? {status_filter}
                GROUP BY question_key ORDER BY n DESC, last DESC LIMIT ?""",
            (since, *statuses, top),
        ).fetchall()
        return [{"question": question, "count": count} for question, count, _ in rows]


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0
