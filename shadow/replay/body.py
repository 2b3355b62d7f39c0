"""Read a candidate's answer within limits, while it arrives; and the failed attempt reading (or sending) raises.

The body is streamed raw (neither aiohttp nor the httpx seam decompresses it), counted against
``max_response_bytes`` on the wire, and decompressed by a bounded decoder counted against
``max_response_decompressed_bytes``. Reading stops at the first byte over either limit, so a gzip
bomb costs about the limit in memory, not its decompressed size. ``shadow.replay.client`` sends the
requests and turns an :class:`AttemptError` into a :class:`~shadow.replay.result.ReplayResult`.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Callable

import httpx

from shadow.replay.result import ErrorKind


class AttemptError(Exception):
    """A failed attempt, carried as an exception only inside ``shadow.replay`` (the client returns it as a value)."""

    def __init__(self, kind: ErrorKind, message: str, http_status: int = 0, retry_after_s: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.http_status = http_status
        self.retry_after_s = retry_after_s


_DECODE_STEP = 256 * 1024  # decompressed bytes per step: the memory a step adds beyond the body kept so far


class Decoder:
    """Undoes a Content-Encoding (gzip, deflate or none) without ever producing more than asked for.

    ``zlib``'s ``max_length`` bounds each step's output; the input it did not consume waits in
    ``unconsumed_tail``, so a gzip bomb is decompressed no further than the caller's limit.
    """

    def __init__(self, content_encoding: str, status: int = 0) -> None:
        self._status = status  # the answer's status, named by the failure of a body that cannot be decoded
        codings = [c.strip() for c in content_encoding.lower().split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self._raw_deflate_fallback = codings == ["deflate"]
        self._started = False
        if not codings:
            self._zlib = None
        elif codings in (["gzip"], ["x-gzip"]):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif codings == ["deflate"]:
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise AttemptError(ErrorKind.INVALID_RESPONSE, f"unsupported Content-Encoding {content_encoding!r}", status)

    async def decode(self, data: bytes, out: bytearray, limit: int) -> bool:
        """Append ``data`` decoded to ``out``; False (with ``out`` past ``limit``) once more than ``limit`` bytes.

        One wire chunk of a bomb inflates to the whole limit: the loop gets a turn after every step
        (each step releases the GIL, and winning it back from a busy thread costs a switch interval,
        so back-to-back steps would hold the loop for tens of milliseconds).
        """
        if self._zlib is None:
            out += data[: limit + 1 - len(out)]
            return len(out) <= limit
        try:
            while data and not self._zlib.eof:
                piece = self._zlib.decompress(data, min(limit + 1 - len(out), _DECODE_STEP))
                self._started = True
                out += piece
                if len(out) > limit:
                    return False
                data = self._zlib.unconsumed_tail
                if data:
                    await asyncio.sleep(0)
        except zlib.error as exc:
            if self._raw_deflate_fallback and not self._started:
                # "deflate" is meant as a zlib stream, but some servers send raw deflate.
                self._zlib, self._raw_deflate_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                return await self.decode(data, out, limit)
            message = f"body could not be decompressed: {exc}"
            raise AttemptError(ErrorKind.INVALID_RESPONSE, message, self._status) from exc
        return True


_IDENTITY = Decoder("")
"""Stateless (no zlib object): shared by every body that is not compressed."""


Observer = Callable[[bytes], None]
"""Called with each decoded piece of a body as it arrives (a streamed answer's assembler)."""


async def read_body(
    response: httpx.Response, *, max_wire_bytes: int, max_bytes: int, cut: bool = False, observe: Observer | None = None
) -> bytes:
    """Read a streamed httpx response's body (``client.stream(...)``) within limits, decompressing as it arrives.

    ``max_wire_bytes`` bounds the bytes on the wire, ``max_bytes`` once decompressed; ``cut`` keeps what fits
    instead of failing (an error answer is read for its message); ``observe`` sees each decoded piece.
    Raises :class:`AttemptError`: ``response_too_large`` naming the limit passed, or ``invalid_response`` for
    a body that cannot be decoded.
    """
    status = response.status_code
    if response.is_stream_consumed:
        # An in-memory transport (httpx.MockTransport) hands over a body already read and decoded.
        return await read_limited(_once(response.content), _IDENTITY, status, max_wire_bytes, max_bytes, cut, observe)
    declared = response.headers.get("content-length", "")
    if not cut and declared.isdigit() and int(declared) > max_wire_bytes:
        raise too_large(status, f"Content-Length {declared} is over max_response_bytes ({max_wire_bytes})")
    decoder = Decoder(response.headers.get("content-encoding", ""), status)
    return await read_limited(response.aiter_raw(), decoder, status, max_wire_bytes, max_bytes, cut, observe)


async def read_limited(
    chunks: AsyncIterator[bytes],
    decoder: Decoder,
    status: int,
    max_wire_bytes: int,
    max_bytes: int,
    cut: bool,
    observe: Observer | None = None,
) -> bytes:
    """The body ``chunks`` carry, decoded, within both limits (see :func:`read_body`)."""
    out = bytearray()
    wire = 0
    async for chunk in chunks:
        room = max_wire_bytes - wire
        wire += len(chunk)
        piece = chunk
        if wire > max_wire_bytes:
            if not cut:
                raise too_large(status, f"body is over max_response_bytes ({max_wire_bytes}) on the wire")
            piece = chunk[:room]  # a chunk may be larger than the whole limit: keep what fits
        before = len(out)
        fits = await decoder.decode(piece, out, max_bytes)
        if observe is not None and fits and len(out) > before:
            observe(bytes(out[before:]))
        if not fits:
            if cut:
                del out[max_bytes:]
                break
            raise too_large(status, f"body is over max_response_decompressed_bytes ({max_bytes}) once decompressed")
        if wire > max_wire_bytes:
            break
    return bytes(out)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def too_large(status: int, message: str) -> AttemptError:
    return AttemptError(ErrorKind.RESPONSE_TOO_LARGE, message, status)
