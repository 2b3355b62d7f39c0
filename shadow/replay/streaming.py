"""Candidates called streaming (``stream: true``): the answer read as server-sent events, its first token timed.

The request asks for a stream (OpenAI chat completions also for the usage chunk). The body is read within
the same limits as any answer (``shadow.replay.body``); each decoded piece is fed, as it arrives, to a
:class:`~shadow.events.stream.StreamAssembler`, which notes the moment of the first visible token. At the
end the assembled body is parsed like an unstreamed answer, so a streamed candidate's rows compare exactly
as an unstreamed one's, with ``candidate_ttft_ms`` besides.

A stream that carries an error event fails the attempt (a rate-limit or overload error is retriable, as a
429 or 5xx would be); one that ends before its final event is a transport error (the connection broke
mid-answer). A candidate that ignores ``stream`` and answers with JSON is read as JSON (no TTFT).
"""

from __future__ import annotations

import time
from typing import Any

from shadow.errors import ResponseFormatError
from shadow.events.models import Api
from shadow.events.output import Output
from shadow.events.stream import StreamAssembler
from shadow.events.wire import parse_response
from shadow.replay.body import AttemptError
from shadow.replay.result import ErrorKind


def ask_for_stream(api: Api, body: dict[str, Any]) -> None:
    """Make ``body`` (a rewritten candidate request, owned by the caller) ask for a streamed answer."""
    body["stream"] = True
    if api is Api.OPENAI_CHAT:
        body["stream_options"] = {"include_usage": True}  # the usage chunk; without it no token counts


class StreamWatch:
    """One attempt's stream: fed the decoded pieces while they arrive; knows when the first token came."""

    __slots__ = ("active", "assembler", "first_token_at")

    def __init__(self, api: Api) -> None:
        self.assembler = StreamAssembler(api)
        self.first_token_at: float | None = None
        self.active = False

    def begin(self, status: int, content_type: str) -> bool:
        """Whether this answer is a stream to watch (a success with an event-stream body)."""
        self.active = status < 300 and "text/event-stream" in content_type.lower()
        return self.active

    def feed(self, piece: bytes) -> None:
        try:
            first = self.assembler.feed(piece)
        except ResponseFormatError as exc:
            raise AttemptError(ErrorKind.INVALID_RESPONSE, f"stream: {exc}", 200) from exc
        if first and self.first_token_at is None:
            self.first_token_at = time.perf_counter()

    def ttft_ms(self, started: float) -> float | None:
        """Time to first token from ``started`` (``time.perf_counter()``), or None when none came."""
        return (self.first_token_at - started) * 1000 if self.first_token_at is not None and started else None

    def output(self, api: Api, status: int, output_limit: int | None) -> Output:
        """The streamed answer as an :class:`Output`, or the failed attempt it is."""
        assembler = self.assembler
        try:
            assembler.close()
        except ResponseFormatError as exc:
            raise AttemptError(ErrorKind.INVALID_RESPONSE, f"stream: {exc}", status) from exc
        if assembler.error is not None:
            error = assembler.error
            text = f"{error.get('type') or error.get('code') or ''} {error.get('message') or ''}".strip()
            message = f"the stream carried an error: {text[:500]}"
            lowered = text.lower()
            if "rate" in lowered and "limit" in lowered:
                raise AttemptError(ErrorKind.RATE_LIMITED, message, status)
            raise AttemptError(ErrorKind.HTTP_5XX, message, status)
        if not assembler.complete:
            raise AttemptError(ErrorKind.TRANSPORT_ERROR, "the stream ended before its final event", status)
        try:
            return parse_response(api, assembler.body(), output_limit=output_limit)
        except ResponseFormatError as exc:
            raise AttemptError(ErrorKind.INVALID_RESPONSE, f"stream: {exc}", status) from exc
