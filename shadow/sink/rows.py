"""Build comparison rows and ingest-log rows from an event, a replay result and its diff.

``COMPARISON_COLUMNS`` and ``INGEST_COLUMNS`` are the column order of the tables
in ``schemas/clickhouse/``; a drift test keeps them equal to the DDL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from shadow.config import CandidateSettings
from shadow.diff.compare import Comparison, DiffContext
from shadow.diff.limits import DEFAULT_LIMITS
from shadow.events.models import MirrorEvent
from shadow.events.output import Output
from shadow.events.records import Position
from shadow.redaction import NO_REDACTION, Redactor
from shadow.replay.result import ReplayResult

COMPARISON_COLUMNS: tuple[str, ...] = (
    "event_id", "candidate", "candidate_role", "candidate_provider", "candidate_model", "production_model",
    "api", "workflow", "service", "environment", "tenant", "subject", "occurred_at", "compared_at",
    "config_version", "prompt_version", "tags", "source_position",
    "status", "error_kind", "http_status", "error_message", "attempts",
    "production_latency_ms", "candidate_latency_ms", "latency_ratio",
    "production_input_tokens", "production_output_tokens", "candidate_input_tokens", "candidate_output_tokens",
    "production_cost_usd", "candidate_cost_usd", "cost_ratio",
    "production_json_valid", "candidate_json_valid", "production_json_extracted", "candidate_json_extracted",
    "production_schema_valid", "candidate_schema_valid", "candidate_schema_errors",
    "json_equal", "json_diff_paths", "json_diff_kinds",
    "production_chars", "candidate_chars", "production_words", "candidate_words",
    "length_ratio", "word_ratio", "output_token_ratio",
    "production_tool_calls", "candidate_tool_calls", "tool_names_match", "tool_args_match",
    "candidate_tool_args_valid", "candidate_tool_schema_valid", "candidate_tool_schema_errors",
    "tool_diff_paths", "tool_diff_kinds", "tool_precision", "tool_recall", "tool_f1", "tool_name_f1",
    "tool_vs_text",
    "similarity", "levenshtein_similarity", "token_set_similarity",
    "production_finish_reason", "candidate_finish_reason", "finish_reason_changed", "truncated",
    "production_refusal", "candidate_refusal", "new_refusal", "production_empty", "candidate_empty",
    "production_text", "candidate_text", "production_output", "candidate_output", "request_context",
    "comparator_version", "row_version",
    "request_changes", "caps", "candidate_loop_lag_ms",
    "production_ttft_ms", "candidate_ttft_ms",
)  # fmt: skip

INGEST_COLUMNS: tuple[str, ...] = (
    "source", "partition", "offset", "position", "event_id", "workflow", "api", "tenant", "occurred_at",
    "ingested_at", "outcome", "reason", "detail", "candidates", "row_version", "candidate_skips",
)  # fmt: skip

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowContext:
    """What every row of one run shares."""

    config_version: str
    redactor: Redactor
    max_text_chars: int
    max_tool_calls: int = DEFAULT_LIMITS.max_tool_calls  # tool calls stored per output: those the diff compared


def row_version(at: datetime) -> int:
    """Microseconds since the epoch: the newest row of an (event, candidate) wins."""
    return int(at.timestamp() * 1_000_000)


# Stored difference paths and schema errors are cut to this many characters (after redaction).
MAX_STORED_PATH_CHARS = 1000
# In a row's caps when redaction.store_text is false: no text was kept, so the row cannot be re-scored.
TEXT_NOT_STORED = "text_not_stored"


def stored_output(output: Output | None, ctx: RowContext) -> tuple[str, str]:
    """(text, output JSON without text) as stored: redacted and capped.

    Texts and tool arguments are cut before they are redacted (``Redactor.cut``), so the work
    is bounded by ``max_text_chars``; only the first ``max_tool_calls`` calls are kept.
    """
    if output is None:
        return "", ""
    redactor = ctx.redactor
    keep = redactor.store_text
    text = redactor.cut(output.text, ctx.max_text_chars) if keep else ""
    data = output.to_dict()
    del data["text"]
    data["tool_calls"] = [
        {**call, "arguments": redactor.cut(call["arguments"], ctx.max_text_chars) if keep else ""}
        for call in data["tool_calls"][: ctx.max_tool_calls]
    ]
    if data.get("refusal"):  # the model's own words, like the text
        data["refusal"] = redactor.cut(data["refusal"], ctx.max_text_chars) if keep else ""
    return text, orjson.dumps(data).decode()


def restore_output(text: str, stored: str) -> Output | None:
    """Inverse of :func:`stored_output` (for re-scoring)."""
    if not stored:
        return None
    data = orjson.loads(stored)
    data["text"] = text
    return Output.from_dict(data)


def request_context_json(context: DiffContext, redactor: Redactor | None = None) -> str:
    """The parts of the request the diff needs, stored so rows can be re-scored without the event.

    Schemas come from the request: their strings (enum values, descriptions) are redacted like any text.
    """
    document = {
        "response_schema": orjson.loads(context.response_schema) if context.response_schema else None,
        "tool_schemas": {name: orjson.loads(schema) for name, schema in context.tool_schemas.items()},
    }
    if redactor is not None:
        if not redactor.store_text:
            return ""
        document = redactor.schema(document)
    return orjson.dumps(document).decode()


def _status(production: Output | None, result: ReplayResult) -> str:
    if result.skipped:
        return "skipped"  # not a comparison: the read side counts it apart (circuit breaker open)
    candidate = result.output
    if production is None and candidate is None:
        return "both_error"
    if production is None:
        return "production_error"
    if candidate is None:
        return "candidate_error"
    return "ok"


def _u32(value: int | None) -> int | None:
    # Providers report what they like; a negative or huge count must not poison a batch insert.
    if value is None or value < 0:
        return None
    return min(value, 2**32 - 1)


def _opt_bool(value: bool | None) -> bool | None:
    return None if value is None else bool(value)


def diff_columns(comparison: Comparison) -> Row:
    """The columns computed by the diff stage (what ``shadow rescore`` rewrites)."""
    p, c, pair = comparison.production, comparison.candidate, comparison.pair
    tools = pair.tools if pair else None
    return {
        "latency_ratio": (
            comparison.candidate_latency_ms / comparison.production_latency_ms
            if pair and comparison.candidate_latency_ms is not None and comparison.production_latency_ms
            else None
        ),
        "production_input_tokens": _u32(p.input_tokens) if p else None,
        "production_output_tokens": _u32(p.output_tokens) if p else None,
        "candidate_input_tokens": _u32(c.input_tokens) if c else None,
        "candidate_output_tokens": _u32(c.output_tokens) if c else None,
        "production_cost_usd": p.cost_usd if p else None,
        "candidate_cost_usd": c.cost_usd if c else None,
        "cost_ratio": pair.cost_ratio if pair else None,
        "production_json_valid": p.json_valid if p else None,
        "candidate_json_valid": c.json_valid if c else None,
        "production_json_extracted": p.json_extracted if p else None,
        "candidate_json_extracted": c.json_extracted if c else None,
        "production_schema_valid": _opt_bool(p.schema_valid) if p else None,
        "candidate_schema_valid": _opt_bool(c.schema_valid) if c else None,
        "candidate_schema_errors": list(c.schema_errors) if c else [],
        "json_equal": pair.json_equal if pair else None,
        "json_diff_paths": [d.path for d in pair.json_differences] if pair else [],
        "json_diff_kinds": [d.kind.value for d in pair.json_differences] if pair else [],
        "production_chars": _u32(p.chars) if p else None,
        "candidate_chars": _u32(c.chars) if c else None,
        "production_words": _u32(p.words) if p else None,
        "candidate_words": _u32(c.words) if c else None,
        "length_ratio": pair.length_ratio if pair else None,
        "word_ratio": pair.word_ratio if pair else None,
        "output_token_ratio": pair.output_token_ratio if pair else None,
        "production_tool_calls": min(p.tool_calls, 65535) if p else None,
        "candidate_tool_calls": min(c.tool_calls, 65535) if c else None,
        "tool_names_match": tools.names_match if tools else None,
        "tool_args_match": tools.arguments_match if tools else None,
        "candidate_tool_args_valid": c.tool_arguments_valid if c else None,
        "candidate_tool_schema_valid": c.tool_schema_valid if c else None,
        "candidate_tool_schema_errors": list(c.tool_schema_errors) if c else [],
        "tool_diff_paths": list(tools.difference_paths) if tools else [],
        "tool_diff_kinds": list(tools.difference_kinds) if tools else [],
        "tool_precision": tools.precision if tools else None,
        "tool_recall": tools.recall if tools else None,
        "tool_f1": tools.f1 if tools else None,
        "tool_name_f1": tools.name_f1 if tools else None,
        "tool_vs_text": tools.tool_vs_text if tools else None,
        "similarity": pair.similarity if pair else None,
        "levenshtein_similarity": pair.levenshtein_similarity if pair else None,
        "token_set_similarity": pair.token_set_similarity if pair else None,
        "production_finish_reason": p.finish_reason if p else "error",
        "candidate_finish_reason": c.finish_reason if c else "error",
        "finish_reason_changed": pair.finish_reason_changed if pair else None,
        "truncated": pair.truncated if pair else None,
        "production_refusal": p.refusal if p else None,
        "candidate_refusal": c.refusal if c else None,
        "new_refusal": pair.new_refusal if pair else None,
        "production_empty": p.empty if p else None,
        "candidate_empty": c.empty if c else None,
        "comparator_version": comparison.comparator_version,
        "caps": list(comparison.caps),
    }


@dataclass(frozen=True, slots=True)
class EventColumns:
    """The stored columns every candidate's row of one event shares (redacted and serialized once)."""

    production: Output | None
    production_text: str
    production_output: str
    request_context: str
    # The event's identifying texts, redacted: workflow, service, environment, tenant, subject, tags.
    identity: Row

    @classmethod
    def of(
        cls, production: Output | None, diff_context: DiffContext, ctx: RowContext, event: MirrorEvent
    ) -> EventColumns:
        text, output = stored_output(production, ctx)
        return cls(production, text, output, request_context_json(diff_context, ctx.redactor), identity(event, ctx))


def identity(event: MirrorEvent, ctx: RowContext) -> Row:
    """The event's identifying columns as stored: each text through the redaction (tags: keys and values)."""
    redact = ctx.redactor
    return {
        "workflow": redact(event.workflow),
        "service": redact(event.service),
        "environment": redact(event.environment),
        "tenant": redact(event.tenant or ""),
        "subject": redact.cut(event.subject or "", MAX_STORED_PATH_CHARS),
        "prompt_version": redact(event.tags.get("prompt_version", "")),
        "tags": redact.mapping(dict(event.tags)),
    }


def build_comparison_row(
    *,
    event: MirrorEvent,
    position: Position,
    candidate: CandidateSettings,
    shared: EventColumns,
    result: ReplayResult,
    comparison: Comparison,
    ctx: RowContext,
    compared_at: datetime | None = None,
) -> Row:
    """One comparison row for (event, candidate)."""
    compared_at = compared_at or datetime.now(UTC)
    production = shared.production
    candidate_text, candidate_output = stored_output(result.output, ctx)
    row: Row = {
        "event_id": event.event_id,
        "candidate": candidate.name,
        "candidate_role": candidate.role,
        "candidate_provider": candidate.provider,
        "candidate_model": result.model,
        "production_model": event.production_model,
        "api": event.api.value,
        **shared.identity,
        "occurred_at": event.occurred_at.astimezone(UTC),
        "compared_at": compared_at,
        "config_version": ctx.config_version,
        "source_position": str(position),
        "status": _status(production, result),
        "error_kind": result.error_kind.value if result.error_kind else "",
        "http_status": result.http_status,
        "error_message": ctx.redactor.cut(result.error_message, ctx.max_text_chars) if ctx.redactor.store_text else "",
        "attempts": min(result.attempts, 255),
        "production_latency_ms": float(event.latency_ms),
        "candidate_latency_ms": float(result.latency_ms),
        # How much of candidate_latency_ms may be this worker's own saturation (NULL: no call, or no loop watch).
        "candidate_loop_lag_ms": result.loop_lag_ms,
        # Time to first token: production's when its call was streamed, the candidate's when called streaming.
        "production_ttft_ms": event.ttft_ms,
        "candidate_ttft_ms": result.ttft_ms,
        "production_text": shared.production_text,
        "candidate_text": candidate_text,
        "production_output": shared.production_output,
        "candidate_output": candidate_output,
        "request_context": shared.request_context,
        "row_version": row_version(compared_at),
        "request_changes": list(result.request_changes),
    }
    row.update(stored_diff_columns(comparison, ctx.redactor))
    return row


def stored_diff_columns(comparison: Comparison, redactor: Redactor) -> Row:
    """The diff stage's columns as stored (by the worker and by ``shadow rescore`` alike).

    Paths and schema errors quote keys and values of the answers: they are redacted like the texts.
    """
    row = diff_columns(comparison)
    for column in ("json_diff_paths", "tool_diff_paths", "candidate_schema_errors", "candidate_tool_schema_errors"):
        row[column] = (
            [redactor.cut(value, MAX_STORED_PATH_CHARS) for value in row[column]] if redactor.store_text else []
        )
    if not redactor.store_text:
        row["caps"] = [*row["caps"], TEXT_NOT_STORED]
    return row


def build_ingest_row(
    *,
    position: Position,
    outcome: str,
    reason: str = "",
    detail: str = "",
    event: MirrorEvent | None = None,
    candidates: int = 0,
    candidate_skips: Mapping[str, str] | None = None,
    timestamp_ms: int | None = None,
    now: datetime | None = None,
    redactor: Redactor | None = None,
) -> Row:
    """One ingest-log row: what became of a consumed record.

    ``candidate_skips`` names each candidate not sent the event, with why (``ScopeSkip``: sampled_out,
    out_of_scope, disabled); the candidates sent it have comparison rows instead.
    """
    now = now or datetime.now(UTC)
    redact = redactor or NO_REDACTION
    if event is not None:
        occurred_at = event.occurred_at.astimezone(UTC)
    elif timestamp_ms is not None:
        occurred_at = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    else:
        occurred_at = now
    return {
        "source": position.source,
        "partition": position.partition,
        "offset": position.offset,
        "position": str(position),
        "event_id": event.event_id if event else "",
        "workflow": redact(event.workflow) if event else "",
        "api": event.api.value if event else "",
        "tenant": redact(event.tenant or "") if event else "",
        "occurred_at": occurred_at,
        "ingested_at": now,
        "outcome": outcome,
        "reason": redact(reason),
        "detail": redact.cut(detail, 1000),
        "candidates": candidates,
        "row_version": row_version(now),
        "candidate_skips": {name: str(reason) for name, reason in (candidate_skips or {}).items()},
    }


def as_values(row: Row, columns: tuple[str, ...]) -> list[Any]:
    """The row's values in table column order."""
    return [row[name] for name in columns]
