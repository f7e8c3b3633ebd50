"""Operations layer: memory guard, Prometheus metrics and SQLite usage analytics."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import namedtuple
from pathlib import Path

import pytest

from policywise.config import load_settings
from policywise.ops import analytics as analytics_module
from policywise.ops.analytics import Analytics, question_key
from policywise.ops.memory import MemoryManager, read_cgroup_limit_mb
from policywise.ops.metrics import Metrics, percentile

MB = 1024 * 1024
_MemInfo = namedtuple("_MemInfo", "rss")


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProcess:
    """Stands in for psutil.Process so RSS is exactly what the test says."""

    def __init__(self, rss_mb: float) -> None:
        self.rss_mb = rss_mb

    def memory_info(self) -> _MemInfo:
        return _MemInfo(int(self.rss_mb * MB))


def no_cgroup(tmp_path: Path) -> Path:
    root = tmp_path / "no-cgroup"
    root.mkdir(exist_ok=True)
    return root


# -- memory -----------------------------------------------------------------------------------------


def test_tiny_limit_is_hard():
    memory = MemoryManager(limit_mb=1)
    assert memory.limit_source == "explicit"
    assert memory.check() == "hard"
    assert memory.state == "hard"


def test_huge_limit_is_ok():
    memory = MemoryManager(limit_mb=10_000_000)
    assert memory.check() == "ok"
    assert memory.state == "ok"
    assert memory.stats()["gc_collections"] == 0  # no pressure, no collection


def test_rss_between_soft_and_hard_is_soft():
    rss = MemoryManager(limit_mb=10_000_000).rss_mb()
    # RSS sits at 80 % of the limit: above soft (50 %), below hard (95 %), with room for drift.
    memory = MemoryManager(limit_mb=rss / 0.8, soft_ratio=0.5, hard_ratio=0.95)
    assert memory.check() == "soft"


def test_gc_is_rate_limited():
    clock = FakeClock(0.0)
    memory = MemoryManager(limit_mb=1, gc_interval_s=5.0, clock=clock)
    memory.check()
    memory.check()
    assert memory.stats()["gc_collections"] == 1
    clock.advance(5.0)
    memory.check()
    assert memory.stats()["gc_collections"] == 2


def test_explicit_collect_is_counted_and_restarts_the_interval():
    clock = FakeClock(0.0)
    memory = MemoryManager(limit_mb=1, gc_interval_s=5.0, clock=clock)
    assert isinstance(memory.collect(), int)
    memory.check()  # within the interval of the explicit collection
    assert memory.stats()["gc_collections"] == 1


def test_check_remeasures_after_collecting():
    process = FakeProcess(95)
    memory = MemoryManager(limit_mb=100, soft_ratio=0.5, hard_ratio=0.9, process=process)
    original = memory._run_gc

    def gc_that_frees_memory() -> int:
        process.rss_mb = 40
        return original()

    memory._run_gc = gc_that_frees_memory
    assert memory.check() == "ok"
    assert memory.stats()["gc_collections"] == 1


def test_thresholds_and_peak_with_fake_rss():
    process = FakeProcess(100)
    memory = MemoryManager(limit_mb=200, soft_ratio=0.75, hard_ratio=0.9, gc_interval_s=0, process=process)
    assert memory.check() == "ok"
    process.rss_mb = 150
    assert memory.check() == "soft"
    process.rss_mb = 180
    assert memory.check() == "hard"
    process.rss_mb = 50
    assert memory.check() == "ok"
    stats = memory.stats()
    assert stats["peak_rss_mb"] == 180.0
    assert stats["memory_usage_mb"] == 50.0
    assert stats["memory_available_mb"] == 150.0
    assert stats["memory_utilization"] == 0.25
    assert stats["soft_limit_mb"] == 150.0
    assert stats["hard_limit_mb"] == 180.0


def test_stats_fields_and_types():
    memory = MemoryManager(limit_mb=1)
    memory.track("embedding_model", 110.0)
    memory.track("index", 12.345)
    memory.check()
    stats = memory.stats()
    assert set(stats) == {
        "memory_usage_mb",
        "memory_available_mb",
        "memory_utilization",
        "peak_rss_mb",
        "limit_mb",
        "limit_source",
        "soft_limit_mb",
        "hard_limit_mb",
        "state",
        "gc_collections",
        "gc_stats",
        "components",
    }
    assert stats["memory_usage_mb"] > 1
    assert stats["memory_available_mb"] == 0.0  # never negative
    assert stats["memory_utilization"] == 1.0  # clamped to 0..1
    assert stats["peak_rss_mb"] >= stats["memory_usage_mb"] - 1
    assert stats["limit_mb"] == 1.0
    assert stats["limit_source"] == "explicit"
    assert stats["state"] == "hard"
    assert stats["gc_collections"] == 1
    assert len(stats["gc_stats"]) == 3 and "collections" in stats["gc_stats"][0]
    assert stats["components"] == {"embedding_model": 110.0, "index": 12.3}
    json.dumps(stats)  # served as JSON by the health endpoint


def test_invalid_ratios_rejected():
    with pytest.raises(ValueError):
        MemoryManager(limit_mb=100, soft_ratio=0.9, hard_ratio=0.8)
    with pytest.raises(ValueError):
        MemoryManager(limit_mb=0)


def test_cgroup_v2_limit(tmp_path):
    (tmp_path / "memory.max").write_text("268435456\n")
    memory = MemoryManager(cgroup_root=tmp_path, fallback_limit_mb=999)
    assert memory.limit_source == "cgroup"
    assert memory.limit_mb == 256.0


def test_cgroup_v2_max_means_no_limit(tmp_path):
    (tmp_path / "memory.max").write_text("max\n")
    memory = MemoryManager(cgroup_root=tmp_path, fallback_limit_mb=300)
    assert memory.limit_source == "default"
    assert memory.limit_mb == 300.0


def test_cgroup_v1_limit_and_unlimited_sentinel(tmp_path):
    v1 = tmp_path / "memory"
    v1.mkdir()
    (v1 / "memory.limit_in_bytes").write_text("536870912\n")
    assert read_cgroup_limit_mb(tmp_path) == 512.0
    (v1 / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert read_cgroup_limit_mb(tmp_path) is None


def test_cgroup_garbage_and_missing_files(tmp_path):
    assert read_cgroup_limit_mb(tmp_path / "does-not-exist") is None
    (tmp_path / "memory.max").write_text("lots\n")
    assert read_cgroup_limit_mb(tmp_path) is None


def test_explicit_limit_beats_cgroup(tmp_path):
    (tmp_path / "memory.max").write_text("268435456\n")
    memory = MemoryManager(limit_mb=64, cgroup_root=tmp_path)
    assert (memory.limit_source, memory.limit_mb) == ("explicit", 64.0)


def test_from_settings(tmp_path):
    settings = load_settings(env={"MEMORY_LIMIT_MB": "700", "MEMORY_SOFT_RATIO": "0.6"})
    memory = MemoryManager.from_settings(settings, cgroup_root=no_cgroup(tmp_path))
    assert (memory.limit_source, memory.limit_mb) == ("default", 700.0)
    assert memory.soft_ratio == 0.6 and memory.hard_ratio == settings.memory_hard_ratio
    (tmp_path / "memory.max").write_text("268435456\n")
    memory = MemoryManager.from_settings(settings, cgroup_root=tmp_path)
    assert (memory.limit_source, memory.limit_mb) == ("cgroup", 256.0)


def test_memory_check_is_thread_safe():
    memory = MemoryManager(limit_mb=1, gc_interval_s=3600)
    results: list[str] = []

    def worker() -> None:
        for _ in range(20):
            results.append(memory.check())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results) == {"hard"}
    assert memory.stats()["gc_collections"] == 1  # the rate limit holds across threads


# -- metrics ----------------------------------------------------------------------------------------


def test_request_counts_and_labels_in_render():
    metrics = Metrics()
    metrics.observe_request("/api/ask", "post", 200, 0.120)
    metrics.observe_request("/api/ask", "POST", 200, 0.080)
    metrics.observe_request("/api/ask", "POST", 503, 0.002)
    value = metrics.registry.get_sample_value
    assert (
        value("policywise_http_requests_total", {"endpoint": "/api/ask", "method": "POST", "status": "200"})
        == 2
    )
    assert (
        value("policywise_http_requests_total", {"endpoint": "/api/ask", "method": "POST", "status": "503"})
        == 1
    )
    assert value("policywise_http_request_duration_seconds_count", {"endpoint": "/api/ask"}) == 3
    assert (
        value("policywise_http_request_duration_seconds_bucket", {"endpoint": "/api/ask", "le": "0.001"}) == 0
    )
    assert (
        value("policywise_http_request_duration_seconds_bucket", {"endpoint": "/api/ask", "le": "0.0025"})
        == 1
    )
    assert (
        value("policywise_http_request_duration_seconds_bucket", {"endpoint": "/api/ask", "le": "10.0"}) == 3
    )
    body, content_type = metrics.render()
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert 'policywise_http_requests_total{endpoint="/api/ask",method="POST",status="200"} 2.0' in text
    assert "process_resident_memory_bytes" in text


def test_answer_llm_and_gauges():
    metrics = Metrics()
    metrics.observe_answer("answered", "llm:some-model", degraded=False)
    metrics.observe_answer("answered", "extractive", degraded=True)
    metrics.observe_answer("answered", "extractive", degraded=True)
    metrics.observe_llm("ok")
    metrics.observe_llm("error:timeout")
    metrics.observe_llm("fallback")
    metrics.set_rss(100)
    metrics.set_index_chunks(1234)
    value = metrics.registry.get_sample_value
    answers = "policywise_answers_total"
    assert value(answers, {"status": "answered", "provider": "extractive", "degraded": "true"}) == 2
    assert value(answers, {"status": "answered", "provider": "llm:some-model", "degraded": "false"}) == 1
    assert value("policywise_llm_calls_total", {"outcome": "error:timeout"}) == 1
    assert value("policywise_llm_calls_total", {"outcome": "fallback"}) == 1
    assert value("policywise_process_rss_bytes") == 100 * MB
    assert value("policywise_index_chunks") == 1234
    text = metrics.render()[0].decode()
    assert 'policywise_llm_calls_total{outcome="ok"} 1.0' in text


def test_circuit_state_gauges():
    metrics = Metrics()
    value = metrics.registry.get_sample_value
    assert value("policywise_llm_circuit_state") == 0
    metrics.set_circuit_state("open")
    assert value("policywise_llm_circuit_state") == 2
    assert value("policywise_llm_circuit_state_info", {"state": "open"}) == 1
    assert value("policywise_llm_circuit_state_info", {"state": "closed"}) == 0
    metrics.set_circuit_state("half_open")
    assert value("policywise_llm_circuit_state") == 1
    metrics.set_circuit_state("bogus")  # ignored with a warning, never raises on the request path
    assert value("policywise_llm_circuit_state") == 1


def test_rolling_latency_window():
    metrics = Metrics()
    assert metrics.avg_response_ms() == 0.0
    assert metrics.p95_response_ms() == 0.0
    for ms in range(1, 101):
        metrics.observe_request("/x", "GET", 200, ms / 1000)
    assert metrics.avg_response_ms() == pytest.approx(50.5)
    assert metrics.p95_response_ms() == pytest.approx(95.05)
    # Only the last 1000 requests count: 1000 slow ones push the fast ones out.
    for _ in range(1000):
        metrics.observe_request("/x", "GET", 200, 2.0)
    assert metrics.avg_response_ms() == pytest.approx(2000.0)
    assert metrics.p95_response_ms() == pytest.approx(2000.0)


def test_two_instances_do_not_share_state():
    first, second = Metrics(), Metrics()
    first.observe_request("/x", "GET", 200, 0.01)
    first.set_index_chunks(5)
    assert first.registry is not second.registry
    labels = {"endpoint": "/x", "method": "GET", "status": "200"}
    assert second.registry.get_sample_value("policywise_http_requests_total", labels) is None
    assert second.registry.get_sample_value("policywise_index_chunks") == 0
    assert second.avg_response_ms() == 0.0


def test_metrics_thread_safe():
    metrics = Metrics()

    def worker() -> None:
        for _ in range(250):
            metrics.observe_request("/x", "GET", 200, 0.01)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    labels = {"endpoint": "/x", "method": "GET", "status": "200"}
    assert metrics.registry.get_sample_value("policywise_http_requests_total", labels) == 1000
    assert metrics.avg_response_ms() == pytest.approx(10.0)


def test_percentile_helper():
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5


# -- analytics --------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(tmp_path, clock):
    analytics = Analytics(tmp_path / "nested" / "dir" / "analytics.sqlite3", clock=clock)
    yield analytics
    analytics.close()


def record(db: Analytics, answer_id: str, question: str = "How many vacation days?", **kwargs) -> None:
    values = {
        "status": "answered",
        "latency_ms": 100.0,
        "provider": "extractive",
        "top_document": "vacation.md",
        "degraded": False,
    }
    values.update(kwargs)
    db.record_question(answer_id, question, **values)


def test_empty_db_stats(db):
    stats = db.stats()
    assert stats == {
        "period_days": 30,
        "questions": 0,
        "status_mix": {},
        "no_answer_rate": 0.0,
        "thumbs_up_rate": None,
        "feedback_count": 0,
        "latency_ms": {"p50": 0.0, "p95": 0.0},
        "error_rate": 0.0,
        "degraded_rate": 0.0,
        "top_questions": [],
        "top_unanswered": [],
        "top_documents": [],
        "providers": {},
    }


def test_parent_directory_created_and_wal(tmp_path, db):
    record(db, "a1")
    assert db.path.exists()
    mode = sqlite3.connect(db.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_record_and_stats_math(db):
    statuses = ["answered"] * 6 + ["insufficient_evidence"] * 2 + ["out_of_scope", "refused"]
    for i, (status, latency) in enumerate(zip(statuses, range(10, 101, 10), strict=True)):
        record(
            db,
            f"id{i}",
            question=f"question {i % 3}",
            status=status,
            latency_ms=float(latency),
            provider="llm:m" if i < 4 else "extractive",
            top_document=None if status == "refused" else f"doc{i % 2}.md",
            degraded=i in (1, 2),
            error=i == 9,
        )
    stats = db.stats()
    assert stats["questions"] == 10
    assert stats["status_mix"] == {"answered": 6, "insufficient_evidence": 2, "out_of_scope": 1, "refused": 1}
    assert stats["no_answer_rate"] == round(3 / 9, 3)  # refusals excluded from the denominator
    assert stats["latency_ms"] == {"p50": 55.0, "p95": 95.5}
    assert stats["error_rate"] == 0.1
    assert stats["degraded_rate"] == 0.2
    assert stats["providers"] == {"extractive": 6, "llm:m": 4}
    assert stats["top_documents"] == [
        {"document": "doc0.md", "count": 5},
        {"document": "doc1.md", "count": 4},
    ]
    assert stats["thumbs_up_rate"] is None


def test_questions_grouped_case_and_whitespace_insensitively(db, clock):
    record(db, "a", question="How many vacation days?")
    clock.advance(1)
    record(db, "b", question="  how   many\tvacation DAYS? ")
    clock.advance(1)
    record(db, "c", question="Can I work remotely?", status="out_of_scope")
    clock.advance(1)
    record(db, "d", question="can i work  remotely?", status="insufficient_evidence")
    clock.advance(1)
    record(db, "e", question="What is the dress code?", status="insufficient_evidence")
    stats = db.stats()
    top = stats["top_questions"]
    assert [item["count"] for item in top] == [2, 2, 1]
    assert top[0]["question"] == "can i work  remotely?"  # ties: most recent first, shown as last typed
    assert {question_key(item["question"]) for item in top[:2]} == {
        "how many vacation days?",
        "can i work remotely?",
    }
    assert stats["top_unanswered"] == [
        {"question": "can i work  remotely?", "count": 2},
        {"question": "What is the dress code?", "count": 1},
    ]
    assert len(db.stats(top=1)["top_questions"]) == 1


def test_question_stored_as_given(db):
    record(db, "a", question="My id is [REDACTED], how many days?")
    assert db.stats()["top_questions"][0]["question"] == "My id is [REDACTED], how many days?"


def test_feedback_upsert_and_rates(db):
    for answer_id in ("a", "b", "c"):
        record(db, answer_id)
    assert db.record_feedback("a", "up")
    assert db.record_feedback("b", "down", "too vague")
    assert db.record_feedback("c", "down")
    assert db.stats()["thumbs_up_rate"] == round(1 / 3, 3)
    assert db.record_feedback("c", "up", "actually fine")  # a second vote replaces the first
    stats = db.stats()
    assert stats["feedback_count"] == 3
    assert stats["thumbs_up_rate"] == round(2 / 3, 3)


def test_feedback_unknown_id_invalid_rating_and_long_comment(db):
    record(db, "a")
    assert db.record_feedback("nope", "up") is False
    with pytest.raises(ValueError):
        db.record_feedback("a", "meh")
    assert db.record_feedback("a", "down", "x" * 5000)
    comment = sqlite3.connect(db.path).execute("SELECT comment FROM feedback").fetchone()[0]
    assert len(comment) == 1000
    assert db.stats()["feedback_count"] == 1


def test_stats_period_window(db, clock):
    record(db, "old")
    clock.advance(40 * 86400)
    record(db, "new")
    assert db.stats(days=30)["questions"] == 1
    assert db.stats(days=60)["questions"] == 2
    assert db.stats(days=7)["period_days"] == 7


def test_retention_pruning_with_injected_clock(tmp_path, clock):
    db = Analytics(tmp_path / "a.sqlite3", retention_days=10, clock=clock)
    record(db, "old1")
    record(db, "old2")
    db.record_feedback("old1", "up")
    clock.advance(11 * 86400)
    record(db, "new")  # more than a minute since the last prune, so this insert prunes
    count = sqlite3.connect(db.path).execute("SELECT COUNT(*) FROM questions").fetchone()[0]
    assert count == 1
    feedback = sqlite3.connect(db.path).execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    assert feedback == 0  # feedback goes with its question
    assert db.record_feedback("old1", "up") is False
    db.close()


def test_pruning_is_rate_limited_and_caps_rows(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(analytics_module, "PRUNE_EVERY", 1000)
    db = Analytics(tmp_path / "a.sqlite3", max_rows=5, clock=clock)
    for i in range(8):
        clock.advance(1)
        record(db, f"q{i}")
    assert db.stats()["questions"] == 8  # no prune yet: within a minute and under PRUNE_EVERY
    clock.advance(60)
    record(db, "q8")
    assert db.stats()["questions"] == 5
    ids = [row[0] for row in sqlite3.connect(db.path).execute("SELECT answer_id FROM questions ORDER BY ts")]
    assert ids == ["q4", "q5", "q6", "q7", "q8"]  # the oldest go first
    db.close()


def test_pruning_every_n_inserts(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(analytics_module, "PRUNE_EVERY", 3)
    db = Analytics(tmp_path / "a.sqlite3", max_rows=2, clock=clock)
    for i in range(3):
        record(db, f"q{i}")
    assert db.stats()["questions"] == 2
    db.close()


def test_concurrent_writes_from_threads(db):
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(50):
                answer_id = f"t{n}-{i}"
                record(db, answer_id, question=f"question {i % 5}", latency_ms=float(i))
                assert db.record_feedback(answer_id, "up" if i % 2 else "down")
                if i % 10 == 0:
                    db.stats()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stats = db.stats()
    assert stats["questions"] == 300
    assert stats["feedback_count"] == 300
    assert stats["thumbs_up_rate"] == 0.5
    assert stats["top_questions"][0]["count"] == 60


def test_two_instances_on_one_file(tmp_path, clock):
    path = tmp_path / "shared.sqlite3"
    first, second = Analytics(path, clock=clock), Analytics(path, clock=clock)
    record(first, "a")
    record(second, "b")
    assert second.record_feedback("a", "up")
    assert first.stats()["questions"] == 2
    first.close()
    second.close()


def test_data_survives_reopen_and_use_after_close(tmp_path, clock):
    path = tmp_path / "a.sqlite3"
    db = Analytics(path, clock=clock)
    record(db, "a")
    db.close()
    db.close()  # idempotent
    record(db, "b")  # a late request at shutdown reopens rather than failing
    db.close()
    reopened = Analytics(path, clock=clock)
    assert reopened.stats()["questions"] == 2
    reopened.close()


def test_record_question_swallows_database_errors(db, monkeypatch, caplog):
    def broken() -> sqlite3.Connection:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(db, "_connection", broken)
    record(db, "a")  # must not raise: analytics never fails an answer
    assert "could not record analytics" in caplog.text


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError):
        Analytics(tmp_path / "a.sqlite3", retention_days=0)
    db = Analytics(tmp_path / "b.sqlite3")
    with pytest.raises(ValueError):
        db.stats(days=0)
    db.close()


def test_conversation_turns_are_recent_bounded_and_shared(tmp_path):
    clock = FakeClock(1000.0)
    one = Analytics(tmp_path / "a.sqlite3", clock=clock)
    two = Analytics(tmp_path / "a.sqlite3", clock=clock)  # another worker on the same file
    for i in range(5):
        one.add_turn("c1", f"question {i}", f"answer {i}")
    one.add_turn("c2", "other", "other answer")
    assert two.recent_turns("c1", 3, max_age_s=60) == [(f"question {i}", f"answer {i}") for i in (2, 3, 4)]
    clock.advance(61)
    assert two.recent_turns("c1", 3, max_age_s=60) == []
