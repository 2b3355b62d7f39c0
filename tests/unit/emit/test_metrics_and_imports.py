"""The emitter's Prometheus metrics, and what importing shadow.emit loads (a service installs it)."""

from __future__ import annotations

import subprocess
import sys

from prometheus_client import CollectorRegistry, generate_latest

from shadow.emit import instrument, register_metrics
from shadow.emit.memory import MemoryProducer
from tests.unit.emit.fakes import FakeProvider

CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}


def test_metrics_follow_the_counters(emitter_factory, provider: FakeProvider) -> None:
    emitter, _ = emitter_factory(MemoryProducer(fail_start=True), max_buffer_events=2, service="billing")
    registry = CollectorRegistry()
    assert register_metrics(emitter, registry)
    client = instrument(provider.openai(), emitter)
    for _ in range(3):
        client.chat.completions.create(**CHAT)
    text = generate_latest(registry).decode()
    assert 'shadow_emit_calls_total{outcome="seen",service="billing"} 3.0' in text
    assert 'shadow_emit_calls_total{outcome="queued",service="billing"} 2.0' in text
    assert 'shadow_emit_dropped_total{reason="buffer_full",service="billing"} 1.0' in text
    assert 'shadow_emit_pending{service="billing"} 2.0' in text
    assert 'shadow_emit_connected{service="billing"} 0.0' in text


FORBIDDEN = ("clickhouse_connect", "chdb", "aiohttp", "shadow.sink", "shadow.replay", "shadow.report", "shadow.storage")


def test_importing_shadow_emit_loads_no_worker_code() -> None:
    script = (
        "import sys, shadow.emit, shadow.emit.memory\n"
        f"bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == ""
