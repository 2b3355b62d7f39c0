"""shadow.emit: the production side — mirror a service's LLM calls to Kafka without changing the calls.

A service installs ``shadow-rollouts[emit]``, creates one :class:`Emitter`, hooks it on its SDK clients
and labels its calls::

    emitter = shadow.emit.Emitter(service="support-api", kafka={"bootstrap_servers": "kafka:9092"})
    client = shadow.emit.instrument(openai.OpenAI(), emitter)
    with shadow.emit.context(workflow="support_chat", tenant=tenant_id, subject=conversation_id):
        client.chat.completions.create(...)   # answered exactly as without the emitter

Flow: hooks (:mod:`~shadow.emit.hooks`) → capture (:mod:`~shadow.emit.capture`) → bounded buffer
(:mod:`~shadow.emit.emitter`) → publisher thread (:mod:`~shadow.emit.publisher`: build
(:mod:`~shadow.emit.build`: stream assembly, redaction), Kafka). This package imports neither
ClickHouse, aiohttp nor the worker's replay, sink or report code.
"""

from __future__ import annotations

from shadow.emit.context import CallContext, context, current_context
from shadow.emit.emitter import AFTER_QUEUE, BEFORE_QUEUE, Emitter, EmitterStats
from shadow.emit.hooks import api_for_path, async_httpx_hooks, httpx_hooks, instrument
from shadow.emit.metrics import register_metrics
from shadow.emit.sampling import SourceSampler
from shadow.emit.settings import EmitterSettings

__all__ = [
    "AFTER_QUEUE",
    "BEFORE_QUEUE",
    "CallContext",
    "Emitter",
    "EmitterSettings",
    "EmitterStats",
    "SourceSampler",
    "api_for_path",
    "async_httpx_hooks",
    "context",
    "current_context",
    "httpx_hooks",
    "instrument",
    "register_metrics",
]
