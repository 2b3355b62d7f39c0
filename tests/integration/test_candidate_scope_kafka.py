"""Scoped exposure on the real broker and engine: a tenant out of a candidate's scope never reaches its server.

Three local candidate servers, each one's request log the proof; the worker reads a Kafka topic of
three partitions and writes to ClickHouse, and ``shadow summary`` accounts for every event per candidate.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shadow.demo.server import Answer, CandidateServer
from shadow.events.models import MirrorEvent
from shadow.pipeline import run_worker
from shadow.report.summary import query_summary, render_table
from shadow.report.window import Filters, Window
from tests.conftest import unique
from tests.factories import candidate, event_bytes, make_event, settings_for
from tests.integration.test_kafka_pipeline import create_topic, publish

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]

WINDOW = Window(datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 23, 11, tzinfo=UTC))
TENANTS = ("internal", "acme", "premium", None)


def event_ids(server: CandidateServer) -> list[str]:
    return [r.body["messages"][-1]["content"].rsplit(" ", 1)[-1].rstrip("?") for r in server.received]


@pytest.mark.timeout(180)
async def test_a_tenant_out_of_scope_never_reaches_the_candidate(
    kafka_bootstrap: str, store, clickhouse_settings
) -> None:
    topic, group = unique("mirror"), unique("shadow")
    await create_topic(kafka_bootstrap, topic, partitions=3)
    events = [make_event(event_id=f"evt_{i:03d}", tenant=TENANTS[i % 4], subject=f"conv_{i}") for i in range(120)]
    await publish(kafka_bootstrap, topic, [(e["event_id"].encode(), event_bytes(e)) for e in events])

    servers = {name: CandidateServer(lambda api, body: Answer.text_answer("Sure.")) for name in
               ("internal-first", "not-premium", "tenth")}  # fmt: skip
    urls = {name: await server.start() for name, server in servers.items()}
    try:
        settings = settings_for(
            [
                candidate("internal-first", urls["internal-first"], tenants=["internal"]),
                candidate("not-premium", urls["not-premium"], exclude_tenants=["premium"]),
                candidate("tenth", urls["tenth"], sample_rate=0.1, tenant_rates={"internal": 1.0}),
            ],
            source={"kind": "kafka"},
            kafka={"bootstrap_servers": kafka_bootstrap, "topic": topic, "group_id": group, "commit_interval_s": 0.2,
                   "control_topic": unique("control")},
            clickhouse=clickhouse_settings.model_dump(),
            sampling={"default_rate": 1.0, "salt": "phase-2"},
            pipeline={"stop_after_idle_s": 3},
        )  # fmt: skip
        stats = await run_worker(settings, store=store, handle_signals=False)
    finally:
        for server in servers.values():
            await server.stop()

    tenant_of = {e["event_id"]: e["tenant"] for e in events}
    tenth = next(c for c in settings.candidates if c.name == "tenth")
    admitted = sorted(
        e["event_id"] for e in events if tenth.scope_skip(MirrorEvent.model_validate(e), "phase-2") is None
    )
    # A premium event reaches no candidate unless the tenth's sample takes it.
    premium_replayed = sum(tenant_of[e] == "premium" for e in admitted)
    assert (stats.consumed, stats.replayed, stats.skipped) == (120, 90 + premium_replayed, 30 - premium_replayed)
    # The servers' request logs: each candidate got exactly the events its scope admits.
    assert sorted(event_ids(servers["internal-first"])) == sorted(k for k, t in tenant_of.items() if t == "internal")
    assert "premium" not in {tenant_of[e] for e in event_ids(servers["not-premium"])}
    assert len(event_ids(servers["not-premium"])) == 90
    assert sorted(event_ids(servers["tenth"])) == admitted
    others = [e for e in admitted if tenant_of[e] != "internal"]
    assert 30 + 2 <= len(admitted) <= 30 + 20 and others  # every internal event, about a tenth of the rest

    db = store.database
    skips = store.query_rows(
        f"SELECT candidate, reason, count() FROM {db}.ingest_log FINAL "
        "ARRAY JOIN mapKeys(candidate_skips) AS candidate, mapValues(candidate_skips) AS reason "
        "GROUP BY candidate, reason ORDER BY candidate, reason"
    )
    assert skips == [("internal-first", "out_of_scope", 90), ("not-premium", "out_of_scope", 30),
                     ("tenth", "sampled_out", 120 - len(admitted))]  # fmt: skip

    summary = query_summary(store, Filters(WINDOW), settings, now=WINDOW.end)
    coverage = {c["candidate"]: c for c in summary["coverage"]["candidates"]}
    assert (coverage["internal-first"]["compared"], coverage["internal-first"]["replayed_events"]) == (30, 30)
    assert coverage["internal-first"]["skips"] == {"out_of_scope": 90}
    assert coverage["tenth"]["skips"] == {"sampled_out": 120 - len(admitted)}
    assert all(c["coverage"] == 1.0 and c["flag"] == "" for c in coverage.values())
    screen = render_table(summary, WINDOW, width=120, color=False)
    assert "out of scope" in screen and "sampled out" in screen
