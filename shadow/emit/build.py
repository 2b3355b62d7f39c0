"""A recorded exchange turned into a mirror event v1, in the publisher's thread.

Steps, in order:

1. the request bytes parsed (a body that is not a JSON object cannot be replayed: unusable); the response's
   Content-Encoding undone (the tee records the body as it travels: gzip'd when the provider gzipped it);
2. the answer: an error status gives ``error`` {status, type, message} from the provider's error body;
   a streamed answer (``text/event-stream``) is fed, chunk by chunk with the moments they arrived, to
   :class:`shadow.events.stream.StreamAssembler`, which gives the final body (the unstreamed shape)
   and the chunk that carried the first token (``ttft_ms`` = its arrival − the request's start); an
   error event inside the stream, or a stream that breaks off with no answer, is production's error;
   an unstreamed answer is its parsed body (a body that is not JSON is production's error too);
3. redaction, when on: every string of request, response and error message through the workers'
   rules (JSON texts inside strings — tool arguments, JSON answers — stay valid JSON), configured JSON
   paths replaced, tenant and tags redacted (the subject was redacted when it was sampled); each text is
   redacted once and kept in a bounded cache, as calls repeat their system prompt, history and tools;
4. validation against :class:`shadow.events.models.MirrorEvent`, then serialization.

``latency_ms`` runs from the moment httpx sent the request (its own clock, see :mod:`shadow.emit.hooks`) to the
end of the body, ``occurred_at`` is that end.
"""

from __future__ import annotations

import importlib
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from shadow.emit.capture import ABANDONED, FAILED, Exchange
from shadow.errors import ResponseFormatError, ShadowError
from shadow.events.models import Api, MirrorEvent
from shadow.events.stream import StreamAssembler
from shadow.redaction import Redactor
from shadow.redaction.jsonwalk import redact_document

__all__ = ["EventBuilder", "UnusableExchangeError"]

MAX_ERROR_MESSAGE_CHARS = 2000
RETRIES_TAG = "shadow.retries"
RETRY_HEADER = "x-stainless-retry-count"
"""The SDKs' count of the attempts before this one, on each request they send."""


class UnusableExchangeError(ShadowError):
    """An exchange that cannot become a valid mirror event (counted as dropped ``unusable``)."""


class EventBuilder:
    """Builds event bytes from exchanges with one service's identity and (optionally) a redactor."""

    def __init__(
        self,
        service: str,
        environment: str,
        redactor: Redactor | None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.service = service
        self.new_id = new_id or (lambda: str(uuid.uuid4()))  # event ids not drawn on the request path
        self.environment = environment
        self.redactor = redactor if redactor is not None and redactor.active else None
        self._texts = _TextCache(self._redact_text) if self.redactor is not None else None

    def __call__(self, exchange: Exchange) -> bytes:
        """The event's JSON bytes.

        Raises:
            UnusableExchangeError: naming why (the request is not JSON, the caller left a stream before
                any answer arrived, a field is out of the contract's bounds).
        """
        request = _json_object(exchange.request_body)
        if request is None:
            raise UnusableExchangeError("the request body is not a JSON object")
        encoding = exchange.content_encoding
        if encoding and not exchange.decoded:
            exchange.chunks = decoded_chunks(encoding, exchange.chunks, exchange.limit)
            exchange.decoded = True
        streamed = exchange.content_type.startswith("text/event-stream")
        response, error, ttft_ms = self._answer(exchange, streamed)
        context = exchange.context
        tags = dict(context.tags)
        retries = _retries(exchange.request_headers.get(RETRY_HEADER))
        if retries:
            tags[RETRIES_TAG] = str(retries)
        if not exchange.event_id:
            exchange.event_id = self.new_id()
        redactor = self.redactor
        tenant = context.tenant
        if redactor is not None:
            request = self._redact_json(request)
            response = self._redact_json(response) if response is not None else None
            if error is not None and error.get("message"):
                error["message"] = redactor(error["message"])
            tenant = redactor(tenant) if tenant else tenant
            tags = redactor.mapping(tags)
        latency_s = max(0.0, exchange.ended - exchange.started)
        event: dict[str, Any] = {
            "schema_version": 1,
            "event_id": exchange.event_id,
            "occurred_at": _rfc3339(time.time() - (time.perf_counter() - exchange.ended)),  # the answer's end
            "service": self.service,
            "environment": self.environment,
            "workflow": exchange.workflow,
            "tenant": tenant,
            "subject": exchange.subject,
            "api": exchange.api.value,
            "request": request,
            "response": response,
            "error": error,
            "latency_ms": round(latency_s * 1000, 3),
            "stream": bool(streamed or request.get("stream") is True),
            "ttft_ms": ttft_ms,
            "tags": tags,
        }
        try:
            MirrorEvent.model_validate(event)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:3])
            raise UnusableExchangeError(f"not a valid mirror event ({fields})") from exc
        try:
            return orjson.dumps(event)
        except TypeError as exc:  # nested deeper than orjson writes
            raise UnusableExchangeError(f"cannot serialize: {exc}") from exc

    def _answer(self, exchange: Exchange, streamed: bool) -> tuple[dict[str, Any] | None, dict[str, Any] | None, Any]:
        """(response, error, ttft_ms) of the exchange."""
        status = exchange.status
        body = b"".join(chunk for _, chunk in exchange.chunks)
        if status >= 400:
            return None, production_error(exchange.api, status, body), None
        if exchange.outcome == FAILED and not streamed:
            return None, {"status": status, "type": "body_interrupted", "message": exchange.failure}, None
        if streamed:
            return self._stream(exchange)
        response = _json_object(body)
        if response is None:
            return (
                None,
                {"status": status, "type": "invalid_response", "message": "the body is not a JSON object"},
                None,
            )
        return response, None, None

    def _stream(self, exchange: Exchange) -> tuple[dict[str, Any] | None, dict[str, Any] | None, Any]:
        assembler = StreamAssembler(exchange.api)
        ttft_ms: float | None = None
        status = exchange.status
        try:
            for arrived, chunk in exchange.chunks:
                if assembler.feed(chunk):
                    ttft_ms = round(max(0.0, arrived - exchange.started) * 1000, 3)
            if assembler.close() and ttft_ms is None:
                ttft_ms = round(max(0.0, exchange.ended - exchange.started) * 1000, 3)
        except ResponseFormatError as exc:
            return None, {"status": status, "type": "invalid_stream", "message": str(exc)}, None
        if assembler.error is not None:
            found = assembler.error
            kind = found.get("type") or found.get("code") or "stream_error"
            message = found.get("message")
            return None, {"status": status, "type": str(kind), "message": _cut(str(message or ""))}, ttft_ms
        # A stream whose final event arrived is complete, whatever happened after it (the SDKs drain or
        # close the rest of the body after the final event; a failure there is not production's).
        if exchange.outcome == ABANDONED and not assembler.complete:
            raise UnusableExchangeError("the caller closed the stream before its end: production's answer is unknown")
        if exchange.outcome == FAILED and not assembler.complete:
            return None, {"status": status, "type": "stream_interrupted", "message": _cut(exchange.failure)}, ttft_ms
        try:
            return assembler.body(), None, ttft_ms
        except ResponseFormatError as exc:
            return None, {"status": status, "type": "incomplete_stream", "message": str(exc)}, ttft_ms

    def _redact_text(self, value: str) -> str:
        redactor = self.redactor
        assert redactor is not None
        as_json = redactor.json_text(value)  # tool arguments, JSON answers: redacted as JSON, stay JSON
        return as_json if as_json is not None else redactor(value)

    def _redact_json(self, document: dict[str, Any]) -> dict[str, Any]:
        redactor, texts = self.redactor, self._texts
        assert redactor is not None and texts is not None
        redacted, _ = redact_document(document, texts, redactor.names, redactor.json_paths)
        return redacted  # type: ignore[no-any-return]


class _TextCache:
    """Redacted texts by their original, the least recently used dropped first.

    Calls repeat most of their texts — the system prompt, the history of the conversation, the tools, every
    key — so each is redacted once. Bounded in entries and characters; texts longer than
    ``MAX_CACHED_CHARS`` are not kept. Used by the publisher's thread only.
    """

    MAX_ENTRIES = 8192
    MAX_CHARS = 4_000_000
    MAX_CACHED_CHARS = 64 * 1024

    def __init__(self, redact: Callable[[str], str]) -> None:
        self._redact = redact
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._chars = 0

    def __call__(self, text: str) -> str:
        entries = self._entries
        found = entries.get(text)
        if found is not None:
            entries.move_to_end(text)
            return found
        redacted = self._redact(text)
        size = len(text) + len(redacted)
        if len(text) <= self.MAX_CACHED_CHARS:
            entries[text] = redacted
            self._chars += size
            while len(entries) > self.MAX_ENTRIES or self._chars > self.MAX_CHARS:
                old, old_redacted = entries.popitem(last=False)
                self._chars -= len(old) + len(old_redacted)
        return redacted


def decoded_chunks(content_encoding: str, chunks: list[tuple[float, bytes]], limit: int) -> list[tuple[float, bytes]]:
    """The chunks with their Content-Encoding undone, each keeping the moment it arrived (so a streamed
    answer's first token keeps its time); never more than ``limit`` bytes decoded (a compression bomb costs
    the limit, not its expansion). gzip and deflate always; br and zstd when the service has ``brotli`` /
    ``zstandard`` (httpx only offers them to servers then).

    Raises:
        UnusableExchangeError: an encoding this process cannot undo, a body that does not decode, or one
            that decodes larger than ``limit``.
    """
    found = (_decoding_step(coding.strip().lower()) for coding in reversed(content_encoding.split(",")))
    steps: list[Callable[[bytes, int], bytes]] = [step for step in found if step is not None]
    if not steps:
        return chunks
    decoded: list[tuple[float, bytes]] = []
    size = 0
    for arrived, chunk in chunks:
        for step in steps:
            chunk = step(chunk, limit - size)  # noqa: PLW2901 - each step decodes what the last one gave
        size += len(chunk)
        if size > limit:
            raise UnusableExchangeError(f"the body decodes to more than max_capture_bytes ({limit})")
        decoded.append((arrived, chunk))
    return decoded


def _decoding_step(coding: str) -> Callable[[bytes, int], bytes] | None:
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if coding != "deflate" else zlib.MAX_WBITS)
        raw_deflate = [coding == "deflate"]  # "deflate" is a zlib stream, but some servers send it raw

        def inflate(data: bytes, room: int) -> bytes:
            nonlocal decoder
            try:
                out = decoder.decompress(data, max(room, 0) + 1)
            except zlib.error as exc:
                if not raw_deflate[0]:
                    raise UnusableExchangeError(f"the body does not decode ({coding}): {exc}") from exc
                decoder, raw_deflate[0] = zlib.decompressobj(-zlib.MAX_WBITS), False
                return inflate(data, room)
            raw_deflate[0] = False
            if decoder.unconsumed_tail:
                raise UnusableExchangeError("the body decodes to more than max_capture_bytes")
            return out

        return inflate
    module_names = {"br": ("brotli", "brotlicffi"), "zstd": ("zstandard",)}.get(coding)
    module = None
    for name in module_names or ():
        try:
            module = importlib.import_module(name)
            break
        except ImportError:
            continue
    if module is None:
        raise UnusableExchangeError(f"cannot undo Content-Encoding {coding!r} in this process")
    if coding == "br":
        brotli = module.Decompressor()
        step = brotli.process if hasattr(brotli, "process") else brotli.decompress
    else:
        step = module.ZstdDecompressor().decompressobj().decompress

    def decompress(data: bytes, room: int) -> bytes:
        try:
            return bytes(step(data))
        except Exception as exc:  # each library has its own error type
            raise UnusableExchangeError(f"the body does not decode ({coding}): {exc}") from exc

    return decompress


def production_error(api: Api, status: int, body: bytes) -> dict[str, Any]:
    """``{status, type, message}`` from a provider's error body (OpenAI ``{"error": {...}}``, Anthropic
    ``{"type": "error", "error": {...}}``); the body's start as the message when it is neither."""
    document = _json_object(body)
    found = document.get("error") if document is not None else None
    if isinstance(found, dict):
        kind = found.get("type") or found.get("code")
        message = found.get("message")
        return {
            "status": status,
            "type": str(kind) if kind is not None else None,
            "message": _cut(str(message)) if message is not None else None,
        }
    text = body[:MAX_ERROR_MESSAGE_CHARS].decode("utf-8", errors="replace").strip()
    return {"status": status, "type": None, "message": text or None}


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ERROR_MESSAGE_CHARS else text[:MAX_ERROR_MESSAGE_CHARS] + "…"


def _rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _retries(value: str | None) -> int:
    if not value:
        return 0
    try:
        return max(0, int(value))
    except ValueError:
        return 0
