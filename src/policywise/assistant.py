"""The one entry point: ask(question) -> Answer. The CLI and the web service both call it.

question -> guard -> (standalone rewrite) -> retrieve -> answer (LLM or extractive) -> check -> Answer

The extractive answer is always composed: it is the offline default, the yardstick for whether the
policies answer the question at all, and the fallback whenever the LLM fails, is slow, is switched
off by the circuit breaker, or says something its sources don't support.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from policywise import guardrails
from policywise.answer.answerability import Evidence, judge
from policywise.answer.check import check_answer
from policywise.answer.decompose import split_question
from policywise.answer.errors import LLMError
from policywise.answer.extractive import Composition, ExtractiveComposer, merge_compositions
from policywise.answer.prompts import answer_messages, rewrite_messages
from policywise.config import Settings
from policywise.facts import asks_for
from policywise.index.lexical import tokenize
from policywise.index.store import current_generation
from policywise.index.topics import Topic, mentions
from policywise.ops.circuit_breaker import CircuitBreaker
from policywise.retrieve import Retriever, SearchResult, open_retriever, states_fact_about
from policywise.types import Answer, Citation, Hit, with_markers

if TYPE_CHECKING:
    from policywise.answer.llm import LLMClient

logger = logging.getLogger(__name__)

OLD_INDEX_GRACE_S = 60.0

# Below this the best sentence is not an answer (docs/evaluation.md: chosen so that at most ~3% of
# answerable questions are turned away on either eval set).
MIN_SENTENCE_SCORE = 0.55
# A part of a question that also names a topic the policies lack must match on its own (_stands_alone).
PART_MIN_COS = 0.5
# Words that shape a question rather than name what it is about: policies need not use them.
_QUESTION_TERMS = frozenset(tokenize("often usually like exactly actually ever anything anyone someone"))
NOT_FOUND_MESSAGE = "I couldn't find this in the company policies. {contact} can help with it."  # HR_CONTACT
TOPIC_MISSING_MESSAGE = "The company policies don't mention {topics}. {contact} can help with it."
PROVIDERS = ("extractive", "llm")
_FOLLOW_UP = re.compile(
    r"^\s*(?:and|also|but|so|what about|how about|what if|same for|for|or|then|plus)\b"
    r"|\b(?:it|that|this|they|them|those|these|there|he|she)\b",
    re.IGNORECASE,
)

History = Sequence[tuple[str, str]]  # (question, answer) pairs, oldest first


@dataclass
class _Context:
    question: str  # standalone, redacted
    search: SearchResult
    qvec: np.ndarray
    composition: Composition
    started: float
    timings: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


class Assistant:
    def __init__(
        self, settings: Settings, retriever: Retriever | None = None, llm: LLMClient | None = None
    ) -> None:
        self.settings = settings
        self._retriever = retriever
        self._composer: ExtractiveComposer | None = None
        self._lock = threading.Lock()
        self._reload_lock = threading.RLock()  # one reload at a time, whoever asks for it
        self._checked_at = 0.0  # when CURRENT was last compared with the generation served
        if llm is None and settings.llm_configured:
            # Imported only when configured: the SDK is ~30 MB an offline deployment does without.
            from policywise.answer.llm import LLMClient, LLMConfig

            breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s)
            llm = LLMClient(LLMConfig.from_settings(settings), breaker)
        self.llm = llm
        contact = settings.hr_contact
        self._contact = contact[:1].upper() + contact[1:]
        self._not_found_message = NOT_FOUND_MESSAGE.format(contact=self._contact)

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                self._retriever = open_retriever(self.settings)
            current = self._retriever
        if self._index_moved(current):
            self._follow_index()
            with self._lock:
                current = self._retriever
        return current

    def sync_index(self) -> None:
        """Load the generation CURRENT names now if it is not the one opened (a gunicorn worker
        calls this after the fork, before serving: its master may have preloaded an older one)."""
        current = self._retriever
        if current is None:
            return
        generation = current_generation(current.index.generation.parent)
        if generation is not None and generation != current.index.generation:
            self.reload_index()

    def _index_moved(self, current: Retriever) -> bool:
        """Whether CURRENT now names another generation (checked at most every few seconds).

        Another worker or process may have reindexed; a gunicorn worker forked from a master that
        preloaded an older generation must not serve it.
        """
        interval = self.settings.index_check_interval_s
        now = time.monotonic()
        if interval < 0 or now - self._checked_at < interval:
            return False
        self._checked_at = now
        generation = current_generation(current.index.generation.parent)
        return generation is not None and generation != current.index.generation

    def _follow_index(self) -> None:
        if not self._reload_lock.acquire(blocking=False):
            return  # another thread is loading it; keep serving the previous one meanwhile
        try:
            self.reload_index()
            logger.info("now serving %s", self._retriever.index.generation if self._retriever else "")
        except Exception as exc:  # the previous generation keeps serving
            logger.warning("could not load the new index generation: %s", exc)
        finally:
            self._reload_lock.release()

    @property
    def composer(self) -> ExtractiveComposer:
        if self._composer is None:
            self._composer = ExtractiveComposer(self.retriever.index)
        return self._composer

    def warm_up(self, vectors: bool = True) -> None:
        """Load the model and the index now rather than on the first question.

        ``vectors=False`` leaves a Chroma client unopened (its threads do not survive a fork): a
        gunicorn master preloads the rest and each worker opens Chroma after forking. Exact search
        runs no threads, so a master preloads it whole.
        """
        self._checked_at = 0.0  # a freshly forked worker checks for a newer generation at once
        retriever = self.retriever
        retriever.embedder.load()
        index = retriever.index
        _ = index.lexical, index.sentences, index.documents, index.chunks
        retriever.embedder.embed_query("warm up")
        if self.settings.topic_check:
            retriever.warm_topics()
        if vectors or index.dense_backend == "exact":
            if index.dense_backend == "chroma":
                _ = index.vectors
            retriever.search("warm up")

    @property
    def opened_retriever(self) -> Retriever | None:
        """The retriever if it has been opened already; never opens it (for cheap status checks)."""
        return self._retriever

    def components(self) -> dict[str, bool | None]:
        """What is loaded, without loading anything (for health checks)."""
        r = self._retriever
        return {
            "index_opened": r is not None,
            "model_loaded": r is not None and r.embedder.loaded,
            "vectors_loaded": r is not None and r.index.dense_loaded,
        }

    def reload_index(self) -> None:
        """Serve the index generation that CURRENT points to now (after a reindex)."""
        with self._reload_lock:
            self._reload_index()

    def _reload_index(self) -> None:
        old = self._retriever
        new = open_retriever(self.settings, old.index.generation.parent if old is not None else None)
        if old is not None:
            new.embedder = old.embedder  # same model: keep the loaded session
        new.index.load()
        with self._lock:
            self._retriever, self._composer = new, None
        if old is not None:
            # Requests already running still hold the old index: close it once they are done
            # (gunicorn's timeout bounds them).
            timer = threading.Timer(OLD_INDEX_GRACE_S, old.index.close)
            timer.daemon = True
            timer.start()

    def ask(self, question: object, history: History | None = None, provider: str | None = None) -> Answer:
        final = None
        for item in self._run(question, history, provider, stream=False):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(
        self, question: object, history: History | None = None, provider: str | None = None
    ) -> Iterator[str | Answer]:
        """Text deltas as they are produced, then the final Answer (whose text is authoritative:
        an LLM answer that fails its checks is replaced by the extractive one)."""
        yield from self._run(question, history, provider, stream=True)

    # -- pipeline ------------------------------------------------------------------------------

    def _run(self, question: object, history: History | None, provider: str | None, stream: bool) -> Iterator:
        started = time.perf_counter()
        level = self.settings.guardrails_level
        check = guardrails.check_input(question, level, self.settings.max_question_chars)
        flags = [f"pii_redacted:{k}" for k in check.pii] + list(check.flags)
        if not check.allowed:
            yield self._finish(
                Answer(status="refused", answer=check.message or "", reason=check.reason, flags=flags),
                started,
            )
            return
        provider = provider or ("llm" if self.llm is not None else "extractive")
        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {PROVIDERS}")
        use_llm = provider == "llm" and self.llm is not None
        question_text = self._standalone(check.question, history or [], use_llm)
        question_text, fixes = self.retriever.correct_spelling(question_text)
        if fixes:
            flags.append("spelling_corrected")
        question_text, added = self.retriever.in_policy_words(question_text)
        if added:
            flags.append("policy_words_added")

        t = time.perf_counter()
        search = self.retriever.search(question_text)
        qvec = self.retriever.embed_query(question_text)
        timings = {"retrieve": _ms(t)}
        retrieved = [
            {
                "source": h.source,
                "title": h.title,
                "section": h.section,
                "score": h.score,
                "chunk_id": h.chunk_id,
            }
            for h in search.hits or search.related
        ]
        topic_reason = (
            "topic_not_in_policies"
            if search.missing_topics
            else "topic_not_in_passages"
            if search.topic_not_in_hits
            else "fact_not_stated_for_topic"
            if search.fact_not_in_hits
            else None
        )
        topic_search = search
        refuse = topic_reason is not None and len(split_question(question_text)) == 1
        if topic_reason is not None and not refuse:
            # A compound question: the parts the policies do cover are still answered (_compose).
            search = self.retriever.search(question_text, topics=False)
            refuse = not search.hits
        if not refuse and not search.hits:
            answer = Answer(
                status="out_of_scope",
                answer=guardrails.OUT_OF_SCOPE_MESSAGE,
                reason="not_a_policy_question",
                question=question_text,
                flags=flags,
                timings_ms=timings,
            )
            yield self._finish(answer, started)
            return
        if not refuse:
            t = time.perf_counter()
            composition, evidence, sources = self._compose(question_text, qvec, search, flags, topic_reason)
            timings["compose"] = _ms(t)
            # No part of a compound question is answered, and the whole is about what the policies lack.
            refuse = topic_reason is not None and evidence.reason == topic_reason
        if refuse:
            assert topic_reason is not None
            answer = self._topic_refusal(
                topic_reason, question_text, topic_search, qvec, started, timings, flags
            )
            answer.retrieved = retrieved
            yield self._finish(self._apply_level(answer, check.question), started)
            return
        if sources is not search.hits:
            search = replace(search, hits=sources)
        ctx = _Context(question_text, search, qvec, composition, started, timings, flags)
        if use_llm:
            answer = yield from self._llm_answer(ctx, stream)
        elif not evidence.answerable:
            answer = self._not_found(ctx, evidence.reason)
        elif reason := self._off_topic(question_text, search.topic, composition):
            answer = self._not_found(ctx, reason)
        else:
            answer = self._extractive(ctx)
            if stream:
                for text, n in composition.sentences:
                    yield with_markers(text, [n]) + " "
        answer.retrieved = retrieved
        yield self._finish(self._apply_level(answer, check.question), started)

    def _compose(
        self,
        question: str,
        qvec: np.ndarray,
        search: SearchResult,
        flags: list[str],
        topic_reason: str | None = None,
    ) -> tuple[Composition, Evidence, list[Hit]]:
        """The extractive answer, whether it answers, and the passages to give an LLM.

        A compound question is answered part by part, and an LLM sees the best passages of every
        part rather than those of the dominant one. When no part is answered and the whole question is
        about a topic the policies lack (``topic_reason``), that is the verdict.
        """
        limit = self.settings.answer_max_sentences
        parts = split_question(question)
        if len(parts) > 1:
            answered = []
            per_part: list[list[Hit]] = []
            for part in parts:
                found = self.retriever.search(part)
                if not found.hits:
                    continue
                per_part.append(found.hits)
                pvec = self.retriever.embed_query(part)
                comp = self.composer.compose(
                    part,
                    pvec,
                    found.hits,
                    max_sentences=-(-limit // len(parts)),  # rounded up
                )
                if topic_reason is not None and not self._stands_alone(part, comp):
                    continue  # a follow-up about what the policies lack: "What's the vesting schedule like?"
                if judge(part, comp.best_score, comp.text, MIN_SENTENCE_SCORE).answerable:
                    answered.append(comp)
            if answered:
                if len(answered) < len(parts):
                    flags.append("partially_answered")
                hits = _interleave(per_part, self.settings.top_k + len(per_part))
                return merge_compositions(answered), Evidence(True, "ok", None), hits
            if topic_reason is not None:
                return Composition(), Evidence(False, topic_reason, None), search.hits
        whole = self.composer.compose(question, qvec, search.hits, max_sentences=limit)
        return whole, judge(question, whole.best_score, whole.text, MIN_SENTENCE_SCORE), search.hits

    def _stands_alone(self, part: str, comp: Composition) -> bool:
        """Whether a part of a question that also asks about a topic the policies lack is answered in its
        own right: the policies use all of its terms, or a sentence is close to it. "Does the company offer
        stock options? What's the vesting schedule like?" asks how the options vest; no policy says
        "vesting", and the schedules it finds instead (0.41 at best) answer something else."""
        unknown = set(self.retriever.index.lexical.unknown_terms(part)) - _QUESTION_TERMS
        return comp.best_cos >= PART_MIN_COS or not unknown

    def _off_topic(self, question: str, focus: Topic | None, composition: Composition) -> str | None:
        """Why an extractive answer to a question about a policy topic is not one, or None.

        ``topic_not_in_passages``: the policies name the topic somewhere, but none of the passages the
        answer quotes does (search already returns no hits when none of the passages it found does:
        ``SearchResult.topic_not_in_hits``). ``fact_not_stated_for_topic``: the question asks for a kind
        of fact (an amount, a number, a date…) and no quoted sentence states one about the topic, in the
        sentence itself or under a heading that names it ("how much is the home office stipend?" answered
        with amounts of other allowances). Single questions only: a compound one is answered part by part.
        """
        # ``focus``: the topic the search found the question to be about (None with TOPIC_CHECK off).
        if (
            focus is None
            or not focus.passages
            or not composition.citations
            or len(split_question(question)) > 1
        ):
            return None
        chunks = self.retriever.index.chunks
        heads = {c.number: f"{c.title} {c.section}" for c in composition.citations}
        texts = [
            f"{heads[c.number]} {chunks.payload(c.chunk_id)[0] if c.chunk_id in chunks else c.snippet}"
            for c in composition.citations
        ]
        if not any(mentions(focus, text) for text in texts):
            return "topic_not_in_passages"
        kind = asks_for(question)
        if kind is not None and not any(
            states_fact_about(kind, question, focus, sentence, heads.get(n, ""))
            for sentence, n in composition.sentences
        ):
            return "fact_not_stated_for_topic"
        return None

    def _topic_refusal(
        self,
        reason: str,
        question: str,
        search: SearchResult,
        qvec: np.ndarray,
        started: float,
        timings: dict[str, float],
        flags: list[str],
    ) -> Answer:
        """The answer to a question about a topic (or site) the policies never mention, or that none of
        the passages found mentions (then pointing at those passages as related ones)."""
        if reason == "topic_not_in_policies":
            return Answer(
                status="insufficient_evidence",
                answer=TOPIC_MISSING_MESSAGE.format(
                    topics=" or ".join(search.missing_topics), contact=self._contact
                ),
                reason=reason,
                question=question,
                flags=flags,
                timings_ms=timings,
            )
        related = replace(search, hits=search.related)
        return self._not_found(
            _Context(question, related, qvec, Composition(), started, timings, flags), reason
        )

    def _extractive(self, ctx: _Context, degraded_reason: str | None = None) -> Answer:
        return Answer(
            status="answered",
            answer=ctx.composition.text,
            citations=list(ctx.composition.citations),
            provider="extractive",
            degraded=degraded_reason is not None,
            degraded_reason=degraded_reason,
            question=ctx.question,
            flags=ctx.flags,
            timings_ms=ctx.timings,
        )

    def _not_found(self, ctx: _Context, reason: str, provider: str = "extractive") -> Answer:
        # Point at the closest passages without claiming they answer the question.
        related = [Citation.from_hit(i, h, h.text[:300]) for i, h in enumerate(ctx.search.hits[:2], 1)]
        return Answer(
            status="insufficient_evidence",
            answer=self._not_found_message,
            citations=related,
            provider=provider,
            reason=reason,
            question=ctx.question,
            flags=ctx.flags,
            timings_ms=ctx.timings,
        )

    def _llm_answer(self, ctx: _Context, stream: bool) -> Iterator[str]:
        assert self.llm is not None
        hits = ctx.search.hits
        deadline = time.monotonic() + self.settings.llm_deadline_s
        messages = answer_messages(ctx.question, hits)
        t = time.perf_counter()
        text = ""
        try:
            if stream:
                parts = []
                for delta in self.llm.stream(messages, deadline=deadline):
                    parts.append(delta)
                    yield delta
                text = "".join(parts)
            else:
                text = self.llm.complete(messages, deadline=deadline)
        except LLMError as exc:
            ctx.timings["generate"] = _ms(t)
            logger.warning("LLM failed (%s); answering extractively", exc.kind)
            return self._fallback(ctx, f"llm_{exc.kind}")
        ctx.timings["generate"] = _ms(t)
        embedder = self.retriever.embedder
        store = self.retriever.index.sentences
        result = check_answer(text, hits, embed=embedder.embed, source_vectors=store.vectors)
        provider = f"llm:{self.llm.model}"
        if result.not_covered:
            return self._not_found(ctx, "llm_not_covered", provider=provider)
        if not result.ok:
            logger.warning("LLM answer rejected (%s); answering extractively", result.reason)
            return self._fallback(ctx, f"llm_output_{result.reason}")
        answer = Answer(
            status="answered",
            answer=result.text,
            citations=result.citations,
            provider=provider,
            question=ctx.question,
            flags=ctx.flags,
            timings_ms=ctx.timings,
        )
        if result.dropped or result.invalid_markers:
            answer.degraded, answer.degraded_reason = True, "llm_output_repaired"
        return answer

    def _fallback(self, ctx: _Context, reason: str) -> Answer:
        evidence = judge(ctx.question, ctx.composition.best_score, ctx.composition.text, MIN_SENTENCE_SCORE)
        answer = (
            self._extractive(ctx, reason) if evidence.answerable else self._not_found(ctx, evidence.reason)
        )
        answer.degraded, answer.degraded_reason = True, reason
        return answer

    def _standalone(self, question: str, history: History, use_llm: bool) -> str:
        turns = list(history)[-self.settings.history_turns :]
        if not turns or not _looks_like_follow_up(question):
            return question
        if use_llm and self.llm is not None and self.llm.breaker.allow():
            try:
                deadline = time.monotonic() + min(5.0, self.settings.llm_deadline_s / 3)
                redacted = [(guardrails.redact_pii(q)[0], guardrails.redact_pii(a)[0]) for q, a in turns]
                rewritten = self.llm.complete(rewrite_messages(question, redacted), deadline=deadline).strip()
                if 0 < len(rewritten) <= self.settings.max_question_chars:
                    return guardrails.redact_pii(rewritten)[0]
            except LLMError as exc:
                logger.info(
                    "follow-up rewrite by LLM failed (%s); combining with the previous question", exc.kind
                )
        previous = guardrails.redact_pii(turns[-1][0])[0]
        return f"{previous} {question}"

    def _apply_level(self, answer: Answer, question: str) -> Answer:
        if self.settings.guardrails_level != "strict":
            return answer
        if answer.status == "answered" and not answer.citations:
            answer.status, answer.answer, answer.reason = (
                "insufficient_evidence",
                self._not_found_message,
                "no_citation",
            )
        if guardrails.is_sensitive_topic(question) and answer.status in ("answered", "insufficient_evidence"):
            pointer = guardrails.HR_POINTER.format(contact=self.settings.hr_contact)
            answer.answer = f"{answer.answer} {pointer}"
            if "sensitive_topic" not in answer.flags:
                answer.flags.append("sensitive_topic")
        return answer

    @staticmethod
    def _finish(answer: Answer, started: float) -> Answer:
        answer.timings_ms = {**answer.timings_ms, "total": _ms(started)}
        return answer


def _looks_like_follow_up(question: str) -> bool:
    words = re.findall(r"[a-z0-9']+", question.lower())
    return len(words) <= 5 or bool(_FOLLOW_UP.search(question))


def _interleave(rankings: list[list[Hit]], limit: int) -> list[Hit]:
    """Round-robin over several rankings, each passage once, best first within each."""
    out: list[Hit] = []
    seen: set[str] = set()
    for rank in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if rank < len(ranking) and ranking[rank].chunk_id not in seen:
                seen.add(ranking[rank].chunk_id)
                out.append(ranking[rank])
    return out[:limit]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
