"""Comparison rows written straight into ClickHouse, with known values, for the read side's tests."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from shadow.sink.rows import COMPARISON_COLUMNS, INGEST_COLUMNS, as_values
from shadow.storage.store import ClickHouseStore

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

_DEFAULTS: dict[str, Any] = {
    "candidate": "cand",
    "candidate_role": "candidate",
    "candidate_provider": "openai",
    "candidate_model": "model-b",
    "production_model": "model-a",
    "api": "openai.chat.completions",
    "workflow": "support_chat",
    "service": "svc",
    "environment": "prod",
    "tenant": "acme",
    "subject": "",
    "config_version": "",
    "prompt_version": "",
    "tags": {},
    "source_position": "",
    "status": "ok",
    "error_kind": "",
    "http_status": 200,
    "error_message": "",
    "attempts": 1,
    "production_latency_ms": 1000.0,
    "candidate_latency_ms": 1000.0,
    "candidate_schema_errors": [],
    "json_diff_paths": [],
    "json_diff_kinds": [],
    "candidate_tool_schema_errors": [],
    "tool_diff_paths": [],
    "tool_diff_kinds": [],
    "production_finish_reason": "stop",
    "candidate_finish_reason": "stop",
    "production_text": "",
    "candidate_text": "",
    "production_output": "",
    "candidate_output": "",
    "request_context": "",
    "comparator_version": 1,
    "row_version": 1,
    "request_changes": [],
    "caps": [],
}


def comparison_row(event_id: str, **values: Any) -> dict[str, Any]:
    """A full comparisons row: the given values, defaults elsewhere (NULL for nullable metrics)."""
    row: dict[str, Any] = {column: None for column in COMPARISON_COLUMNS}
    row.update(_DEFAULTS)
    row["event_id"] = event_id
    row["occurred_at"] = values.pop("occurred_at", T0)
    row["compared_at"] = values.pop("compared_at", row["occurred_at"] + timedelta(seconds=5))
    unknown = set(values) - set(COMPARISON_COLUMNS)
    assert not unknown, f"not comparison columns: {unknown}"
    row.update(values)
    return row


def ingest_row(offset: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": "topic",
        "partition": 0,
        "offset": offset,
        "position": f"topic/0@{offset}",
        "event_id": f"e{offset}",
        "workflow": "support_chat",
        "api": "openai.chat.completions",
        "tenant": "acme",
        "occurred_at": T0,
        "ingested_at": T0 + timedelta(seconds=1),
        "outcome": "replayed",
        "reason": "",
        "detail": "",
        "candidates": 1,
        "row_version": 1,
        "candidate_skips": {},
    }
    row.update(values)
    return row


def insert_rows(store: ClickHouseStore, rows: list[dict[str, Any]]) -> None:
    store.insert("comparisons", [as_values(r, COMPARISON_COLUMNS) for r in rows], COMPARISON_COLUMNS)


def insert_ingest(store: ClickHouseStore, rows: list[dict[str, Any]]) -> None:
    store.insert("ingest_log", [as_values(r, INGEST_COLUMNS) for r in rows], INGEST_COLUMNS)


def _lane(
    rows: list[dict[str, Any]],
    rng: random.Random,
    event: str,
    at: datetime,
    base: dict[str, Any],
    name: str,
    role: str = "candidate",
    **shape: Any,
) -> None:
    json_valid, refusal, tools = base["json_valid"], base["refusal"], base["tools"]
    production_latency, production_cost = base["production_latency"], base["production_cost"]
    # Noise: with probability `noise` a lane answers afresh, from production's own distribution.
    noise = shape.get("noise", 0.0)
    candidate_json = (rng.random() < 0.97) if rng.random() < noise else json_valid
    if shape.get("json_drop") and json_valid and rng.random() < shape["json_drop"]:
        candidate_json = False
    candidate_refusal = (rng.random() < 0.02) if rng.random() < noise else refusal
    args_match = True
    if tools and shape.get("args_mismatch") and rng.random() < shape["args_mismatch"]:
        args_match = False
    if tools and noise and rng.random() < noise:
        args_match = False
    latency = rng.lognormvariate(math.log(800), 0.35) * shape.get("slower", 1.0)
    if shape.get("exact"):
        candidate_json, candidate_refusal, args_match = json_valid, refusal, True
    rows.append(
        comparison_row(
            event,
            candidate=name,
            candidate_role=role,
            occurred_at=at,
            production_json_valid=json_valid,
            candidate_json_valid=candidate_json,
            production_refusal=refusal,
            candidate_refusal=candidate_refusal,
            new_refusal=candidate_refusal and not refusal,
            production_tool_calls=1 if tools else 0,
            candidate_tool_calls=1 if tools else 0,
            tool_names_match=True,
            tool_args_match=args_match,
            tool_f1=1.0 if args_match else 0.0,
            tool_diff_paths=[] if args_match else ["search_flights.dest", "search_flights.destination"],
            tool_diff_kinds=[] if args_match else ["extra", "missing"],
            production_latency_ms=production_latency,
            candidate_latency_ms=latency,
            production_cost_usd=production_cost,
            candidate_cost_usd=production_cost if shape.get("exact") else production_cost * rng.uniform(0.97, 1.03),
            similarity=1.0 if shape.get("exact") else rng.uniform(0.85, 1.0),
            length_ratio=1.0 if shape.get("exact") else rng.uniform(0.9, 1.1),
        )
    )


# --- a rollout with known regressions -----------------------------------------------------------


def rollout(seed: int, n: int = 4000) -> list[dict[str, Any]]:
    """Production plus a control lane and candidates with injected regressions, all on the same events.

    4,000 events: enough for the gate's confidence sequences to show that a candidate answering like
    production is within every tolerance (promote).

    - control:   production's model replayed (small symmetric noise: the A/A lane)
    - identical: answers exactly like production
    - aa:        another replay of production's model (same noise as the control)
    - json_down: about 6 points fewer valid JSON answers
    - slow:      30% slower (every latency × 1.3)
    - nearly:    6% slower: within the 10% tolerance, but too few events to exclude more (hold)
    - renamed:   renamed tool arguments in 20% of tool-calling answers
    - few:       only 30 comparisons
    """
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        event = f"ev{seed}-{i:04d}"
        at = T0 + timedelta(minutes=i % 600)
        json_valid = rng.random() < 0.97
        refusal = rng.random() < 0.02
        tools = rng.random() < 0.5
        production_latency = rng.lognormvariate(math.log(800), 0.35)
        production_cost = 0.002 * rng.uniform(0.8, 1.2)

        base = {
            "json_valid": json_valid,
            "refusal": refusal,
            "tools": tools,
            "production_latency": production_latency,
            "production_cost": production_cost,
        }

        def lane(name: str, role: str = "candidate", **shape: Any) -> None:
            _lane(rows, rng, event, at, base, name, role, **shape)  # noqa: B023 - called right away

        lane("control", role="control", noise=0.01)
        lane("identical", exact=True)
        lane("aa", noise=0.01)
        lane("json_down", noise=0.01, json_drop=0.062)
        lane("slow", noise=0.01, slower=1.3)
        lane("nearly", noise=0.01, slower=1.06)
        lane("renamed", noise=0.01, args_mismatch=0.2)
        if i < 30:
            lane("few", noise=0.01)
    return rows
