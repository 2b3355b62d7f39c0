"""The emitter's counters as Prometheus metrics, when ``prometheus_client`` is importable.

``register_metrics(emitter)`` adds a collector to a registry (the default one unless given); it reads
:meth:`shadow.emit.Emitter.stats` at each scrape, so it costs nothing between scrapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shadow.emit.emitter import Emitter

__all__ = ["register_metrics"]


class _EmitterCollector:
    def __init__(self, emitter: Emitter) -> None:
        self._emitter = emitter

    def describe(self) -> list[Any]:
        return []  # collected at each scrape only (its labels are fixed, but describe must not scrape)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily  # noqa: PLC0415 - optional

        s = self._emitter.stats()
        service = self._emitter.settings.service
        calls = CounterMetricFamily(
            "shadow_emit_calls",
            "LLM calls on mirrored paths, by what became of them (sampled_out, retried, queued)",
            labels=["service", "outcome"],
        )
        for outcome, value in (("seen", s.seen), ("sampled_out", s.sampled_out), ("retried", s.retried)):
            calls.add_metric([service, outcome], value)
        calls.add_metric([service, "queued"], s.queued)
        yield calls
        sent = CounterMetricFamily("shadow_emit_sent", "mirror events acknowledged by Kafka", labels=["service"])
        sent.add_metric([service], s.sent)
        yield sent
        dropped = CounterMetricFamily(
            "shadow_emit_dropped", "mirror events dropped, by reason", labels=["service", "reason"]
        )
        for reason, value in s.dropped.items():
            dropped.add_metric([service, reason], value)
        yield dropped
        errors = CounterMetricFamily(
            "shadow_emit_hook_errors", "faults of the emitter's hooks (the calls went on)", labels=["service"]
        )
        errors.add_metric([service], s.hook_errors)
        yield errors
        pending = GaugeMetricFamily(
            "shadow_emit_pending", "events queued and not yet sent or dropped", labels=["service"]
        )
        pending.add_metric([service], s.pending)
        yield pending
        connected = GaugeMetricFamily("shadow_emit_connected", "1 when the producer is connected", labels=["service"])
        connected.add_metric([service], 1.0 if s.connected else 0.0)
        yield connected


def register_metrics(emitter: Emitter, registry: Any = None) -> bool:
    """Register the emitter's metrics; False (nothing done) when prometheus_client is not installed."""
    try:
        from prometheus_client import REGISTRY  # noqa: PLC0415 - optional
    except ImportError:
        return False
    (registry if registry is not None else REGISTRY).register(_EmitterCollector(emitter))
    return True
