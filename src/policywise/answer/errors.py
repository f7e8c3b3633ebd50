"""The one error type of LLM calls, importable without loading the OpenAI SDK.

The SDK and its HTTP stack cost ~30 MB of memory; an offline (extractive) deployment never imports
them, yet still names this error in its fallback paths.
"""

from __future__ import annotations

ERROR_KINDS = (
    "timeout",
    "rate_limited",
    "server_error",
    "connection",
    "bad_response",
    "circuit_open",
    "deadline",
    "client_error",
)
_RETRYABLE_KINDS = frozenset({"timeout", "rate_limited", "server_error", "connection"})


class LLMError(Exception):
    """A failed LLM call. ``kind`` is one of ERROR_KINDS; ``retryable`` says whether trying again may help."""

    def __init__(
        self,
        kind: str,
        message: str = "",
        *,
        retryable: bool | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown LLMError kind {kind!r}")
        self.kind = kind
        self.message = message
        self.retryable = kind in _RETRYABLE_KINDS if retryable is None else retryable
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"{kind}: {message}" if message else kind)
