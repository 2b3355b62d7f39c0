"""Prometheus metrics of the worker (served by ``shadow run --metrics-port``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

RECORDS = Counter("shadow_records_total", "Records consumed, by outcome", ["outcome", "reason"], registry=REGISTRY)
REPLAYS = Counter(
    "shadow_replays_total",
    "Candidate calls, by candidate and outcome",
    ["candidate", "status", "error_kind"],
    registry=REGISTRY,
)
REPLAY_LATENCY = Histogram(
    "shadow_replay_latency_seconds",
    "Candidate latency of successful calls",
    ["candidate"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)
REPLAY_TTFT = Histogram(
    "shadow_replay_ttft_seconds",
    "Time to first token of successful streamed candidate calls (candidates with stream: true)",
    ["candidate"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
    registry=REGISTRY,
)
CIRCUIT_STATE = Gauge(
    "shadow_candidate_circuit_state",
    "A candidate's circuit breaker: 0 closed, 1 half-open (probing), 2 open (calls skipped)",
    ["candidate"],
    registry=REGISTRY,
)
CIRCUIT_OPENED = Counter(
    "shadow_candidate_circuit_opened_total", "Times a candidate's circuit breaker opened", ["candidate"],
    registry=REGISTRY,
)  # fmt: skip
CIRCUIT_SKIPPED = Counter(
    "shadow_candidate_circuit_skipped_total",
    "Candidate calls skipped (rows stored with status skipped) because the circuit breaker was open",
    ["candidate"],
    registry=REGISTRY,
)
CONTROL_STATE = Gauge(
    "shadow_candidate_control_state",
    "A candidate's state on the control topic (1 for its current state); candidate '*' is the global switch",
    ["candidate", "state"],
    registry=REGISTRY,
)
CONTROL_CHANGES = Counter(
    "shadow_candidate_control_changes_total", "Changes of a candidate's state read from the control topic",
    ["candidate", "state"], registry=REGISTRY,
)  # fmt: skip
CONTROL_SKIPPED = Counter(
    "shadow_candidate_control_skipped_total",
    "Candidate calls not made or cancelled (rows stored with status skipped) because the candidate was "
    "disabled (reason killed) or paused on the control topic, or over its budget (reason budget)",
    ["candidate", "reason"],
    registry=REGISTRY,
)
CANDIDATE_SKIPPED = Counter(
    "shadow_candidate_skipped_total",
    "Consumed events a candidate was not sent (no row; recorded in ingest_log.candidate_skips), by reason: "
    "sampled_out, out_of_scope or disabled",
    ["candidate", "reason"],
    registry=REGISTRY,
)
ROWS = Counter("shadow_rows_written_total", "Comparison rows stored", registry=REGISTRY)
STORE_FAILURES = Counter("shadow_store_failures_total", "Failed writes to ClickHouse (retried)", registry=REGISTRY)
IN_FLIGHT = Gauge("shadow_events_in_flight", "Events consumed and not yet stored", registry=REGISTRY)
COMMITS = Counter("shadow_commits_total", "Offset commits, by result", ["result"], registry=REGISTRY)
LOOP_STALL = Histogram(
    "shadow_event_loop_stall_seconds",
    "How late the event loop's 50 ms watch woke, per tick: the time the loop was blocked",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
LOOP_STALL_MAX = Gauge(
    "shadow_event_loop_stall_max_seconds", "Worst event loop stall since the worker started", registry=REGISTRY
)
LOOP_LAST_TICK = Gauge(
    "shadow_event_loop_last_tick_timestamp_seconds",
    "Unix time of the event loop watch's last tick (a stuck loop stops it)",
    registry=REGISTRY,
)
