"""Every consumed event is accounted for per candidate: a comparison row, or a reason on its ingest_log row.

A worker on a :class:`ListSource` and a :class:`MemorySink`; each candidate answers through an
``httpx.MockTransport`` that records which events reached it, so a test sees that a tenant out of a
candidate's scope never reaches that candidate's server.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson
import pytest

from shadow.config import Settings
from shadow.events.memory import ListDeadLetterSink, ListSource
from shadow.events.models import MirrorEvent
from shadow.metrics import REGISTRY
from shadow.pipeline import Pipeline
from shadow.replay.client import CandidateClient
from shadow.replay.fanout import Replayer
from shadow.sink.memory import MemorySink
from tests.factories import candidate, event_bytes, make_event, openai_response, settings_for

pytestmark = pytest.mark.timeout(60)

BASE_URL = "http://candidate.invalid/v1"
SALT = "rollout-1"


class Recorder:
    """A candidate endpoint answering every call; keeps the event ids of the requests that reached it."""

    def __init__(self) -> None:
        self.event_ids: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        text = orjson.loads(request.content)["messages"][-1]["content"]
        self.event_ids.append(text.rsplit(" ", 1)[-1].rstrip("?"))
        return httpx.Response(200, json=openai_response("Fine."))


def rollout_settings(**extra: Any) -> Settings:
    """Four candidates: everyone's (two workflows), internal tenants only, half of support_chat, one disabled."""
    return settings_for(
        [
            candidate("s-all", BASE_URL, workflows=["support_chat", "refund_flow"]),
            candidate("s-internal", BASE_URL, tenants=["internal"]),
            candidate("s-half", BASE_URL, workflows=["support_chat"], sample_rate=0.5),
            candidate("s-off", BASE_URL, enabled=False),
        ],
        workflows={"refund_flow": {"sample_rate": 0.0}},
        pipeline={"shutdown_grace_s": 2.0},
        clickhouse={"flush_interval_s": 0.05},
        kafka={"commit_interval_s": 0.05},
        **extra,
    )


async def run(config: Settings, events: list[dict[str, Any]]) -> tuple[MemorySink, dict[str, Recorder]]:
    """Run the worker as ``build_replayer`` does (a client per enabled candidate) over ``events``."""
    recorders = {c.name: Recorder() for c in config.candidates if c.enabled}
    clients = [
        CandidateClient(c, transport=httpx.MockTransport(recorders[c.name])) for c in config.candidates if c.enabled
    ]
    replayer = Replayer(clients)
    sink = MemorySink()
    source = ListSource([event_bytes(e) for e in events])
    try:
        await Pipeline(config, source=source, dead_letters=ListDeadLetterSink(), replayer=replayer, sink=sink).run()
    finally:
        await replayer.aclose()
    return sink, recorders


def traffic() -> list[dict[str, Any]]:
    """support_chat from an internal tenant, a customer and no tenant; refund_flow (rate 0); kb_answer."""
    events = []
    for i in range(40):
        tenant = ("internal", "acme", None)[i % 3]
        events.append(make_event(event_id=f"sc{i}", tenant=tenant, subject=f"conv_{i}"))
    events += [make_event(event_id=f"rf{i}", workflow="refund_flow", tenant="internal") for i in range(3)]
    events += [make_event(event_id=f"kb{i}", workflow="kb_answer", tenant="acme") for i in range(2)]
    return events


def skipped_total(name: str, reason: str) -> float:
    labels = {"candidate": name, "reason": reason}
    return REGISTRY.get_sample_value("shadow_candidate_skipped_total", labels) or 0.0


async def test_every_event_is_compared_or_skipped_with_its_reason_per_candidate() -> None:
    config = rollout_settings(sampling={"default_rate": 1.0, "salt": SALT})
    names = [c.name for c in config.candidates]
    before = {(n, r): skipped_total(n, r) for n in names for r in ("sampled_out", "out_of_scope", "disabled")}
    events = traffic()
    sink, _ = await run(config, events)

    compared: dict[str, set[str]] = {}
    for row in sink.comparisons:
        compared.setdefault(row["event_id"], set()).add(row["candidate"])
    ingest = {row["event_id"]: row for row in sink.ingest}
    assert len(ingest) == len(events)
    for event_id, row in ingest.items():
        sent, skipped = compared.get(event_id, set()), set(row["candidate_skips"])
        assert sent | skipped == set(names) and not sent & skipped, event_id  # each candidate once, either way
        assert row["candidates"] == len(sent)

    half = next(c for c in config.candidates if c.name == "s-half")
    for i, event in enumerate(events[:40]):
        row = ingest[event["event_id"]]
        expected = {"s-off": "disabled"}
        if event["tenant"] != "internal":
            expected["s-internal"] = "out_of_scope"
        if half.scope_skip(MirrorEvent.model_validate(event), SALT) is not None:
            expected["s-half"] = "sampled_out"
        assert (row["outcome"], row["candidate_skips"]) == ("replayed", expected), i
    # Sticky per conversation, salted: about half of support_chat reached s-half.
    reached_half = sum("s-half" not in ingest[f"sc{i}"]["candidate_skips"] for i in range(40))
    assert 10 <= reached_half <= 30

    # Outside the workflow's sample (refund_flow at 0): sampled out for those whose scope admits it.
    assert ingest["rf0"]["outcome"] == "skipped" and ingest["rf0"]["reason"] == "sampling"
    assert ingest["rf0"]["candidate_skips"] == {
        "s-all": "sampled_out", "s-internal": "sampled_out", "s-half": "out_of_scope", "s-off": "disabled",
    }  # fmt: skip
    # No candidate admits kb_answer from acme: each says why.
    assert (ingest["kb0"]["outcome"], ingest["kb0"]["reason"]) == ("skipped", "no_candidate")
    assert ingest["kb0"]["candidate_skips"] == {
        "s-all": "out_of_scope", "s-internal": "out_of_scope", "s-half": "out_of_scope", "s-off": "disabled",
    }  # fmt: skip

    # The counter counts exactly what the ingest rows record.
    recorded: dict[tuple[str, str], int] = {}
    for row in sink.ingest:
        for name, reason in row["candidate_skips"].items():
            recorded[(name, reason)] = recorded.get((name, reason), 0) + 1
    for key, value in before.items():
        assert skipped_total(*key) - value == recorded.get(key, 0), key


async def test_a_tenant_out_of_a_candidates_scope_never_reaches_its_server() -> None:
    config = rollout_settings(sampling={"default_rate": 1.0})
    events = traffic()
    sink, recorders = await run(config, events)
    tenant_of = {e["event_id"]: e["tenant"] for e in events}
    assert recorders["s-internal"].event_ids, "the internal tenant's events reach it"
    assert {tenant_of[e] for e in recorders["s-internal"].event_ids} == {"internal"}
    assert all(not e.startswith(("rf", "kb")) for r in recorders.values() for e in r.event_ids)
    # What reached each server is exactly its comparison rows.
    for name, recorder in recorders.items():
        rows = sorted(r["event_id"] for r in sink.comparisons if r["candidate"] == name)
        assert sorted(recorder.event_ids) == rows, name


async def test_an_unset_default_rate_warns_once_per_workflow_it_replays(caplog: pytest.LogCaptureFixture) -> None:
    events = [*traffic(), make_event(event_id="kb_late", workflow="kb_answer")]
    with caplog.at_level(logging.WARNING, logger="shadow.sample"):
        await run(rollout_settings(), events)
    warned = [r.getMessage() for r in caplog.records if r.name == "shadow.sample"]
    # refund_flow sets its own rate: no warning; support_chat and kb_answer: one each, however many events.
    assert len(warned) == 2, warned
    assert all("replayed at 100% because sampling.default_rate is unset" in w for w in warned)
    assert any("'support_chat'" in w for w in warned) and any("'kb_answer'" in w for w in warned)

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="shadow.sample"):
        await run(rollout_settings(sampling={"default_rate": 1.0}), events)
    assert not [r for r in caplog.records if r.name == "shadow.sample"]
