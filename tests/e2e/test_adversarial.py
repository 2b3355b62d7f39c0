"""An adversarial corpus through a running worker on the real Kafka broker (issue 8's acceptance).

Every kind of hostile or merely unusual event, and every kind of hostile candidate answer, goes
through ``shadow run`` as a process. The worker must keep its event loop responsive (no stall of
200 ms), keep its partitions (no rebalance), turn every event into rows or a dead letter, and send
no candidate a parameter its configuration does not allow.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.conftest import ClickHouseTarget, unique
from tests.e2e.hostile import (
    HostileCandidate,
    Reply,
    running,
    serve_100_mb,
    serve_gzip_bomb,
    serve_not_json,
    serve_trickle,
)
from tests.e2e.test_worker_process import SHADOW, env_for, query
from tests.factories import anthropic_request, anthropic_response, make_event, openai_request, openai_response
from tests.integration.test_kafka_pipeline import create_topic

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

MAX_OUTPUT_TOKENS = 2048
FORBIDDEN = {"service_tier", "store", "reasoning_effort", "logprobs", "top_logprobs", "metadata", "user",
             "x_unknown_knob", "frobnicate", "stream", "stream_options"}  # fmt: skip
PRODUCTION_MODELS = ["gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022"]


@dataclass(frozen=True, slots=True)
class Case:
    """One corpus entry: the Kafka message, and whether it must end as rows or as a dead letter."""

    name: str
    value: bytes
    dead_letter: bool = False


def marker(name: str) -> str:
    return f"[case:{name}] "


def openai_case(
    name: str,
    *,
    answer: str | None = "Your order ships tomorrow.",
    tool_calls: list[tuple[str, Any]] | None = None,
    request_extra: dict[str, Any] | None = None,
    prompt: str = "Where is my order?",
    model: str = "gpt-4o-2024-08-06",
    **usage: int,
) -> Case:
    request = openai_request(marker(name) + prompt, **(request_extra or {}))
    request["model"] = model
    response = openai_response(answer, tool_calls=tool_calls, model=model, **usage)
    return Case(name, orjson.dumps(make_event(event_id=f"evt_{name}", request=request, response=response)))


def deep_json(depth: int) -> str:
    return "[" * depth + '{"a": 1}' + "]" * depth


def words(n: int, seed: str) -> str:
    return " ".join(f"{seed}{i % 997}" for i in range(n))


def corpus() -> list[Case]:
    tools = [(f"lookup_{i % 7}", {"order_id": f"A{i}", "n": i}) for i in range(5000)]
    anthropic_many_turns = anthropic_request(marker("anthropic_10k_turns") + "hi")
    anthropic_many_turns["messages"] = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"{marker('anthropic_10k_turns')}turn {i}"}
        for i in range(10_001)
    ]
    wrong_types = make_event(event_id="evt_wrong_types")
    wrong_types["latency_ms"] = "slow"
    cases = [
        openai_case("no_at_40k", answer="x" * 40_000 + " and more text without the at sign " * 10),
        openai_case("backticks_1mib", answer="`" * 1_000_000),
        openai_case("no_spaces_1mib", answer="y" * 1_000_000),
        openai_case("tool_calls_5000", answer=None, tool_calls=tools),
        openai_case("tool_calls_2000", answer=None, tool_calls=tools[:2000]),
        openai_case("deep_json_2000", answer=deep_json(2000)),
        openai_case("deep_tool_args", answer=None, tool_calls=[("lookup_0", deep_json(900))]),
        openai_case("words_150k", answer=words(150_000, "w")),
        openai_case("cjk_100k", answer="退款已经处理完毕" * 12_500),
        openai_case("refusal_bait", answer="I'm sorry, but I cannot " * 20_000),
        openai_case("gzip_bomb"),
        openai_case("body_100mb"),
        openai_case("trickle"),
        openai_case("not_json_body"),
        openai_case("negative_tokens", prompt_tokens=-5, completion_tokens=-1_000_000),
        openai_case("huge_tokens", prompt_tokens=10**15, completion_tokens=10**15),
        openai_case("candidate_negative_tokens"),
        openai_case("candidate_huge_tokens"),
        openai_case("n_50", request_extra={"n": 50}),
        openai_case("max_tokens_1e7", request_extra={"max_tokens": 10**7, "max_completion_tokens": 10**7}),
        openai_case("unknown_params", request_extra={"x_unknown_knob": True, "frobnicate": {"level": 9}}),
        openai_case(
            "pricey_params",
            request_extra={
                "service_tier": "priority",
                "store": True,
                "reasoning_effort": "high",
                "logprobs": True,
                "top_logprobs": 20,
                "metadata": {"k": "v"},
                "user": "u-1",
                "stream": True,
                "stream_options": {"include_usage": True},
            },
        ),
        openai_case("control_unlisted_model", model="o1-pro"),
        Case(
            "anthropic_10k_turns",
            orjson.dumps(
                make_event(
                    event_id="evt_anthropic_10k_turns",
                    api="anthropic.messages",
                    request={**anthropic_many_turns, "max_tokens": 10**7},
                    response=anthropic_response("ok"),
                )
            ),
        ),
        Case("invalid_json", b'{"schema_version": 1, "event_id": "evt_invalid_json"', dead_letter=True),
        Case("not_utf8", b"\xff\xfe\xfa not utf-8 at all", dead_letter=True),
        Case("wrong_types", orjson.dumps(wrong_types), dead_letter=True),
        openai_case("oversized_event", answer="z" * 1_200_000),
    ]
    oversized = next(c for c in cases if c.name == "oversized_event")
    cases[cases.index(oversized)] = Case(oversized.name, oversized.value, dead_letter=True)
    return cases


def hostile_candidate() -> HostileCandidate:
    tools = [(f"lookup_{i % 7}", {"order_id": f"A{i}", "n": i + 1}) for i in range(5000)]
    return HostileCandidate(
        replies={
            "no_at_40k": Reply("y" * 40_000),
            "backticks_1mib": Reply("`" * 999_000 + "x"),
            "no_spaces_1mib": Reply("q" * 1_000_000),
            "tool_calls_5000": Reply(None, tuple(tools)),
            "tool_calls_2000": Reply(None, tuple(tools[:2000])),
            "deep_json_2000": Reply(deep_json(1999)),
            "deep_tool_args": Reply(None, (("lookup_0", deep_json(899)),)),
            "words_150k": Reply(words(150_000, "v")),
            "cjk_100k": Reply("退款处理已经完毕" * 12_500),
            "refusal_bait": Reply("Sorry, I can't " * 20_000),
            "candidate_negative_tokens": Reply(input_tokens=-40, output_tokens=-(10**9)),
            "candidate_huge_tokens": Reply(input_tokens=10**18, output_tokens=10**18),
        },
        specials={
            "gzip_bomb": serve_gzip_bomb,
            "body_100mb": serve_100_mb,
            "trickle": serve_trickle,
            "not_json_body": serve_not_json,
        },
    )


def worker_config(path: Path, *, bootstrap: str, topic: str, group: str, ch: ClickHouseTarget, database: str,
                  base_url: str) -> Path:  # fmt: skip
    clickhouse: dict[str, object] = {"dsn": ch.dsn, "database": database, "flush_interval_s": 0.2}
    if ch.username:
        clickhouse["username"] = ch.username
    guards = {"timeout_s": 3, "max_retries": 1, "max_output_tokens": MAX_OUTPUT_TOKENS}
    config = {
        "source": {"kind": "kafka"},
        "kafka": {"bootstrap_servers": bootstrap, "topic": topic, "group_id": group, "commit_interval_s": 0.2},
        "clickhouse": clickhouse,
        "pipeline": {"max_in_flight": 64, "max_event_bytes": 1_048_576},
        "candidates": [
            {"name": "cand-openai", "provider": "openai", "base_url": base_url + "/v1", "model": "gpt-4.1-mini",
             **guards},
            {"name": "cand-anthropic", "provider": "anthropic", "base_url": base_url, "model": "claude-haiku-4-5",
             **guards},
            {"name": "control", "provider": "openai", "role": "control", "base_url": base_url + "/v1",
             "control_models": PRODUCTION_MODELS, "apis": ["openai.chat.completions"], **guards},
        ],
    }  # fmt: skip
    path.write_text(yaml.safe_dump(config))
    return path


async def publish(bootstrap: str, topic: str, cases: list[Case]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2 * 1024 * 1024, acks="all")
    await producer.start()
    try:
        for case in cases:
            await producer.send_and_wait(topic, case.value, key=case.name.encode())
    finally:
        await producer.stop()


async def count_dead_letters(bootstrap: str, topic: str) -> dict[str, str]:
    """Case name (the record key) → dead-letter kind, read from the dead-letter topic."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    letters: dict[str, str] = {}
    try:
        quiet = 0
        while quiet < 2:  # one fetch may stop short of a large record: read until two polls bring nothing
            batches = await consumer.getmany(timeout_ms=2000)
            quiet = 0 if batches else quiet + 1
            for records in batches.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    letters[(record.key or b"").decode()] = headers.get("shadow.dlq.kind", "")
    finally:
        await consumer.stop()
    return letters


@pytest.mark.timeout(600)
def test_adversarial_corpus_neither_stalls_the_worker_nor_reaches_the_candidate_unguarded(
    kafka_bootstrap: str, clickhouse: ClickHouseTarget, tmp_path: Path
) -> None:
    cases = corpus()
    assert len(cases) >= 20
    topic, group, database = unique("hostile"), unique("shadow"), unique("adv")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=2))
    asyncio.run(publish(kafka_bootstrap, topic, cases))

    with running(hostile_candidate()) as candidate:
        config = worker_config(tmp_path / "shadow.yaml", bootstrap=kafka_bootstrap, topic=topic, group=group,
                               ch=clickhouse, database=database, base_url=candidate.base_url)  # fmt: skip
        run = subprocess.run(
            [*SHADOW, "run", "--config", str(config), "--stop-after-idle", "6", "--stats"],
            env=env_for(clickhouse),
            capture_output=True,
            text=True,
            timeout=500,
        )
        received = list(candidate.received)
    assert run.returncode == 0, run.stderr[-4000:]
    stats = json.loads(run.stdout)
    print(f"worst loop stall {stats['worst_loop_stall_s'] * 1000:.0f} ms over {stats['consumed']} records")

    # The event loop stayed responsive: no stall of 200 ms or more (before the caps, one 100 KB
    # answer blocked the loop for 13.7 s). Measured 36-62 ms on this 2-core machine, with the big
    # comparisons in the diff process and big events decoded and parsed in the CPU thread.
    assert stats["worst_loop_stall_s"] < 0.2, stats
    # No rebalance: the group assigned the partitions once and never took them away mid-run.
    assert run.stderr.count("assigned partitions") == 1, run.stderr[-4000:]

    # Every event ends as rows or a dead letter.
    expected_letters = {c.name for c in cases if c.dead_letter}
    letters = asyncio.run(count_dead_letters(kafka_bootstrap, f"{topic}.dlq"))
    assert set(letters) == expected_letters, letters
    outcomes = dict(query(clickhouse, database, "SELECT outcome, count() FROM {db}.ingest_log FINAL GROUP BY outcome"))
    assert outcomes.get("dead_letter") == len(expected_letters)
    assert sum(outcomes.values()) == len(cases), outcomes
    rows = query(clickhouse, database, "SELECT event_id, candidate, status, error_kind FROM {db}.comparisons FINAL")
    replayed = {f"evt_{c.name}" for c in cases if not c.dead_letter}
    assert {event_id for event_id, *_ in rows} == replayed
    per_event: dict[str, set[str]] = {}
    for event_id, name, _, _ in rows:
        per_event.setdefault(event_id, set()).add(name)
    for event_id in replayed:
        assert {"cand-openai", "cand-anthropic"} <= per_event[event_id], event_id

    # No candidate request carried a forbidden parameter, more than one choice, or an uncapped budget.
    assert received, "the candidate was never called"
    for path, case, body in received:
        assert not (FORBIDDEN & set(body)), (case, sorted(FORBIDDEN & set(body)))
        assert body.get("n", 1) == 1, case
        for key in ("max_tokens", "max_completion_tokens"):
            assert body.get(key, 0) <= MAX_OUTPUT_TOKENS, (case, key, body.get(key))
        assert body.get("model") != "o1-pro", (path, case)
