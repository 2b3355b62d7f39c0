"""The emitter: sampling and capture on the request path, a bounded buffer, counters, shutdown.

What a call pays on the request path: a start time; then, when the answer's headers arrive, the
context, one hash to sample (none at rate 1), for a sampled call an exchange holding references to the
request and the response's headers and an append per body chunk, then one append to the buffer under
a lock. A full buffer drops the exchange (``buffer_full``) instead of waiting; nothing on the request
path waits on Kafka or raises.

Accounting. Every answered POST on a mirrored path is ``seen``; it is then ``sampled_out``, ``retried``
(an attempt the SDK retries, see :mod:`shadow.emit.hooks`), dropped before the buffer (``buffer_full``,
``too_large``, ``closed``: submitted after close()), or ``queued``. A queued exchange ends exactly
once as ``sent`` or dropped after the buffer (``send_failed``, ``at_close``, ``unusable``: it could not
become a valid event), and until then it is ``pending``, so at every moment::

    queued == sent + send_failed + at_close + unusable + pending

Memory is bounded by ``max_buffer_events`` and ``max_buffer_bytes`` for the buffer, by
``max_capture_bytes`` per exchange, and by ``max_in_flight`` events of at most ``max_event_bytes`` in
the producer.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import secrets
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from shadow.emit.build import EventBuilder
from shadow.emit.capture import Exchange
from shadow.emit.hooks import instrument
from shadow.emit.publisher import ProducerFactory, Publisher, kafka_producer
from shadow.emit.sampling import SourceSampler
from shadow.emit.settings import EmitterSettings
from shadow.redaction import KEY_ENV, Redactor, redaction_key

__all__ = ["AFTER_QUEUE", "BEFORE_QUEUE", "Emitter", "EmitterStats"]

log = logging.getLogger(__name__)

BEFORE_QUEUE = ("buffer_full", "too_large", "closed")
AFTER_QUEUE = ("send_failed", "at_close", "unusable")


@dataclass(frozen=True, slots=True)
class EmitterStats:
    """A snapshot of the emitter's counters (see the module docstring for how they add up)."""

    seen: int = 0
    sampled_out: int = 0
    retried: int = 0
    queued: int = 0
    sent: int = 0
    pending: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*BEFORE_QUEUE, *AFTER_QUEUE), 0))
    hook_errors: int = 0
    connected: bool = False

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "sampled_out": self.sampled_out,
            "retried": self.retried,
            "queued": self.queued,
            "sent": self.sent,
            "pending": self.pending,
            "dropped": dict(self.dropped),
            "hook_errors": self.hook_errors,
            "connected": self.connected,
        }


class Outbox:
    """The bounded buffer between the hooks and the publisher, and the counters; one lock guards both."""

    def __init__(self, max_events: int, max_bytes: int) -> None:
        self._lock = threading.Lock()
        self._buffer: deque[Exchange] = deque()
        self._bytes = 0
        self._taken: set[Exchange] = set()
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._idle = False
        self.closed = False
        self.counts: dict[str, int] = dict.fromkeys(
            ("retried", "queued", "sent", "hook_errors", *BEFORE_QUEUE, *AFTER_QUEUE), 0
        )
        # Counted on every call's path, without the lock: next() on an itertools.count is one atomic step.
        self.seen = itertools.count()
        self.sampled_out = itertools.count()

    def count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def put(self, exchange: Exchange) -> None:
        """Queue an exchange unless a bound or close() refuses it, and wake the publisher if it sleeps (the
        tees hand their exchange here directly: one call on the request path)."""
        with self._lock:
            counts = self.counts
            if self.closed:
                counts["closed"] += 1
                return
            if exchange.overflow:
                counts["too_large"] += 1
                return
            if len(self._buffer) >= self._max_events or self._bytes + exchange.size > self._max_bytes:
                counts["buffer_full"] += 1
                return
            self._buffer.append(exchange)
            self._bytes += exchange.size
            counts["queued"] += 1
            wake, self._idle = self._idle, False
        if wake:
            self.wake()

    def wake(self) -> None:
        """Wake the publisher (replaced by the emitter with its publisher's ``wake``)."""

    def take(self, limit: int) -> list[Exchange]:
        with self._lock:
            taken: list[Exchange] = []
            while self._buffer and len(taken) < limit:
                exchange = self._buffer.popleft()
                self._bytes -= exchange.size
                taken.append(exchange)
            self._taken.update(taken)
            return taken

    def idle(self) -> bool:
        """Mark the publisher idle if nothing is buffered (the next put wakes it); True when marked."""
        with self._lock:
            self._idle = not self._buffer
            return self._idle

    def finish(self, exchange: Exchange, outcome: str) -> None:
        """``outcome`` (sent, send_failed, unusable, at_close) for a taken exchange; once only."""
        with self._lock:
            if exchange.finished:
                return
            exchange.finished = True
            self._taken.discard(exchange)
            self.counts[outcome] += 1

    def abandon(self) -> int:
        """Drop everything still pending as ``at_close`` (after the close deadline); how many."""
        with self._lock:
            pending = [e for e in (*self._buffer, *self._taken) if not e.finished]
            for exchange in pending:
                exchange.finished = True
            self._buffer.clear()
            self._bytes = 0
            self._taken.clear()
            self.counts["at_close"] += len(pending)
            return len(pending)

    def pending(self) -> int:
        with self._lock:
            return len(self._buffer) + len(self._taken)

    def snapshot(self, connected: bool) -> EmitterStats:
        with self._lock:
            c = dict(self.counts)
            pending = len(self._buffer) + len(self._taken)
        return EmitterStats(
            seen=_peek(self.seen),
            sampled_out=_peek(self.sampled_out),
            retried=c["retried"],
            queued=c["queued"],
            sent=c["sent"],
            pending=pending,
            dropped={reason: c[reason] for reason in (*BEFORE_QUEUE, *AFTER_QUEUE)},
            hook_errors=c["hook_errors"],
            connected=connected,
        )


class Emitter:
    """Mirrors a service's LLM calls to Kafka as mirror events v1, off the request path.

    Create one per process, hook it on the clients (:func:`shadow.emit.instrument`,
    :func:`shadow.emit.httpx_hooks`), label calls with :func:`shadow.emit.context`, and ``close()`` it
    at shutdown (it is also closed at interpreter exit).

    Args:
        settings: the settings; or give them as keyword arguments (``service=...``, ``kafka={...}``).
        sampler: rates to sample with (default: from the settings).
        redactor: the redaction to apply (default: from ``settings.redaction`` when ``settings.redact``,
            keyed with ``SHADOW_REDACTION_KEY`` or ``redaction.key_file``).
        producer_factory: builds the producer (default: aiokafka); tests pass an in-memory one.
    """

    def __init__(
        self,
        settings: EmitterSettings | None = None,
        *,
        sampler: SourceSampler | None = None,
        redactor: Redactor | None = None,
        producer_factory: ProducerFactory | None = None,
        **overrides: Any,
    ) -> None:
        if settings is None:
            settings = EmitterSettings(**overrides)
        elif overrides:
            settings = EmitterSettings(**{**settings.model_dump(), **overrides})
        self.settings = settings
        self.sampler = sampler or settings.sampler()
        self.redactor = redactor if redactor is not None else _redactor(settings)
        self._redact_subject = self.redactor is not None and self.redactor.active
        self._workflow = settings.workflow
        self._capture_limit = settings.max_capture_bytes
        self._emit_retried = settings.emit_retriable_errors
        self._subject_token = lru_cache(maxsize=4096)(self._redact_text)
        self._producer_factory = producer_factory or kafka_producer
        self._closed = False
        self._fault_logged = False
        self._ids = _EventIds()
        self._start()
        self._atexit = _weak_close(self)
        atexit.register(self._atexit)
        os.register_at_fork(after_in_child=_weak_call(self, Emitter._after_fork_in_child))

    def _start(self) -> None:
        settings = self.settings
        self._outbox = Outbox(settings.max_buffer_events, settings.max_buffer_bytes)
        builder = EventBuilder(settings.service, settings.environment, self.redactor, self._ids.next)
        self._publisher = Publisher(settings, self._outbox, builder, self._producer_factory)
        self._outbox.wake = self._publisher.wake  # type: ignore[method-assign]
        self._publisher.start()

    def _after_fork_in_child(self) -> None:
        """A forked child (a pre-forking server's worker) has no publisher thread: it gets its own, with its
        own buffer and counters, and its own event ids."""
        self._ids.draw()
        if not self._closed:
            self._start()

    # --- the service's side ---------------------------------------------------------------------

    def stats(self) -> EmitterStats:
        """The counters now (safe from any thread)."""
        return self._outbox.snapshot(self._publisher.connected)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until nothing is pending (sent or dropped), at most ``timeout_s``; True when nothing is."""
        deadline = time.monotonic() + timeout_s
        if self._outbox.pending():
            self._publisher.wake()  # look now rather than at its next tick
        while self._outbox.pending():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.001)
        return True

    def close(self, timeout_s: float | None = None) -> EmitterStats:
        """Stop taking calls, send what is pending within ``timeout_s`` (default ``close_timeout_s``),
        drop the rest as ``at_close``; the final counters. Idempotent."""
        if not self._closed:
            self._closed = True
            atexit.unregister(self._atexit)
            with self._outbox._lock:
                self._outbox.closed = True
            timeout = self.settings.close_timeout_s if timeout_s is None else timeout_s
            self._publisher.close(timeout)
            abandoned = self._outbox.abandon()
            if abandoned:
                log.warning("shadow.emit: %d events not sent by close(): dropped (at_close)", abandoned)
        return self.stats()

    def __enter__(self) -> Emitter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def instrument(self, client: Any) -> Any:
        """Hook this emitter on an SDK or httpx client (see :func:`shadow.emit.instrument`)."""
        return instrument(client, self)

    # --- the hooks' side (request path: cheap, never raises) --------------------------------------

    def _submit(self, exchange: Exchange) -> None:
        self._outbox.put(exchange)

    def _fault(self, exc: BaseException) -> None:
        """A fault of the emitter's own (never the caller's): counted, logged once."""
        try:
            self._outbox.count("hook_errors")
            if not self._fault_logged:
                self._fault_logged = True
                log.warning("shadow.emit: a hook failed (the call went on unaffected): %r", exc)
        except Exception:  # noqa: BLE001 - counting must not fail the call either
            return

    def _redact_text(self, text: str) -> str:
        assert self.redactor is not None
        return self.redactor(text)


class _EventIds:
    """Unique event ids without a system call per call: 80 random bits drawn per process (again in a forked
    child) and a counter, written like a UUID. ``uuid4()`` would read the kernel's random source per call
    (a few µs, and a release of the GIL that lets another thread in)."""

    def __init__(self) -> None:
        self.draw()

    def draw(self) -> None:
        """A new random prefix (the emitter calls it again in a forked child)."""
        text = f"{secrets.randbits(80):020x}"
        self._prefix = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-"
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFF_FFFF_FFFF:012x}"


def _peek(counter: itertools.count[int]) -> int:
    """How many times ``next()`` was called on ``counter`` (its repr is ``count(N)``; reading it takes
    no step)."""
    return int(repr(counter)[6:-1])


def _redactor(settings: EmitterSettings) -> Redactor | None:
    """The workers' redaction, keyed like theirs; without a configured key, a key of this process only
    (the service's environment is left alone) and a warning: tokens then differ from the workers'."""
    if not settings.redact or not settings.redaction.enabled:
        return None
    key = redaction_key(settings.redaction, os.environ)
    if key is None:
        log.warning(
            "shadow.emit: %s is not set: redaction tokens use a key of this process only and will not "
            "match the workers' (set the workers' key in the service)",
            KEY_ENV,
        )
        return Redactor.from_settings(settings.redaction, {KEY_ENV: secrets.token_hex(32)})
    return Redactor.from_settings(settings.redaction, {KEY_ENV: key.decode()})


def _weak_call(emitter: Emitter, method: Any) -> Any:
    """A callback that calls ``method`` on the emitter while it lives, without keeping it alive."""
    ref = weakref.ref(emitter)

    def call() -> None:
        found = ref()
        if found is not None:
            method(found)

    return call


def _weak_close(emitter: Emitter) -> Any:
    """An exit handler that closes the emitter without keeping it alive."""
    ref = weakref.ref(emitter)

    def close() -> None:
        found = ref()
        if found is not None:
            found.close()

    return close
