"""Poison messages: a corpus of bad Kafka messages interleaved with valid events, read by a real worker
that is stopped with SIGTERM mid-stream and restarted; and the decoder fuzzed in-process.

What the worker promises for a bad message: it never crashes or stalls, the message lands in the
dead-letter topic exactly once with a reason naming what is wrong (``shadow.dlq.reason``), and the
valid events around it are stored as if it were not there. At a SIGTERM it stops within
``shutdown_grace_s`` and commits only what is stored or dead-lettered.

Besides the poison, the stream holds *hostile but valid* events (nesting deeper than orjson writes,
NUL characters, unknown fields, a latency of 1e308…): they must be stored, not dead-lettered.

A value nested deeper than orjson writes (255 levels) in a field that fails validation used to make
``decode_event`` raise orjson's ``TypeError`` while quoting the input in the reason (an
``internal_error`` letter naming no field, with a traceback in the log); the corpus keeps the case and
``test_a_deep_value_in_a_failing_field_is_named`` pins the fix.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadow.demo.server import Answer, serve_in_thread
from shadow.errors import DecodeError
from shadow.events.decode import DecodedEvent, decode_event
from tests.conftest import unique
from tests.factories import anthropic_request, anthropic_response, event_bytes, make_event, openai_response
from tests.faults.harness import (
    CANDIDATES,
    HEAVY,
    Figures,
    WorkerProcess,
    committed_offsets,
    create_topic,
    end_offsets,
    record,
    stored,
    wait_until,
    worker_config,
)

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.e2e]

VALID_EVENTS, COPIES = (2_000, 5) if HEAVY else (300, 2)
PARTITIONS = 3
GRACE_S = 5.0
MAX_EVENT_BYTES = 256 * 1024  # pipeline.max_event_bytes of the worker (events past 16 KiB decode off the loop)
SEED = 20261214


# --- the corpus ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Poison:
    """One kind of bad message: its bytes, and what its dead letter must say."""

    kind: str
    value: bytes | None  # None: a tombstone (a Kafka record with a null value)
    reason: str  # a substring the shadow.dlq.reason header must hold (the field or the fault)
    dlq_kind: str  # shadow.dlq.kind
    key: bytes | None = b"poison"
    headers: tuple[tuple[str, bytes], ...] = ()


def _event(**changes: Any) -> dict[str, Any]:
    event = make_event(event_id="evt_poison_" + unique("p")[-10:])
    event.update(changes)
    return event


def _with(**changes: Any) -> bytes:
    return event_bytes(_event(**changes))


def _without(*fields: str) -> bytes:
    event = _event()
    for name in fields:
        del event[name]
    return event_bytes(event)


def _raw(field: str, text: bytes) -> bytes:
    """An event whose ``field`` holds ``text`` verbatim (JSON no serializer would write)."""
    marker = "__raw_" + field
    return event_bytes(_event(**{field: marker})).replace(f'"{marker}"'.encode(), text)


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _padded(value: dict[str, Any], size: int) -> bytes:
    """The event with an unknown field that brings it to about ``size`` bytes."""
    return event_bytes({**value, "padding": "p" * max(0, size - len(event_bytes(value)))})


def corpus() -> list[Poison]:
    """Every kind of bad message, each a reason to dead-letter it."""
    valid = event_bytes(make_event(event_id="evt_cut"))
    chat_no_messages = make_event(request={"model": "gpt-4o", "messages": []})
    mismatched = make_event(api="anthropic.messages", request=anthropic_request(), response=openai_response())
    nameless_tool = openai_response(text=None, tool_calls=[("get_weather", {"city": "Paris"})])
    del nameless_tool["choices"][0]["message"]["tool_calls"][0]["function"]["name"]
    return [
        Poison("empty value", b"", "empty message", "invalid_json"),
        Poison("tombstone (null value)", None, "empty message", "invalid_json", key=b"tombstone"),
        Poison("whitespace only", b" \r\n\t  ", "empty message", "invalid_json"),
        Poison("not JSON", b"{not json at all", "not valid JSON", "invalid_json"),
        Poison("truncated JSON", valid[: len(valid) // 2], "not valid JSON", "invalid_json"),
        Poison("JSON array", b"[1, 2, 3]", "got list", "invalid_event"),
        Poison("JSON number", b"42", "got int", "invalid_event"),
        Poison("JSON string", b'"an event"', "got str", "invalid_event"),
        Poison("JSON null", b"null", "got NoneType", "invalid_event"),
        Poison("invalid UTF-8", valid.replace(b"Where is", b"Where \xff\xfe is"), "UTF-8", "invalid_json"),
        Poison("lone surrogate escape", valid.replace(b"Where is", b"Where \\ud800 is"), "surrogate", "invalid_json"),
        Poison("UTF-8 BOM prefix", b"\xef\xbb\xbf" + valid, "BOM", "invalid_json"),
        Poison("trailing NUL bytes", valid + b"\x00\x00", "after document", "invalid_json"),
        Poison("100k levels of nesting", _nested(100_000), "depth limit", "invalid_json"),
        Poison("NaN literal", _raw("latency_ms", b"NaN"), "not valid JSON", "invalid_json"),
        Poison("number overflowing a double", _raw("latency_ms", b"1e400"), "infinity", "invalid_json"),
        Poison("over max_event_bytes", _padded(_event(), MAX_EVENT_BYTES + 1000), "max_event_bytes", "oversized"),
        Poison("missing event_id", _without("event_id"), "field 'event_id' is missing", "invalid_event"),
        Poison(
            "missing field, decoded off the loop", _padded(_event(service=None), 20_000), "service", "invalid_event"
        ),
        Poison("occurred_at as epoch number", _with(occurred_at=1_763_900_000), "occurred_at", "invalid_event"),
        Poison("occurred_at not a timestamp", _with(occurred_at="yesterday"), "occurred_at", "invalid_event"),
        Poison("occurred_at without offset", _with(occurred_at="2026-11-23T10:00:00"), "timezone", "invalid_event"),
        Poison("occurred_at in year 9999", _with(occurred_at="9999-01-01T00:00:00Z"), "year 9999", "invalid_event"),
        Poison("unknown api", _with(api="google.gemini"), "field 'api'", "invalid_event"),
        Poison("schema_version 2", _with(schema_version=2), "schema_version", "invalid_event"),
        Poison("schema_version as string", _with(schema_version="1"), "schema_version", "invalid_event"),
        Poison("negative latency", _with(latency_ms=-5), "latency_ms", "invalid_event"),
        Poison("latency as boolean", _with(latency_ms=True), "latency_ms", "invalid_event"),
        Poison("latency as string", _with(latency_ms="fast"), "latency_ms", "invalid_event"),
        Poison("event_id over 256 chars", _with(event_id="e" * 300), "event_id", "invalid_event"),
        Poison("tags not strings", _with(tags={"release": 7}), "tags.release", "invalid_event"),
        Poison("request not an object", _with(request=["hello"]), "field 'request'", "invalid_event"),
        Poison("response and error both null", _with(response=None, error=None), "both are null", "invalid_event"),
        Poison("chat without messages", event_bytes(chat_no_messages), "request.messages", "invalid_body"),
        Poison("response of another API", event_bytes(mismatched), "response.content", "invalid_body"),
        Poison(
            "tool call without a name",
            event_bytes(make_event(response=nameless_tool)),
            "tool_calls[0].function.name",
            "invalid_body",
        ),
        Poison(
            "responses request without input",
            _with(api="openai.responses", request={"model": "gpt-4.1", "input": ""}),
            "request.input",
            "invalid_body",
        ),
        Poison(
            "duplicate key, the last one wrong",
            valid.replace(b'"latency_ms":800.0', b'"latency_ms":800.0,"latency_ms":"slow"'),
            "latency_ms",
            "invalid_event",
        ),
        Poison(
            "binary key and odd headers",
            b"\x00\x01 not an event",
            "not valid JSON",
            "invalid_json",
            key=b"\xff\xfe\x00key",
            headers=(("", b""), ("x", b"\xff\x00"), ("x", b"again"), ("shadow.dlq.reason", b"forged")),
        ),
        Poison("8 KiB key", b"{", "not valid JSON", "invalid_json", key=b"k" * 8192),
        Poison("empty key", b"[]", "got list", "invalid_event", key=b""),
        Poison("value nested 300 levels in a typed field", _raw("tags", _nested(300)), "field 'tags'", "invalid_event"),
    ]


def hostile_valid() -> dict[str, bytes]:
    """Valid events a careless worker might reject or choke on (by id): each must be stored for both
    candidates."""
    deep_request = anthropic_request(metadata={"trace": "__deep__"})
    deep = make_event(event_id="evt_hostile_deep_request", api="anthropic.messages", request=deep_request)
    events = [
        make_event(event_id="evt_hostile_unknown_fields", future_field={"v": 2}, another=[1, 2]),
        make_event(event_id="evt_hostile_nul", text="before \x00 after \x00"),
        make_event(event_id="evt_hostile_huge_latency", latency_ms=1e308),
        make_event(event_id="evt_hostile_scripts", text="注文はどこ？ \u200fأين طلبي؟ 🧾" * 20),
        make_event(event_id="evt_hostile_anthropic", api="anthropic.messages", response=anthropic_response(text="ok")),
        make_event(event_id="evt_hostile_error_only", response=None, error={"status": 500, "type": "server_error"}),
    ]
    out = {e["event_id"]: event_bytes(e) for e in events}
    # Nested 300 levels: more than orjson writes (255), less than it reads (1,024).
    out[deep["event_id"]] = event_bytes(deep).replace(b'"__deep__"', _nested(300))
    return out


# --- the stream ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message of the stream and where it landed."""

    name: str  # an event id, or "poison: <kind> #n"
    value: bytes | None
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    poison: Poison | None


async def produce(bootstrap: str, topic: str, messages: list[Message]) -> dict[tuple[int, int], Message]:
    """Publish the messages round-robin over the partitions; each one's (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=1 << 20)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, m.value, key=m.key, headers=list(m.headers), partition=i % PARTITIONS)
            for i, m in enumerate(messages)
        ]
        metadata = await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return {(md.partition, md.offset): m for m, md in zip(messages, metadata, strict=True)}


def stream(poisons: list[Poison], valid: dict[str, bytes]) -> list[Message]:
    """The valid events (by id) with ``COPIES`` of every poison kind scattered among them (seeded)."""
    messages = [Message(event_id, value, event_id.encode(), (), None) for event_id, value in valid.items()]
    for poison in poisons:
        for n in range(COPIES):
            messages.append(Message(f"poison: {poison.kind} #{n}", poison.value, poison.key, poison.headers, poison))
    random.Random(SEED).shuffle(messages)
    return messages


def letters_by_position(bootstrap: str, dlq: str) -> dict[tuple[int, int], list[dict[str, bytes]]]:
    """The dead letters' headers, by the (partition, offset) of the message they carry."""

    async def read() -> list[dict[str, bytes]]:
        # (harness.dead_letters calls AIOKafkaConsumer.force_metadata_update, which aiokafka does not have)
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            if dlq not in await admin.list_topics():
                return []
            (description,) = await admin.describe_topics([dlq])
        finally:
            await admin.close()
        tps = [TopicPartition(dlq, p["partition"]) for p in description["partitions"]]
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            out: list[dict[str, bytes]] = []
            deadline = time.monotonic() + 30
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                assert time.monotonic() < deadline, f"could not read {dlq} to its end"
                for records in (await consumer.getmany(*tps, timeout_ms=500)).values():
                    out.extend(dict(r.headers) for r in records)
            return out
        finally:
            await consumer.stop()

    by_position: dict[tuple[int, int], list[dict[str, bytes]]] = {}
    for headers in asyncio.run(read()):
        position = (int(headers["shadow.dlq.source.partition"]), int(headers["shadow.dlq.source.offset"]))
        by_position.setdefault(position, []).append(headers)
    return by_position


def answer(api, body) -> Answer:
    return Answer.text_answer("Your parcel left the warehouse this morning.", latency_ms=40)


@pytest.mark.timeout(900 if HEAVY else 240)
def test_poison_corpus_is_dead_lettered_with_reasons_and_sigterm_commits_only_finished_work(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic, group, database = unique("poison"), unique("shadow"), unique("poison")
    dlq = f"{topic}.dlq"
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=PARTITIONS))
    poisons = corpus()
    assert len({p.kind for p in poisons}) == len(poisons) >= 20
    events = [make_event(event_id=f"evt_{i:05d}", text=f"question {i}") for i in range(VALID_EVENTS)]
    valid = {e["event_id"]: event_bytes(e) for e in events} | hostile_valid()
    positions = asyncio.run(produce(kafka_bootstrap, topic, stream(poisons, valid)))
    poison_at = {pos: m for pos, m in positions.items() if m.poison is not None}
    valid_at = {pos: m.name for pos, m in positions.items() if m.poison is None}
    store = tmp_path / "store"
    lives: list[WorkerProcess] = []

    with serve_in_thread(answer) as server:
        config = worker_config(
            tmp_path / "shadow.yaml",
            bootstrap=kafka_bootstrap,
            topic=topic,
            group=group,
            store=store,
            database=database,
            base_url=server.base_url,
            max_in_flight=8,
            shutdown_grace_s=GRACE_S,
            max_event_bytes=MAX_EVENT_BYTES,
        )

        # Life 1: SIGTERM once a third of the valid events' requests are answered.
        first = WorkerProcess(config, store, tmp_path / "life-1.log")
        lives.append(first)
        wait_until(lambda: len(server.received) >= len(valid) * 2 // 3, 120, first, what="a third of the replays")
        stop_sent = time.monotonic()
        first.kill(signal.SIGTERM)
        code = first.wait(GRACE_S + 30)
        stop_s = time.monotonic() - stop_sent
        assert code == 0, first.tail()
        assert stop_s < GRACE_S + 5, f"SIGTERM took {stop_s:.1f} s (grace {GRACE_S:g} s)"

        # Only stored work is committed: below each partition's committed offset, every message is stored
        # (rows for both candidates) or dead-lettered.
        committed = asyncio.run(committed_offsets(kafka_bootstrap, group, topic, PARTITIONS))
        tally = stored([store], database)
        letters = letters_by_position(kafka_bootstrap, dlq)
        below = [pos for pos in positions if committed[pos[0]] is not None and pos[1] < committed[pos[0]]]
        unfinished = [
            positions[pos].name
            for pos in below
            if (pos in valid_at and tally.lost([valid_at[pos]]) > 0) or (pos in poison_at and pos not in letters)
        ]
        assert not unfinished, f"committed but neither stored nor dead-lettered: {unfinished[:5]}"
        letters_at_stop = sum(len(v) for v in letters.values())
        stored_at_stop = sum(1 for pos in below if pos in valid_at)
        assert letters_at_stop > 0 and stored_at_stop > 0, "the SIGTERM came before any dead letter or row"
        assert len(below) < len(positions), "the SIGTERM came after the stream was done: not mid-stream"

        # Life 2 drains the rest.
        final = WorkerProcess(config, store, tmp_path / "life-2.log", "--stop-after-idle", "4")
        lives.append(final)
        assert final.wait(300) == 0, final.tail()

    tally = stored([store], database)
    letters = letters_by_position(kafka_bootstrap, dlq)
    logs = "\n".join(w.log_path.read_text(errors="replace") for w in lives)
    ids = list(valid)
    total_letters = sum(len(v) for v in letters.values())
    figures = Figures(
        scenario=f"poison corpus ({len(poisons)} kinds) + SIGTERM",
        runs=len(lives),
        events=len(positions),
        lost=tally.lost(ids) + len(poison_at.keys() - letters.keys()),
        duplicates_after_final=tally.duplicates_after_final,
        dead_letters=total_letters,
        max_rss_mib=round(max(w.max_rss_mib for w in lives), 1),
        recovery_s=None,
        faults=len(poison_at) + 1,
        note=(
            f"{len(poison_at)} poison messages ({len(poisons)} kinds x {COPIES}) among {len(valid)} valid events; "
            f"SIGTERM stop {stop_s:.1f} s (grace {GRACE_S:g} s)"
        ),
        extra={
            "seed": SEED,
            "letters_at_stop": letters_at_stop,
            "valid_stored_at_stop": stored_at_stop,
            "hostile_valid": {
                e: sorted({tally.pairs.get((e, c), ("missing", ""))[0] for c in CANDIDATES}) for e in hostile_valid()
            },
        },
    )
    record(figures)

    # Every poison message is dead-lettered exactly once, with a reason naming what is wrong; no valid event is.
    problems = []
    for pos, message in sorted(poison_at.items()):
        poison = message.poison
        assert poison is not None
        found = letters.get(pos, [])
        if len(found) != 1:
            problems.append(f"{message.name} at {pos}: {len(found)} dead letters")
            continue
        reason = found[0]["shadow.dlq.reason"].decode()
        kind = found[0]["shadow.dlq.kind"].decode()
        if (
            poison.reason not in reason
            or kind != poison.dlq_kind
            or found[0]["shadow.dlq.source.topic"] != topic.encode()
        ):
            problems.append(f"{message.name}: {kind}: {reason!r} (expected {poison.dlq_kind}: ...{poison.reason}...)")
    assert not problems, "\n".join(problems)
    assert letters.keys() <= poison_at.keys(), (
        f"valid events dead-lettered: {[valid_at.get(p) for p in letters.keys() - poison_at.keys()]}"
    )
    print("\npoison kinds and their reasons:")
    for poison in poisons:
        pos = next(p for p, m in sorted(poison_at.items()) if m.poison == poison)
        headers = letters[pos][0]
        print(
            f"  {poison.kind:42} {headers['shadow.dlq.kind'].decode():15} {headers['shadow.dlq.reason'].decode()[:150]}"
        )

    # Every valid event (the hostile ones too) has its rows for both candidates, once.
    assert figures.lost == 0
    assert figures.duplicates_after_final == 0
    assert len(tally.pairs) == len(valid) * len(CANDIDATES)
    assert asyncio.run(committed_offsets(kafka_bootstrap, group, topic, PARTITIONS)) == asyncio.run(
        end_offsets(kafka_bootstrap, topic, PARTITIONS)
    )

    # The worker never crashed and never logged a traceback.
    assert "Traceback" not in logs, logs[-3000:]


# --- the decoder, fuzzed -----------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = {"invalid_json", "invalid_event", "invalid_body", "oversized"}
FUZZ_MAX_BYTES = 64 * 1024


def check_decoder(value: bytes) -> DecodedEvent | None:
    """Decode ``value``; a DecodedEvent, or None after a DecodeError with a reason; anything else fails."""
    try:
        decoded = decode_event(value, max_bytes=FUZZ_MAX_BYTES)
    except DecodeError as exc:
        assert exc.reason.strip(), f"empty reason for {value[:80]!r}"
        assert exc.kind in KINDS, exc.kind
        return None
    assert isinstance(decoded, DecodedEvent)
    return decoded


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=40,
)


def dumps(value: Any) -> bytes:
    """JSON as a careless producer writes it: NaN and Infinity literals, integers of any size."""
    return json.dumps(value, allow_nan=True).encode()


FIELDS = [
    "schema_version",
    "event_id",
    "occurred_at",
    "service",
    "environment",
    "workflow",
    "tenant",
    "subject",
    "api",
    "request",
    "response",
    "error",
    "latency_ms",
    "stream",
    "ttft_ms",
    "tags",
]
APIS = ["openai.chat.completions", "anthropic.messages", "openai.responses"]


@st.composite
def mutated_events(draw: st.DrawFn) -> bytes:
    """A valid event with fields dropped, replaced by any JSON value (nested ones too), then maybe cut."""
    event = make_event(event_id="evt_fuzz", api=draw(st.sampled_from(APIS[:2])))
    for _ in range(draw(st.integers(1, 4))):
        path = [draw(st.sampled_from(FIELDS))]
        target: Any = event
        while isinstance(target.get(path[-1]), dict) and target[path[-1]] and draw(st.booleans()):
            target = target[path[-1]]
            path.append(draw(st.sampled_from(sorted(target))))
        if draw(st.booleans()):
            target.pop(path[-1], None)
        else:
            target[path[-1]] = draw(json_values)
    data = dumps(event)
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=3)) + data[cut + draw(st.integers(0, 3)) :]
    return data


@FUZZ
@given(st.binary(max_size=2048))
def test_fuzz_arbitrary_bytes_are_an_event_or_a_decode_error(value: bytes) -> None:
    check_decoder(value)


@FUZZ
@given(json_values)
def test_fuzz_arbitrary_json_is_an_event_or_a_decode_error(value: Any) -> None:
    check_decoder(dumps(value))


@FUZZ
@given(mutated_events())
def test_fuzz_mutated_events_are_an_event_or_a_decode_error(value: bytes) -> None:
    check_decoder(value)


def test_fuzz_valid_events_decode() -> None:
    """The mutation fuzzer's starting points are valid: a DecodeError there means the fuzzer tests nothing."""
    for api in APIS[:2]:
        assert check_decoder(event_bytes(make_event(api=api))) is not None


@FUZZ
@given(
    st.sampled_from([*FIELDS, "request.messages", "response.choices", "tags.release"]),
    st.integers(1, 3000),
    st.sampled_from([(b"[", b"]"), (b'{"k":', b"}")]),
)
def test_fuzz_deep_nesting_is_an_event_or_a_decode_error(field: str, depth: int, brackets: tuple[bytes, bytes]) -> None:
    """A value nested up to 3,000 levels in any field: never a RecursionError (orjson reads 1,024 levels)."""
    opening, closing = brackets
    event = make_event(event_id="evt_deep")
    *parents, name = field.split(".")
    target = event
    for parent in parents:
        target = target[parent]
    target[name] = "__deep__"
    value = event_bytes(event).replace(b'"__deep__"', opening * depth + b"0" + closing * depth)
    check_decoder(value)


def test_a_deep_value_in_a_failing_field_is_named() -> None:
    """``tags`` nested 300 levels (valid JSON: orjson reads 1,024 levels but writes 254) fails validation;
    quoting the bad input in the reason must not fail too (it raised orjson's TypeError before the fix)."""
    with pytest.raises(DecodeError) as caught:
        decode_event(_raw("tags", _nested(300)), max_bytes=FUZZ_MAX_BYTES)
    assert caught.value.kind == "invalid_event" and "field 'tags'" in caught.value.reason


def test_oversized_is_refused_before_parsing() -> None:
    """Past max_bytes the decoder does not read the JSON at all (150k levels, 300 KB)."""
    with pytest.raises(DecodeError) as caught:
        decode_event(_nested(150_000), max_bytes=MAX_EVENT_BYTES)
    assert caught.value.kind == "oversized" and "max_event_bytes" in caught.value.reason


def test_corpus_reasons_in_process() -> None:
    """Each poison kind fails in the decoder as the Kafka scenario expects (fast, no broker)."""
    problems = []
    for poison in corpus():
        try:
            decode_event(poison.value or b"", max_bytes=MAX_EVENT_BYTES)
        except DecodeError as exc:
            if poison.reason not in exc.reason or exc.kind != poison.dlq_kind:
                problems.append(f"{poison.kind}: {exc.kind}: {exc.reason}")
        else:
            problems.append(f"{poison.kind}: decoded")
    assert not problems, "\n".join(problems)
    for event_id, value in hostile_valid().items():
        assert check_decoder(value) is not None, event_id
