"""The emitter's settings: who emits, where to, what is sampled and redacted, and the bounds.

Precedence, highest first: keyword arguments > ``SHADOW_EMIT_*`` environment variables (nested keys
joined by ``__``, e.g. ``SHADOW_EMIT_KAFKA__BOOTSTRAP_SERVERS``; maps as JSON) > defaults.
:meth:`EmitterSettings.from_worker_config` takes Kafka, sampling and redaction from the worker's YAML
file, so the emitter samples and redacts exactly as the workers do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shadow.config import RedactionSettings, load_settings
from shadow.emit.sampling import SourceSampler
from shadow.events.settings import KafkaSettings

__all__ = ["EmitterSettings"]

MiB = 1024 * 1024


class EmitterSettings(BaseSettings):
    """Settings of one :class:`shadow.emit.Emitter` (one per process is the usual)."""

    model_config = SettingsConfigDict(env_prefix="SHADOW_EMIT_", env_nested_delimiter="__", frozen=True, extra="forbid")

    service: str = Field(min_length=1, max_length=256, description="the service that makes the calls")
    environment: str = Field(default="production", min_length=1, max_length=64, description="e.g. production")
    workflow: str = Field(
        default="default", min_length=1, max_length=128, description="workflow of calls made outside any context()"
    )
    kafka: KafkaSettings = Field(
        default_factory=lambda: KafkaSettings(client_id="shadow-emit"),
        description="brokers, topic (kafka.topic) and security, as the worker's kafka: section",
    )
    default_rate: float = Field(default=1.0, ge=0, le=1, description="share of calls mirrored when no rate is set")
    sample_rates: dict[str, float] = Field(default_factory=dict, description="share of calls mirrored, per workflow")
    salt: str = Field(default="", description="the workers' sampling.salt")
    redact: bool = Field(
        default=True,
        description="redact requests, responses, errors, tenant, subject and tags in the emitter (in its "
        "publisher thread) with the workers' rules; candidates then see tokens instead of the values",
    )
    redaction: RedactionSettings = Field(
        default_factory=RedactionSettings, description="the rules, as the worker's redaction: section"
    )
    emit_retriable_errors: bool = Field(
        default=False,
        description="also emit attempts answered 408/409/429/5xx (each its own error event); by default they "
        "are counted as retried and only the attempt that gets an answer is emitted",
    )
    max_buffer_events: int = Field(default=1000, gt=0, description="exchanges waiting for the publisher, at most")
    max_buffer_bytes: int = Field(default=32 * MiB, gt=0, description="bytes of those exchanges, at most")
    max_capture_bytes: int = Field(
        default=4 * MiB,
        gt=0,
        description="bytes recorded of one exchange (request + response as received, SSE framing included); "
        "a larger one is dropped as too_large",
    )
    max_event_bytes: int = Field(
        default=1_048_576,
        gt=0,
        description="largest event sent (the producer's max_request_size; the workers' pipeline.max_event_bytes)",
    )
    max_in_flight: int = Field(default=1000, gt=0, description="events handed to the producer and not acknowledged")
    publish_interval_ms: int = Field(
        default=20,
        gt=0,
        le=1000,
        description="how often a busy publisher takes exchanges from the buffer (a call never wakes it then); "
        "after a second without any, it sleeps until the next call hands one over",
    )
    acks: Literal[0, 1, "all"] = Field(default=1, description="acknowledgements the producer waits for")
    linger_ms: int = Field(default=5, ge=0, description="how long the producer waits to fill a batch")
    send_timeout_s: float = Field(
        default=10.0, gt=0, description="a send not acknowledged within this is dropped as send_failed"
    )
    connect_backoff_max_s: float = Field(default=10.0, gt=0, description="longest wait between connection attempts")
    close_timeout_s: float = Field(default=5.0, ge=0, description="time close() (and exit) gives pending events")

    @model_validator(mode="after")
    def _rates_in_range(self) -> EmitterSettings:
        self.sampler()  # raises on a rate outside [0, 1]
        return self

    def sampler(self) -> SourceSampler:
        return SourceSampler(self.sample_rates, self.default_rate, self.salt)

    @classmethod
    def from_worker_config(cls, path: str | Path, **overrides: Any) -> EmitterSettings:
        """Settings whose Kafka, sampling and redaction come from a worker's YAML file.

        ``overrides`` (``service=...`` at least) win over the file. The worker's ``SHADOW_*`` environment
        applies to the file's values as in the worker (``load_settings``).

        Raises:
            shadow.errors.ConfigError: the file is missing or invalid.
        """
        worker = load_settings(path)
        rates = {name: wf.sample_rate for name, wf in worker.workflows.items() if wf.sample_rate is not None}
        values: dict[str, Any] = {
            "kafka": worker.kafka.model_copy(update={"client_id": "shadow-emit"}),
            "default_rate": worker.sampling.default_rate,
            "sample_rates": rates,
            "salt": worker.sampling.salt,
            "redaction": worker.redaction,
            "redact": worker.redaction.enabled,
        }
        values.update(overrides)
        return cls(**values)
