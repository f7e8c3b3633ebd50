"""What one web process shares between requests: the assistant, operations helpers, conversations."""

from __future__ import annotations

import logging
import threading
import time
import uuid

from policywise.assistant import Assistant
from policywise.config import Settings
from policywise.ops.analytics import Analytics
from policywise.ops.memory import MemoryManager
from policywise.ops.metrics import Metrics

logger = logging.getLogger(__name__)

CONVERSATION_TTL_S = 3600.0
MAX_TURN_CHARS = 4000
# A memory reading this recent is reused: under load, reading /proc for every request cost more than
# the health check itself, and memory does not move that fast.
MEMORY_READING_MAX_AGE_S = 0.25


class Conversations:
    """Recent turns per conversation, kept in the service's SQLite file so every worker sees them."""

    def __init__(self, store: Analytics, turns: int) -> None:
        self._store = store
        self._turns = turns

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        return self._store.recent_turns(conversation_id, self._turns, CONVERSATION_TTL_S)

    def add(self, conversation_id: str, question: str, answer: str) -> None:
        self._store.add_turn(conversation_id, question, answer[:MAX_TURN_CHARS])

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex


class Services:
    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self.memory = MemoryManager.from_settings(settings)
        self.metrics = Metrics()
        self.analytics = Analytics(settings.analytics_path, retention_days=settings.analytics_retention_days)
        self.conversations = Conversations(self.analytics, settings.history_turns)
        self.started = time.monotonic()
        self.warm_error: str | None = None
        self._warm_thread: threading.Thread | None = None
        self.reindex_lock = threading.Lock()
        # (built at, component states, JSON body, HTTP status) of the last /health (web/health.py)
        self.health_body: tuple[float, tuple, bytes, int] | None = None
        self._suggestions: tuple[object, tuple[str, ...]] | None = None  # (index generation, questions)

    def warm_up_async(self) -> None:
        """Load model and index in the background; /health answers meanwhile and says not_loaded."""
        if self._warm_thread is not None:
            return

        def run() -> None:
            try:
                self.assistant.warm_up()
            except Exception as exc:  # reported by /health, not raised into a thread
                self.warm_error = f"{type(exc).__name__}: {exc}"
                logger.warning("warm-up failed: %s", self.warm_error)

        self._warm_thread = threading.Thread(target=run, name="policywise-warm-up", daemon=True)
        self._warm_thread.start()

    def suggestions(self) -> tuple[str, ...]:
        """The configured example questions that the policies being served cover.

        A suggestion they do not cover would greet a reader with a refusal: the defaults are about the bundled
        policies, and a deployment on its own may not set EXAMPLE_QUESTIONS. Each is searched once (~5 ms)
        when the model is loaded, again for a new index generation; until then they are shown as configured.
        """
        examples = self.settings.examples
        if not examples or not self.assistant.components()["model_loaded"]:
            return examples
        retriever = self.assistant.retriever
        cached = self._suggestions
        if cached is None or cached[0] != retriever.index.generation:
            cached = (retriever.index.generation, tuple(q for q in examples if retriever.search(q).hits))
            self._suggestions = cached
        return cached[1]

    def memory_state(self) -> str:
        return self.memory.check(max_age_s=MEMORY_READING_MAX_AGE_S)

    @property
    def uptime_hours(self) -> float:
        return round((time.monotonic() - self.started) / 3600, 4)
