"""The mirror event v1: what production services publish for every LLM call.

This model is the contract; ``schemas/mirror_event.v1.schema.json`` is generated
from it (``shadow schema``) and a test keeps the two equal.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator


class Api(StrEnum):
    """Provider wire formats shadow can read and replay."""

    OPENAI_CHAT = "openai.chat.completions"
    ANTHROPIC_MESSAGES = "anthropic.messages"
    OPENAI_RESPONSES = "openai.responses"


class ProductionError(BaseModel):
    """How production failed when it did not return a response body."""

    model_config = ConfigDict(frozen=True, extra="allow")

    status: int | None = Field(default=None, description="HTTP status production received, if any")
    type: str | None = Field(default=None, description="provider error type, e.g. server_error, rate_limit")
    message: str | None = Field(default=None, description="provider error message")


class MirrorEvent(BaseModel):
    """One production LLM call: the request as sent and the response as received.

    Unknown top-level fields are ignored so producers can add fields before
    consumers know them; every known field is validated strictly.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        title="MirrorEvent",
        json_schema_extra={"$id": "https://github.com/shadow-rollouts/shadow/schemas/mirror_event.v1.schema.json"},
    )

    schema_version: Literal[1] = Field(description="always 1 for this version of the contract")
    event_id: str = Field(min_length=1, max_length=256, description="unique per production call; the idempotency key")
    occurred_at: AwareDatetime = Field(description="RFC 3339 timestamp with offset: when production answered")
    service: str = Field(min_length=1, max_length=256, description="the service that made the call")
    environment: str = Field(min_length=1, max_length=64, description="e.g. prod, staging")
    workflow: str = Field(
        min_length=1,
        max_length=128,
        description="unit of sampling, routing and gating, e.g. support_chat",
    )
    tenant: str | None = Field(default=None, max_length=256, description="customer or tenant, for per-tenant views")
    subject: str | None = Field(
        default=None,
        max_length=256,
        description="conversation or user key; sampling is sticky per subject",
    )
    api: Api = Field(description="wire format of request and response")
    request: dict[str, Any] = Field(description="the provider request body as production sent it")
    response: dict[str, Any] | None = Field(description="the provider response body, or null when production failed")
    error: ProductionError | None = Field(default=None, description="set when production failed")
    latency_ms: float = Field(strict=True, ge=0, description="production latency in milliseconds")
    stream: bool = Field(
        default=False,
        strict=True,
        description="production's call was streamed; response is then the final body assembled from the chunks "
        "(the shape a non-streamed call returns)",
    )
    ttft_ms: float | None = Field(
        default=None,
        strict=True,
        ge=0,
        description="time to first token in milliseconds, as production's caller saw it (streamed calls)",
    )
    tags: dict[str, str] = Field(default_factory=dict, description="free-form labels, e.g. prompt_version, release")

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_integer(cls, value: Any) -> Any:
        if type(value) is not int:
            raise ValueError(f"must be the integer 1, got {type(value).__name__}")
        return value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _timestamp_text(cls, value: Any) -> Any:
        # JSON has no timestamp type: the contract is an RFC 3339 string, not epoch numbers.
        if not isinstance(value, str):
            raise ValueError("must be an RFC 3339 timestamp string such as 2026-11-23T10:00:00.123Z")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _plausible_time(cls, value: datetime) -> datetime:
        # ClickHouse DateTime64 partitions and TTLs need a sane range; year 9999 is a producer bug.
        if not 1970 <= value.year < 2100:
            raise ValueError(f"year {value.year} is outside 1970-2099")
        return value

    @model_validator(mode="after")
    def _response_or_error(self) -> MirrorEvent:
        if self.response is None and self.error is None:
            raise ValueError("either response or error must be set (both are null)")
        return self

    @property
    def production_model(self) -> str:
        """The model production asked for (the response's model when the request has none)."""
        model = self.request.get("model")
        if isinstance(model, str) and model:
            return model
        if self.response is not None and isinstance(self.response.get("model"), str):
            return str(self.response["model"])
        return ""


def mirror_event_json_schema() -> dict[str, Any]:
    """The JSON Schema of mirror event v1, as committed under ``schemas/``."""
    return MirrorEvent.model_json_schema(mode="validation")
