"""What one candidate call produced: its output, or why there is none, as a value.

The replay stage returns these and the sink builds rows from them, so the type lives
beside replay, not inside the HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shadow.events.output import Output


class ErrorKind(StrEnum):
    """Why a candidate call produced no output."""

    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect_error"
    TRANSPORT_ERROR = "transport_error"
    RATE_LIMITED = "rate_limited"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    INVALID_RESPONSE = "invalid_response"
    RESPONSE_TOO_LARGE = "response_too_large"
    """The body passed ``max_response_bytes`` on the wire or ``max_response_decompressed_bytes`` decoded."""
    TRANSLATION_ERROR = "translation_error"
    MODEL_NOT_ALLOWED = "model_not_allowed"
    """Not sent: a control lane (``model: null``) met an event naming a model outside its ``control_models``
    (the row's status is ``skipped``)."""
    INTERNAL_ERROR = "internal_error"
    CIRCUIT_OPEN = "circuit_open"
    """Not sent: the candidate's circuit breaker was open (the row's status is ``skipped``)."""
    KILLED = "killed"
    """Not sent, or cancelled in flight: the candidate (or every candidate) is disabled on the control
    topic (``shadow ctl disable``; the row's status is ``skipped``)."""
    PAUSED = "paused"
    """Not sent, or cancelled in flight: the candidate is paused on the control topic (status ``skipped``)."""
    THROTTLED = "throttled"
    """Not sent: the group's rate limits (``rate_limit_rpm``, ``rate_limit_tpm``) would have made the call wait
    longer than ``rate_limit_max_wait_s`` (status ``skipped``)."""
    BUDGET = "budget"
    """Not sent: the candidate's budget for this hour or day is used up across the group (status ``skipped``)."""


RETRIABLE_KINDS = frozenset(
    {
        ErrorKind.CONNECT_ERROR,
        ErrorKind.TRANSPORT_ERROR,
        ErrorKind.RATE_LIMITED,
        ErrorKind.HTTP_5XX,
    }
)
"""Failures worth another attempt (with backoff, up to the candidate's ``max_retries``). A timeout is
retried only when the candidate's ``retry_timeouts`` says so: the provider may bill a call it was still
answering."""

SKIPPED_KINDS = frozenset(
    {
        ErrorKind.CIRCUIT_OPEN,
        ErrorKind.MODEL_NOT_ALLOWED,
        ErrorKind.KILLED,
        ErrorKind.PAUSED,
        ErrorKind.BUDGET,
        ErrorKind.THROTTLED,
    }
)
"""Calls not made by choice: their rows have status ``skipped``, counted apart from comparisons and errors."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    """A candidate's answer to one event, or why there is none."""

    candidate: str
    model: str
    output: Output | None
    error_kind: ErrorKind | None = None
    http_status: int = 0
    error_message: str = ""
    latency_ms: float = 0.0
    loop_lag_ms: float | None = None
    """How late this worker's event loop was at worst during the call (``LoopWatch.lag_s``): an answer that
    arrived meanwhile waited that long in its socket, inflating ``latency_ms``. ``None`` when no call was
    made or no loop watch ran."""
    ttft_ms: float | None = None
    """A streamed call's time to first token (the last attempt's); ``None`` when the candidate was not called
    streaming, answered unstreamed, or sent no token."""
    attempts: int = 1
    started_at: datetime | None = None
    request_changes: tuple[str, ...] = ()
    """Parameters removed from or capped in the request the candidate received (stored per row)."""

    @property
    def ok(self) -> bool:
        return self.output is not None

    @property
    def skipped(self) -> bool:
        """Not a comparison: the call was not made (or was abandoned) because the circuit was open, or because a
        control lane does not replay the event's model."""
        return self.error_kind in SKIPPED_KINDS
