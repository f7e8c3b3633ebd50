"""Request bodies of the HTTP API, validated with pydantic: a wrong request names its field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatRequest(_Body):
    message: StrictStr = Field(min_length=1, max_length=4000)
    conversation_id: StrictStr | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    stream: StrictBool = False
    provider: Literal["extractive", "llm"] | None = None


class SearchRequest(_Body):
    query: StrictStr = Field(min_length=1, max_length=2000)
    top_k: StrictInt = Field(default=5, ge=1, le=20)


class FeedbackRequest(_Body):
    answer_id: StrictStr = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    rating: Literal["up", "down"]
    comment: StrictStr | None = Field(default=None, max_length=1000)
