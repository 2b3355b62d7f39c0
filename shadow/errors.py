"""The exception tree of shadow.

Every error shadow raises on purpose derives from :class:`ShadowError`; foreign
exceptions (aiokafka, httpx, clickhouse-connect) are translated at the boundary
that calls the library, always with ``raise ... from exc``.

ShadowError
├── ConfigError              a setting is missing, malformed or contradictory
├── DecodeError              a record is not a valid mirror event (goes to the dead letters)
│   └── OversizedEventError  a record is larger than the configured limit
├── ResponseFormatError      a provider body does not have the shape its API documents
├── TranslationError         a request cannot be expressed in a candidate's wire format
├── StoreError               ClickHouse / chDB failed (the batcher retries writes with backoff)
│   ├── StoreBusyError       the embedded chDB directory is held by another process
│   └── MigrationError       DDL could not be applied
├── SourceError              the Kafka consumer or the NDJSON input failed
├── DeadLetterError          a dead letter could not be written (the record is not committed)
└── UnusableExchangeError    (shadow.emit.build) a recorded call cannot become a mirror event: dropped, counted

Retries are decided where an error is caught, each in one place: the row
batcher retries ``StoreError`` on writes, the pipeline retries ``DeadLetterError``,
and nothing else is retried. Inside the pipeline a candidate failure is not an
exception: it becomes a comparison row with ``status`` and ``error_kind``, and
``shadow.replay.result.RETRIABLE_KINDS`` says which kinds get another attempt.
"""

from __future__ import annotations


class ShadowError(Exception):
    """Root of every error shadow raises on purpose."""


class ConfigError(ShadowError):
    """A setting is missing, malformed or contradictory."""


class DecodeError(ShadowError):
    """A record could not be decoded or validated as a mirror event.

    ``reason`` is a short human sentence naming the field at fault; the caller
    adds the source position (topic/partition/offset or file:line).
    """

    def __init__(self, reason: str, kind: str = "invalid_event") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class OversizedEventError(DecodeError):
    """A record is larger than ``max_event_bytes``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "oversized")


class ResponseFormatError(ShadowError):
    """A provider response body does not have the documented shape."""


class TranslationError(ShadowError):
    """A request cannot be translated to a candidate's wire format."""


class StoreError(ShadowError):
    """ClickHouse or chDB failed; retried with backoff by the sink."""


class StoreBusyError(StoreError):
    """The embedded chDB directory is already in use by another process."""


class MigrationError(StoreError):
    """DDL could not be applied."""


class SourceError(ShadowError):
    """The Kafka consumer or the NDJSON input failed."""


class DeadLetterError(ShadowError):
    """A dead letter could not be written; its record stays uncommitted."""
