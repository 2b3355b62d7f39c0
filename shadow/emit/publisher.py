"""The publisher: a daemon thread with its own event loop that builds events and sends them to Kafka.

It takes exchanges from the emitter's buffer, builds each event (:mod:`shadow.emit.build`: parsing,
stream assembly, redaction — all here, none on the request path) and hands it to the producer, key =
event id. At most ``max_in_flight`` events wait for the broker's acknowledgement; each ends as sent or
send_failed exactly once (:meth:`Outbox.finish`).

Connecting: until the producer starts, the publisher retries with backoff (0.2 s doubling up to
``connect_backoff_max_s``) and sends nothing; the buffer fills and the emitter drops new exchanges
(``buffer_full``). Once started, the producer reconnects to brokers by itself; a send it cannot deliver
within ``send_timeout_s`` fails (``send_failed``). Nothing here ever waits on the request path: the
hooks only append to the buffer.

Closing (:meth:`Publisher.close`), in steps:

1. the publisher drains the buffer into the producer and flushes it, within the deadline;
2. the producer is stopped, within what is left of it;
3. whatever is still pending at the deadline — in the buffer, being built, or unacknowledged — is
   dropped as ``at_close`` by the emitter (``Outbox.abandon``); the loop is then cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiokafka import AIOKafkaProducer

from shadow.emit.build import EventBuilder, UnusableExchangeError
from shadow.emit.capture import Exchange
from shadow.emit.settings import EmitterSettings
from shadow.events.kafka import connection_options

if TYPE_CHECKING:
    from shadow.emit.emitter import Outbox

__all__ = ["EventProducer", "ProducerFactory", "Publisher", "kafka_producer"]

log = logging.getLogger(__name__)

TAKE_BATCH = 64
"""Exchanges taken from the buffer at once."""
IDLE_WAIT_S = 1.0
"""Longest sleep of an idle publisher (a submission wakes it at once)."""
IDLE_AFTER_S = 1.0
"""A publisher that found the buffer empty this long goes idle: the next submission wakes it. Until then
it looks every ``publish_interval_ms``, so a steady stream of calls never pays for waking it up, and its
work does not start at the tail of the call that handed an exchange over."""


class EventProducer(Protocol):
    """What the publisher needs of a producer (``aiokafka.AIOKafkaProducer`` has it)."""

    async def start(self) -> None: ...

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future[Any]: ...

    async def flush(self) -> None: ...

    async def stop(self) -> None: ...


ProducerFactory = Callable[[EmitterSettings], EventProducer]


def kafka_producer(settings: EmitterSettings) -> EventProducer:
    """An aiokafka producer for the emitter's settings (created inside the publisher's loop)."""
    timeout_ms = int(settings.send_timeout_s * 1000)
    producer: EventProducer = AIOKafkaProducer(
        acks=settings.acks,
        linger_ms=settings.linger_ms,
        max_request_size=settings.max_event_bytes,
        request_timeout_ms=timeout_ms,
        metadata_max_age_ms=60_000,
        retry_backoff_ms=200,
        **connection_options(settings.kafka),
    )
    return producer


class Publisher:
    """The thread, its loop and its producer."""

    def __init__(
        self,
        settings: EmitterSettings,
        outbox: Outbox,
        builder: EventBuilder,
        producer_factory: ProducerFactory,
    ) -> None:
        self.settings = settings
        self._outbox = outbox
        self._build = builder
        self._factory = producer_factory
        self._loop = asyncio.new_event_loop()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._deadline = 0.0
        self._main: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shadow-emit-publisher", daemon=True)
        self.connected = False
        self._logged: set[str] = set()

    def start(self) -> None:
        self._thread.start()
        self._started.wait(5)

    def wake(self) -> None:
        """Called from any thread: after a submission found the publisher idle, and by flush()."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to wake
            self._loop.call_soon_threadsafe(self._wakeup.set)

    def close(self, timeout_s: float) -> bool:
        """Drain, flush and stop within ``timeout_s``; True when the thread ended in time (see the steps above)."""
        deadline = time.monotonic() + timeout_s
        if not self._thread.is_alive():
            return True

        def begin() -> None:
            self._closing = True
            self._deadline = deadline
            self._wakeup.set()

        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(begin)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            # Step 3: the deadline passed. The emitter abandons what is pending; the loop is cancelled.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._cancel)
            self._thread.join(1.0)
            return False
        return True

    # --- in the publisher's thread ------------------------------------------------------------

    def _cancel(self) -> None:
        if self._main is not None:
            self._main.cancel()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._main = self._loop.create_task(self._serve())
            self._started.set()
            with contextlib.suppress(asyncio.CancelledError):
                self._loop.run_until_complete(self._main)
        except Exception:  # the publisher must never take the service down
            log.exception("shadow.emit publisher stopped")
        finally:
            self._started.set()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def _remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic()) if self._closing else float("inf")

    async def _serve(self) -> None:
        producer = await self._connect()
        if producer is None:
            return  # closed before any broker answered: the emitter drops what is pending as at_close
        try:
            await self._pump(producer)
            # Step 1 (end): everything taken was handed to the producer; wait for the acknowledgements.
            await self._bounded(producer.flush())
        finally:
            # Step 2.
            self.connected = False
            await self._bounded(producer.stop())

    async def _bounded(self, work: Any) -> None:
        remaining = self._remaining()
        try:
            await asyncio.wait_for(work, None if remaining == float("inf") else remaining)
        except TimeoutError:
            pass
        except Exception as exc:  # noqa: BLE001 - a failing stop still ends the publisher
            self._log_once("stop", f"shadow.emit: producer flush/stop failed: {type(exc).__name__}: {exc}")

    async def _connect(self) -> EventProducer | None:
        backoff = 0.2
        while True:
            if self._closing:
                return None
            producer = self._factory(self.settings)
            try:
                await producer.start()
            except Exception as exc:  # noqa: BLE001 - any failure to start is retried
                self._log_once(
                    "connect", f"shadow.emit: cannot reach Kafka yet ({type(exc).__name__}: {exc}); retrying"
                )
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(producer.stop(), 1.0)
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.settings.connect_backoff_max_s)
                continue
            self.connected = True
            log.info("shadow.emit: connected to %s", self.settings.kafka.bootstrap_servers)
            return producer

    async def _sleep(self, seconds: float) -> None:
        """Sleep, woken early by close()."""
        self._wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), min(seconds, self._remaining()))

    async def _pump(self, producer: EventProducer) -> None:
        slots = asyncio.Semaphore(self.settings.max_in_flight)
        topic = self.settings.kafka.topic
        outbox = self._outbox
        interval_s = self.settings.publish_interval_ms / 1000
        empty_since: float | None = None
        while True:
            taken = outbox.take(TAKE_BATCH)
            if not taken:
                if self._closing:
                    return
                now = time.monotonic()
                empty_since = empty_since or now
                if now - empty_since < IDLE_AFTER_S:
                    await self._sleep(interval_s)  # busy: look again soon, unwoken
                    continue
                self._wakeup.clear()
                if outbox.idle():  # no submission slipped in between: sleep until one wakes it
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), IDLE_WAIT_S)
                continue
            empty_since = None
            for exchange in taken:
                await self._send(producer, topic, exchange, slots)

    async def _send(self, producer: EventProducer, topic: str, exchange: Exchange, slots: asyncio.Semaphore) -> None:
        outbox = self._outbox
        try:
            value = self._build(exchange)
        except UnusableExchangeError as exc:
            outbox.finish(exchange, "unusable")
            self._log_once(f"unusable:{exc}", f"shadow.emit: an exchange was not emitted: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - one bad exchange must not stop the publisher
            outbox.finish(exchange, "unusable")
            self._log_once(f"build:{type(exc).__name__}", f"shadow.emit: building an event failed: {exc!r}")
            return
        finally:
            exchange.release()  # the bytes are in the event now (or dropped)
        await slots.acquire()
        try:
            delivery = await producer.send(topic, value, key=exchange.event_id.encode())
        except Exception as exc:  # noqa: BLE001 - a refused send is a dropped event, not a dead publisher
            slots.release()
            outbox.finish(exchange, "send_failed")
            self._log_once(f"send:{type(exc).__name__}", f"shadow.emit: send failed: {type(exc).__name__}: {exc}")
            return

        def delivered(done: asyncio.Future[Any]) -> None:
            slots.release()
            failed = done.cancelled() or done.exception() is not None
            outbox.finish(exchange, "send_failed" if failed else "sent")
            if failed and not done.cancelled():
                error = done.exception()
                self._log_once(f"ack:{type(error).__name__}", f"shadow.emit: delivery failed: {error!r}")

        delivery.add_done_callback(delivered)

    def _log_once(self, key: str, message: str) -> None:
        if key in self._logged or len(self._logged) > 100:
            return
        self._logged.add(key)
        log.warning(message)
