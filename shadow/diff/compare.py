"""Assemble every diff family for one (production output, candidate output) pair.

Side metrics (validity, length, refusal…) are computed per output, so a failed
side still reports the other; pair metrics (differences, similarity, matching)
need both. Pure: no I/O, no clock. Every family is linear in the outputs or runs
within the context's :class:`~shadow.diff.limits.DiffLimits`; the caps that
applied are listed in :attr:`Comparison.caps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shadow.diff.behaviour import DEFAULT_REFUSAL_DETECTOR, RefusalDetector, is_empty, is_truncation
from shadow.diff.cost import Price, request_cost_usd
from shadow.diff.jsondiff import JsonDifference, bounded_diff
from shadow.diff.jsontext import JsonText, inspect_json
from shadow.diff.limits import DEFAULT_LIMITS, TEXT_CUT, DiffLimits
from shadow.diff.schema import check_schema, schema_key
from shadow.diff.text import EMPTY_UNITS, TextUnits, ratio, similarity_of, text_units
from shadow.diff.tools import (
    ToolComparison,
    arguments_are_object,
    check_tool_calls,
    compare_tool_calls,
    tool_schemas,
)
from shadow.events.output import FinishReason, Output

# Bump when a change makes stored diff columns differ for the same outputs;
# `shadow rescore` recomputes rows written by older versions.
# 2: work caps (issue 8) — json_equal false past max_json_nodes, schema checks not run (null) on
#    oversized or deep answers and unsafe patterns, deep JSON diffed instead of failing.
COMPARATOR_VERSION = 2


@dataclass(frozen=True, slots=True)
class DiffContext:
    """What the request says about valid answers, plus refusal patterns, prices and work caps."""

    response_schema: bytes | None = None
    tool_schemas: Mapping[str, bytes] = field(default_factory=dict)
    refusal: RefusalDetector = DEFAULT_REFUSAL_DETECTOR
    prices: Mapping[str, Price] = field(default_factory=dict)
    limits: DiffLimits = DEFAULT_LIMITS

    @classmethod
    def from_request(
        cls,
        request: Mapping[str, Any] | None,
        *,
        workflow_schema: dict[str, Any] | None = None,
        refusal: RefusalDetector = DEFAULT_REFUSAL_DETECTOR,
        prices: Mapping[str, Price] | None = None,
        limits: DiffLimits = DEFAULT_LIMITS,
    ) -> DiffContext:
        """Context from a request body: a declared JSON schema (chat ``response_format``, Responses ``text.format``)
        wins over the workflow schema."""
        request = request or {}
        schema: dict[str, Any] | None = workflow_schema
        response_format = request.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            declared = (response_format.get("json_schema") or {}).get("schema")
            if isinstance(declared, dict):
                schema = declared
        text = request.get("text")
        text_format = text.get("format") if isinstance(text, dict) else None
        if isinstance(text_format, dict) and text_format.get("type") == "json_schema":
            declared = text_format.get("schema")
            if isinstance(declared, dict):
                schema = declared
        return cls(
            response_schema=schema_key(schema) if schema is not None else None,
            tool_schemas=tool_schemas(dict(request)),
            refusal=refusal,
            prices=prices or {},
            limits=limits,
        )


@dataclass(frozen=True, slots=True)
class SideMetrics:
    """Metrics of one output on its own."""

    json_valid: bool
    json_extracted: bool
    schema_valid: bool | None
    schema_errors: tuple[str, ...]
    chars: int
    words: int
    input_tokens: int | None
    output_tokens: int | None
    tool_calls: int
    tool_arguments_valid: bool | None
    tool_schema_valid: bool | None
    tool_schema_errors: tuple[str, ...]
    finish_reason: str
    refusal: bool
    empty: bool
    cost_usd: float | None
    json_text: JsonText = field(repr=False, compare=False, default=JsonText(False, False))
    text_units: TextUnits = field(repr=False, compare=False, default=EMPTY_UNITS)
    caps: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PairMetrics:
    """Metrics that need both outputs."""

    json_equal: bool | None
    json_differences: tuple[JsonDifference, ...]
    length_ratio: float | None
    word_ratio: float | None
    output_token_ratio: float | None
    similarity: float
    levenshtein_similarity: float
    token_set_similarity: float
    tools: ToolComparison
    finish_reason_changed: bool
    truncated: bool
    new_refusal: bool
    cost_ratio: float | None
    caps: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Comparison:
    """The result of comparing a candidate with production for one event."""

    production: SideMetrics | None
    candidate: SideMetrics | None
    pair: PairMetrics | None
    production_latency_ms: float | None = None
    candidate_latency_ms: float | None = None
    comparator_version: int = COMPARATOR_VERSION
    caps: tuple[str, ...] = ()
    """Work caps that applied while comparing (texts cut, tool calls or paths capped)."""

    def to_dict(self) -> dict[str, Any]:
        """Metrics grouped by family, as ``shadow diff`` prints them."""
        p, c, pair = self.production, self.candidate, self.pair

        def side(attr: str) -> dict[str, Any]:
            return {
                "production": getattr(p, attr) if p else None,
                "candidate": getattr(c, attr) if c else None,
            }

        tools = pair.tools if pair else None
        return {
            "comparator_version": self.comparator_version,
            "caps": list(self.caps),
            "json": {
                "valid": side("json_valid"),
                "extracted": side("json_extracted"),
                "schema_valid": side("schema_valid"),
                "schema_errors": {k: list(v) if v else [] for k, v in side("schema_errors").items()},
                "equal": pair.json_equal if pair else None,
                "differences": [d.to_dict() for d in pair.json_differences] if pair else [],
            },
            "tool_calls": {
                "count": side("tool_calls"),
                "arguments_valid_json": side("tool_arguments_valid"),
                "schema_valid": side("tool_schema_valid"),
                "schema_errors": {k: list(v) if v else [] for k, v in side("tool_schema_errors").items()},
                "names_match": tools.names_match if tools else None,
                "arguments_match": tools.arguments_match if tools else None,
                "precision": tools.precision if tools else None,
                "recall": tools.recall if tools else None,
                "f1": tools.f1 if tools else None,
                "name_f1": tools.name_f1 if tools else None,
                "tool_vs_text": tools.tool_vs_text if tools else None,
                "pairs": [
                    {
                        "production": pp.production.name,
                        "candidate": pp.candidate.name,
                        "name_match": pp.name_match,
                        "arguments_valid_json": pp.arguments_valid,
                        "arguments_match": pp.arguments_match,
                        "differences": [d.to_dict() for d in pp.differences],
                    }
                    for pp in (tools.pairs if tools else ())
                ],
                "unmatched_production": [t.name for t in tools.unmatched_production] if tools else [],
                "unmatched_candidate": [t.name for t in tools.unmatched_candidate] if tools else [],
                "difference_paths": list(tools.difference_paths) if tools else [],
            },
            "length": {
                "chars": side("chars"),
                "words": side("words"),
                "output_tokens": side("output_tokens"),
                "char_ratio": pair.length_ratio if pair else None,
                "word_ratio": pair.word_ratio if pair else None,
                "output_token_ratio": pair.output_token_ratio if pair else None,
            },
            "similarity": {
                "indel": pair.similarity if pair else None,
                "levenshtein": pair.levenshtein_similarity if pair else None,
                "token_set": pair.token_set_similarity if pair else None,
            },
            "behaviour": {
                "finish_reason": side("finish_reason"),
                "finish_reason_changed": pair.finish_reason_changed if pair else None,
                "truncated": pair.truncated if pair else None,
                "refusal": side("refusal"),
                "new_refusal": pair.new_refusal if pair else None,
                "empty": side("empty"),
            },
            "latency": {
                "production_ms": self.production_latency_ms,
                "candidate_ms": self.candidate_latency_ms,
                "ratio": ratio(self.candidate_latency_ms, self.production_latency_ms),
            },
            "tokens": {"input": side("input_tokens"), "output": side("output_tokens")},
            "cost": {"usd": side("cost_usd"), "ratio": pair.cost_ratio if pair else None},
        }


def measure_side(output: Output, context: DiffContext) -> SideMetrics:
    """Metrics of one output on its own (compute production's once per event)."""
    limits = context.limits
    caps: set[str] = set()
    json_text = inspect_json(output.text)
    schema_valid: bool | None = None
    schema_errors: tuple[str, ...] = ()
    if context.response_schema is not None:
        if json_text.found:
            checked = check_schema(
                json_text.value,
                context.response_schema,
                max_nodes=limits.max_schema_nodes,
                max_depth=limits.max_json_depth,
            )
            schema_valid, schema_errors = checked.valid, checked.errors
            if checked.cap is not None:
                caps.add(checked.cap)
        else:
            schema_valid, schema_errors = False, ("$: answer is not JSON",)
    calls = output.tool_calls
    tools_checked = check_tool_calls(calls, context.tool_schemas, limits)
    caps.update(tools_checked.caps)
    units = text_units(output.text, limits.max_similarity_units)
    if units.cut:
        caps.add(TEXT_CUT)
    return SideMetrics(
        json_valid=json_text.valid,
        json_extracted=json_text.extracted,
        schema_valid=schema_valid,
        schema_errors=schema_errors,
        chars=len(output.text),
        words=units.words,
        input_tokens=output.usage.input_tokens,
        output_tokens=output.usage.output_tokens,
        tool_calls=len(calls),
        tool_arguments_valid=all(arguments_are_object(c.arguments) for c in calls) if calls else None,
        tool_schema_valid=tools_checked.valid,
        tool_schema_errors=tools_checked.errors,
        finish_reason=output.finish_reason.value,
        refusal=context.refusal(output),
        empty=is_empty(output),
        cost_usd=request_cost_usd(output.usage, output.model, context.prices),
        json_text=json_text,
        text_units=units,
        caps=frozenset(caps),
    )


def compare(
    production: Output | None,
    candidate: Output | None,
    context: DiffContext | None = None,
    *,
    production_side: SideMetrics | None = None,
    production_latency_ms: float | None = None,
    candidate_latency_ms: float | None = None,
) -> Comparison:
    """Compare a candidate's output with production's.

    Args:
        production: production's output (None when production failed).
        candidate: the candidate's output (None when the candidate failed).
        context: schemas, refusal patterns, prices and caps (defaults: none, default caps).
        production_side: production's precomputed side metrics, to share across candidates.
        production_latency_ms: production latency; candidate_latency_ms likewise.
    """
    context = context or DiffContext()
    p = production_side if production_side is not None else (measure_side(production, context) if production else None)
    c = measure_side(candidate, context) if candidate is not None else None
    pair = None
    if production is not None and candidate is not None and p is not None and c is not None:
        pair = _pair(production, candidate, p, c, context.limits)
    caps = (p.caps if p else frozenset()) | (c.caps if c else frozenset()) | (pair.caps if pair else frozenset())
    return Comparison(p, c, pair, production_latency_ms, candidate_latency_ms, caps=tuple(sorted(caps)))


def _pair(production: Output, candidate: Output, p: SideMetrics, c: SideMetrics, limits: DiffLimits) -> PairMetrics:
    caps: set[str] = set()
    json_equal: bool | None = None
    differences: tuple[JsonDifference, ...] = ()
    if p.json_text.found and c.json_text.found:
        diff = bounded_diff(
            p.json_text.value,
            c.json_text.value,
            max_paths=limits.max_json_paths,
            max_nodes=limits.max_json_nodes,
            max_depth=limits.max_json_depth,
        )
        differences, json_equal = diff.differences, diff.equal
        caps.update(diff.caps)
    indel, levenshtein, token_set = similarity_of(p.text_units, c.text_units)
    tools = compare_tool_calls(
        production.tool_calls,
        candidate.tool_calls,
        production_has_text=not _blank(production.text),
        candidate_has_text=not _blank(candidate.text),
        limits=limits,
    )
    caps.update(tools.caps)
    return PairMetrics(
        json_equal=json_equal,
        json_differences=differences,
        length_ratio=ratio(c.chars, p.chars),
        word_ratio=ratio(c.words, p.words),
        output_token_ratio=ratio(c.output_tokens, p.output_tokens),
        similarity=indel,
        levenshtein_similarity=levenshtein,
        token_set_similarity=token_set,
        tools=tools,
        finish_reason_changed=p.finish_reason != c.finish_reason,
        truncated=is_truncation(FinishReason(p.finish_reason), FinishReason(c.finish_reason)),
        new_refusal=c.refusal and not p.refusal,
        cost_ratio=ratio(c.cost_usd, p.cost_usd),
        caps=frozenset(caps),
    )


def _blank(text: str) -> bool:
    return not text or text.isspace()
