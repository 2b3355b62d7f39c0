"""What the hooks record of one sampled HTTP exchange, and the tee that records a response body.

On the request path the emitter only keeps references and appends: the request (its bytes already
built by the SDK), the response's status and headers, then every body chunk with the moment it arrived
(``time.perf_counter``), up to ``max_capture_bytes``. Everything else — parsing, assembling a streamed
answer, redaction, serialization — happens later, in the publisher's thread
(:mod:`shadow.emit.build`).

The tee replaces ``response.stream``. It hands every chunk to the caller as it comes, untouched and
unbuffered, and when the body ends or the caller closes the response it gives the exchange to the
emitter. A failure of its own bookkeeping is counted and swallowed; the stream's own errors (a read
timeout, a dropped connection) reach the caller unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from shadow.emit.context import CallContext
from shadow.events.models import Api

__all__ = ["ASYNC_TEES", "SYNC_TEES", "Exchange", "async_tee_class", "sync_tee_class"]

# How the response body ended, as the tee saw it.
OPEN = "open"
COMPLETE = "complete"  # the server ended the body (the stream was read to its end)
ABANDONED = "abandoned"  # the caller closed the response before its end
FAILED = "failed"  # reading the body raised (read timeout, connection dropped)


@dataclass(slots=True, eq=False)
class Exchange:
    """One sampled HTTP exchange: what the response hook noted, then what the body brought.

    The request path notes only what it must then (times, the context, the sampling decision) and keeps
    references to the rest; the publisher reads the request's bytes and headers and the response's
    headers from them, and gives the event its id."""

    api: Api
    context: CallContext  # as the service set it (its workflow may be None: see ``workflow``)
    workflow: str  # the context's, or the emitter's default
    subject: str | None  # as sampled: redacted when redaction at the source is on
    started: float  # perf_counter() just before httpx sent the request (see shadow.emit.hooks)
    request: Any  # the httpx Request (its bytes are already built; its headers carry the SDKs' retry count)
    limit: int  # max_capture_bytes
    size: int  # bytes held: the request and the response body so far
    status: int
    response_headers: Any  # the response's httpx Headers
    event_id: str = ""  # given by the publisher (or by sampling, when it needed one on the request path)
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    ended: float = 0.0  # perf_counter() when the body ended or the response was closed
    outcome: str = OPEN
    failure: str = ""  # the exception that ended a FAILED body (its type and message)
    overflow: bool = False  # the exchange outgrew ``limit``: nothing more recorded, dropped as too_large
    finished: bool = False  # accounted for (sent, or dropped for one reason): guarded by the emitter's lock
    decoded: bool = False  # the chunks were decoded from the Content-Encoding (by the publisher)

    @property
    def request_body(self) -> bytes:
        return self.request.content if self.request is not None else b""

    @property
    def request_headers(self) -> Any:
        return self.request.headers if self.request is not None else {}

    def release(self) -> None:
        """Let go of the bytes (the event holds them now, or was dropped)."""
        self.chunks = []
        self.request = None

    @property
    def content_type(self) -> str:
        return str(self.response_headers.get("content-type", "")) if self.response_headers is not None else ""

    @property
    def content_encoding(self) -> str:
        """The body's Content-Encoding: the tee records the body as it travels, still encoded."""
        return str(self.response_headers.get("content-encoding", "")) if self.response_headers is not None else ""

    def record(self, chunk: bytes) -> None:
        """Keep ``chunk`` with the moment it arrived (the tees inline this; it is their per-chunk work)."""
        size = self.size + len(chunk)
        if size <= self.limit:
            self.size = size
            self.chunks.append((perf_counter(), chunk))
        else:
            self.outgrow()

    def outgrow(self) -> None:
        """The exchange passed ``limit``: nothing more is kept, and what was is released at once."""
        if not self.overflow:
            self.overflow = True
            self.chunks = []  # only the caller still holds the bytes
            self.size = self.limit + 1

    def end(self, outcome: str, failure: str = "") -> bool:
        """Mark how the body ended; True the first time (the exchange is then handed over)."""
        if self.outcome != OPEN:
            return False
        self.ended = perf_counter()
        self.outcome = outcome
        self.failure = failure
        return True


Deliver = Callable[[Exchange], None]
Fault = Callable[[BaseException], None]


class _Tee:
    """What both tees share: the exchange they record, handing it over once its body ended, and the
    wrapped stream's own attributes.

    A tee stands where the response's stream stood, and code reads attributes from there: ``httpx2``'s
    ``Response.elapsed`` is the stream's ``elapsed`` (set when it closes), and the anthropic SDK's tracing
    finds its ``stream_observer`` on the stream. Every attribute a tee does not have is the wrapped
    stream's, so the caller sees what it would without the emitter."""

    _inner: Any
    _exchange: Exchange
    _deliver: Deliver
    _fault: Fault

    def __getattr__(self, name: str) -> Any:
        # Only for attributes the tee lacks (never on the per-chunk path). ``_inner`` itself missing (a tee
        # not yet initialised) must not recurse.
        if name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    def _end(self, outcome: str, failure: str = "") -> None:
        try:
            exchange = self._exchange
            if exchange.outcome == OPEN:  # Exchange.end, inlined (it runs once per sampled call)
                exchange.ended = perf_counter()
                exchange.outcome = outcome
                exchange.failure = failure
                self._deliver(exchange)
        except Exception as exc:  # noqa: BLE001 - the emitter's fault must never reach the caller
            self._fault(exc)


class _SyncTee(_Tee):
    """A sync byte stream that passes chunks through and records them (mixed into the stream base of the
    response's own httpx module: ``httpx`` and ``httpx2`` each check for their own class)."""

    def __init__(self, inner: Any, exchange: Exchange, deliver: Deliver, fault: Fault) -> None:
        self._inner = inner
        self._exchange = exchange
        self._deliver = deliver
        self._fault = fault

    def __iter__(self) -> Iterator[bytes]:
        exchange = self._exchange
        limit = exchange.limit
        try:
            for chunk in self._inner:
                try:  # Exchange.record, inlined: this runs for every chunk of every sampled call
                    size = exchange.size + len(chunk)
                    if size <= limit:
                        exchange.size = size
                        exchange.chunks.append((perf_counter(), chunk))
                    else:
                        exchange.outgrow()
                except Exception as exc:  # noqa: BLE001 - the emitter's fault must never reach the caller
                    self._fault(exc)
                yield chunk
        except GeneratorExit:
            self._end(ABANDONED)
            raise
        except BaseException as exc:
            self._end(FAILED, f"{type(exc).__name__}: {exc}")
            raise
        self._end(COMPLETE)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if self._exchange.outcome == OPEN:  # a body read to its end was handed over already: no call
                self._end(ABANDONED)


class _AsyncTee(_Tee):
    """The async twin of :class:`_SyncTee`. Its iterator is an async generator (the cheapest async
    iteration step Python has: about half the cost of a class whose ``__anext__`` is a coroutine), closed
    by ``aclose()``: httpx closes the response's stream when the body ends or the caller closes it (the
    SDKs do, even when they stop reading at the final event), so the event loop never has a suspended
    generator of ours to finalize."""

    def __init__(self, inner: Any, exchange: Exchange, deliver: Deliver, fault: Fault) -> None:
        self._inner = inner
        self._exchange = exchange
        self._deliver = deliver
        self._fault = fault
        self._iterator: AsyncGenerator[bytes, None] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._iterator = self._records()
        return self._iterator

    async def _records(self) -> AsyncGenerator[bytes, None]:
        exchange = self._exchange
        limit = exchange.limit
        try:
            async for chunk in self._inner:
                try:  # Exchange.record, inlined: this runs for every chunk of every sampled call
                    size = exchange.size + len(chunk)
                    if size <= limit:
                        exchange.size = size
                        exchange.chunks.append((perf_counter(), chunk))
                    else:
                        exchange.outgrow()
                except Exception as exc:  # noqa: BLE001 - the emitter's fault must never reach the caller
                    self._fault(exc)
                yield chunk
        except (GeneratorExit, asyncio.CancelledError):
            self._end(ABANDONED)  # the caller closed the response, or its task gave up on the call
            raise
        except BaseException as exc:
            self._end(FAILED, f"{type(exc).__name__}: {exc}")
            raise
        self._end(COMPLETE)

    async def aclose(self) -> None:
        try:
            iterator, self._iterator = self._iterator, None
            if iterator is not None:
                with contextlib.suppress(RuntimeError):  # being iterated elsewhere: the loop finalizes it
                    await iterator.aclose()
        finally:
            try:
                await self._inner.aclose()
            finally:
                if self._exchange.outcome == OPEN:  # as in _SyncTee.close
                    self._end(ABANDONED)


SYNC_TEES: dict[type, type] = {}
"""The sync tee class for each response type seen (see :func:`sync_tee_class`)."""
ASYNC_TEES: dict[type, type] = {}
"""The async tee class for each response type seen (see :func:`async_tee_class`)."""


def _stream_base(response: Any, name: str) -> type:
    """``SyncByteStream``/``AsyncByteStream`` of the module the response comes from (httpx, httpx2, ...)."""
    for kind in type(response).__mro__:
        module = sys.modules.get(kind.__module__.split(".", 1)[0])
        base = getattr(module, name, None)
        if isinstance(base, type):
            return base
    raise TypeError(f"{type(response).__name__} is not an httpx response")


def sync_tee_class(response: Any) -> type:
    """The tee class for ``response``'s own httpx flavour (made once per response type, kept in
    :data:`SYNC_TEES`); an instance is ``cls(response.stream, exchange, deliver, fault)``."""
    cls = SYNC_TEES[type(response)] = type("ShadowSyncTee", (_SyncTee, _stream_base(response, "SyncByteStream")), {})
    return cls


def async_tee_class(response: Any) -> type:
    """The async twin of :func:`sync_tee_class` (kept in :data:`ASYNC_TEES`)."""
    cls = ASYNC_TEES[type(response)] = type(
        "ShadowAsyncTee", (_AsyncTee, _stream_base(response, "AsyncByteStream")), {}
    )
    return cls
