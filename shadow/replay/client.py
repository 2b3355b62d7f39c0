"""Send one event's request to one candidate and return its output or its failure as a value.

Requests go straight to aiohttp, one ``ClientSession`` per candidate, ``max_concurrency`` connections:
httpx on aiohttp spends more CPU per request in httpx's client layer than aiohttp's whole request,
so it tops out near a third of raw aiohttp's rate (``benchmarks/replay_transport.py``). httpx stays
the seam for tests: a client given ``transport=`` (``httpx.MockTransport``) sends through
``httpx.AsyncClient`` on it, behind the same limits and failure values.

A candidate failure never raises: timeouts, connection errors, 4xx, 5xx and
unparsable bodies come back as a :class:`ReplayResult` with ``status="error"``
and an ``error_kind``, so one bad candidate cannot cancel its siblings.

Answers are read with limits, while they arrive (``shadow.replay.body``); the whole attempt, reading
included, is bounded by ``timeout_s``, so a trickling body ends as a timeout. The common answer
(uncompressed, its Content-Length within both limits) is read in one call: the HTTP parser stops at
the declared length.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from pydantic import SecretStr

from shadow import __version__
from shadow.config import CandidateSettings
from shadow.errors import ResponseFormatError, TranslationError
from shadow.events.control import Limits
from shadow.events.models import Api, MirrorEvent
from shadow.events.output import Output
from shadow.events.wire import parse_response
from shadow.loopwatch import LoopWatch, current_watch, off_loop
from shadow.replay.body import AttemptError, Decoder, read_body, read_limited, too_large
from shadow.replay.limits import GroupLimiter
from shadow.replay.result import RETRIABLE_KINDS, ErrorKind, ReplayResult
from shadow.replay.streaming import StreamWatch, ask_for_stream
from shadow.replay.translate import CandidateRequest, candidate_api, endpoint_url, output_limit, rewrite_request
from shadow.secrets import scrub_secrets

MAX_ERROR_CHARS = 300
PARSE_OFF_LOOP_BYTES = 64 * 1024
"""Answers at least this big are parsed in the CPU thread (``shadow.loopwatch.off_loop``), not on the loop."""
ERROR_BODY_BYTES = 16 * 1024
"""How much of an error answer (status >= 300) is read: enough for its message; the rest is not."""


@contextmanager
def map_httpx_errors() -> Iterator[None]:
    """Translate httpx's exceptions (the ``transport=`` seam) into a classified failed attempt."""
    try:
        yield
    except httpx.TransportError as exc:
        cause = exc.__cause__
        # httpx-aiohttp maps every aiohttp connection error to ConnectTimeout; look at the cause.
        if isinstance(cause, aiohttp.ServerTimeoutError | aiohttp.SocketTimeoutError):
            kind = ErrorKind.TIMEOUT
        elif isinstance(cause, aiohttp.ClientConnectorError) or isinstance(exc, httpx.ConnectError):
            kind = ErrorKind.CONNECT_ERROR
        elif cause is not None and isinstance(cause, aiohttp.ClientError):
            kind = ErrorKind.TRANSPORT_ERROR
        elif isinstance(exc, httpx.TimeoutException):
            kind = ErrorKind.TIMEOUT
        else:
            kind = ErrorKind.TRANSPORT_ERROR
        detail = str(cause or exc) or type(cause or exc).__name__
        raise AttemptError(kind, f"{type(cause or exc).__name__}: {detail}") from exc


class _MapAiohttpErrors:
    """Translate aiohttp's exceptions into a classified failed attempt (one stateless instance, no allocation)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, AttemptError):
            return
        if isinstance(exc, aiohttp.ServerTimeoutError):
            kind = ErrorKind.TIMEOUT  # aiohttp's connect backstop (timeout_s + 5 s); asyncio.timeout comes first
        elif isinstance(exc, aiohttp.ClientConnectorError):
            kind = ErrorKind.CONNECT_ERROR
        elif isinstance(exc, aiohttp.ClientError) or (isinstance(exc, OSError) and not isinstance(exc, TimeoutError)):
            kind = ErrorKind.TRANSPORT_ERROR
        else:
            return  # CancelledError (asyncio.timeout turns it into TimeoutError), or a bug: not a transport failure
        raise AttemptError(kind, f"{type(exc).__name__}: {str(exc) or type(exc).__name__}") from exc


map_aiohttp_errors = _MapAiohttpErrors()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now_ts = time.time() if now is None else now
    return max(0.0, when.timestamp() - now_ts)


_Reply = tuple[int, Mapping[str, str], bytes]
"""A candidate's answer: status, headers (case-insensitive), body read within limits."""


def _limits(settings: CandidateSettings, status: int) -> tuple[int, int, bool]:
    """(most bytes on the wire, most decompressed, cut): a success within the limits, an error for its message."""
    if status < 300:
        return settings.max_response_bytes, settings.max_response_decompressed_bytes, False
    return ERROR_BODY_BYTES, ERROR_BODY_BYTES, True


class _Sender(Protocol):
    """Sends one candidate's requests and reads each answer within limits; failures raise :class:`AttemptError`."""

    async def post(self, content: bytes, watch: StreamWatch | None = None) -> _Reply: ...

    async def aclose(self) -> None: ...


KEEPALIVE_S = 5.0
"""How long an idle connection to a candidate stays open (httpx's default keep-alive expiry)."""


class _AiohttpSender:
    """The production path: one ``aiohttp.ClientSession`` per candidate, ``max_concurrency`` connections."""

    def __init__(self, settings: CandidateSettings, url: str, headers: dict[str, str]) -> None:
        self._settings, self._url, self._headers = settings, url, headers
        # The deadline is asyncio.timeout(timeout_s) around post(), reading included. aiohttp's total timeout would
        # add a timer per request (a tenth of aiohttp's CPU here) that never fires first; connecting keeps one.
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.timeout_s + 5.0)
        # The CA bundle httpx would use (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), loaded now, not on first use.
        self._ssl = httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Opened on first use: a session belongs to the event loop that runs it.
        connector = aiohttp.TCPConnector(
            limit=self._settings.max_concurrency, keepalive_timeout=KEEPALIVE_S, ssl=self._ssl
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),  # a request carries what the config allows, no cookie a candidate set
            auto_decompress=False,  # decompressed here, within limits
            trust_env=False,
        )
        return self._session

    async def post(self, content: bytes, watch: StreamWatch | None = None) -> _Reply:
        session = self._session or self._open()
        with map_aiohttp_errors:
            async with session.post(self._url, data=content, allow_redirects=False) as response:
                status = response.status
                headers = response.headers
                max_wire_bytes, max_bytes, cut = _limits(self._settings, status)
                encoding = headers.get("Content-Encoding", "")
                declared = headers.get("Content-Length", "")
                observe = (
                    watch.feed if watch is not None and watch.begin(status, headers.get("Content-Type", "")) else None
                )
                if declared.isdigit():
                    size = int(declared)
                    if size > max_wire_bytes and not cut:
                        message = f"Content-Length {declared} is over max_response_bytes ({max_wire_bytes})"
                        raise too_large(status, message)
                    if size <= max_wire_bytes and size <= max_bytes and encoding in ("", "identity"):
                        # The common answer: uncompressed and declared within both limits; the parser
                        # stops at the declared length, so one read is as bounded as the stream below.
                        body = await response.read()
                        if observe is not None:
                            observe(body)
                        return status, headers, body
                chunks = response.content.iter_any()
                decoder = Decoder(encoding, status)
                body = await read_limited(chunks, decoder, status, max_wire_bytes, max_bytes, cut, observe)
                return status, headers, body

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class _HttpxSender:
    """The ``transport=`` seam: ``httpx.AsyncClient`` on an injected transport (``httpx.MockTransport`` in tests)."""

    def __init__(
        self, settings: CandidateSettings, url: str, headers: dict[str, str], transport: httpx.AsyncBaseTransport
    ) -> None:
        self._settings, self._url = settings, url
        # httpx's own timeout is a backstop; the per-attempt deadline is asyncio.timeout(timeout_s).
        timeout = httpx.Timeout(settings.timeout_s + 5.0)
        self._client = httpx.AsyncClient(transport=transport, headers=headers, timeout=timeout, follow_redirects=False)

    async def post(self, content: bytes, watch: StreamWatch | None = None) -> _Reply:
        with map_httpx_errors():
            async with self._client.stream("POST", self._url, content=content) as response:
                status = response.status_code
                max_wire_bytes, max_bytes, cut = _limits(self._settings, status)
                streamed = watch is not None and watch.begin(status, response.headers.get("content-type", ""))
                observe = watch.feed if watch is not None and streamed else None
                body = await read_body(
                    response, max_wire_bytes=max_wire_bytes, max_bytes=max_bytes, cut=cut, observe=observe
                )
        return response.status_code, response.headers, body

    async def aclose(self) -> None:
        await self._client.aclose()


class _Clock:
    """One attempt's time on the wire (``time.perf_counter()`` at its start and end), not its wait for a slot,
    and how late the event loop was meanwhile: an answer waits in its socket until the loop gets to it, so a
    busy worker inflates the latency it measures (``shadow.loopwatch``; no watch, no figure)."""

    __slots__ = ("end", "lag_s", "start", "ttft_ms", "watch")

    def __init__(self, watch: LoopWatch | None) -> None:
        self.start = self.end = 0.0
        self.watch = watch
        self.lag_s: float | None = None
        self.ttft_ms: float | None = None  # a streamed answer's time to its first token

    def stop(self) -> None:
        self.end = time.perf_counter()
        if self.watch is not None:
            self.lag_s = self.watch.lag_s(self.start, self.end)  # now, before any other tick can run

    def elapsed_ms(self) -> float:
        return (self.end - self.start) * 1000 if self.start else 0.0

    def loop_lag_ms(self) -> float | None:
        return self.lag_s * 1000 if self.lag_s is not None else None


class RateLimiter:
    """Spaces requests at most ``rate`` per second (no bursts)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await asyncio.sleep(delay)


def make_transport(max_connections: int) -> httpx.AsyncBaseTransport:
    """httpx on aiohttp (httpx-aiohttp), for callers that want httpx's API over aiohttp's pool.

    Candidate clients no longer send through it (see the module docstring); the benchmarks compare with it.
    """
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return AiohttpTransport(limits=limits)


class CandidateClient:
    """Replays requests against one candidate with its own timeout, concurrency and rate limit."""

    def __init__(
        self,
        settings: CandidateSettings,
        api_key: SecretStr | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        workers: Callable[[], int] | None = None,
        limits: Callable[[], Limits | None] | None = None,
        secret_headers: Mapping[str, SecretStr] | None = None,
    ) -> None:
        """``workers`` counts the live workers of this one's group (the control topic's reports), so that
        ``rate_limit_rpm`` and ``rate_limit_tpm`` hold for the group; without it this worker takes them all.
        ``limits`` gives the limits set at run time on the control topic, which replace the configured ones.
        ``secret_headers`` are sent with every request and scrubbed, like the API key, from error texts."""
        self.settings = settings

        def group_limits() -> tuple[float | None, int | None]:
            override = limits() if limits is not None else None
            rpm = (override.rate_limit_rpm if override else None) or settings.rate_limit_rpm
            tpm = (override.rate_limit_tpm if override else None) or settings.rate_limit_tpm
            return rpm, tpm

        self._group_limiter = (
            GroupLimiter(group_limits, workers or (lambda: 1), max_wait_s=settings.rate_limit_max_wait_s)
            if limits is not None or settings.rate_limit_rpm or settings.rate_limit_tpm
            else None
        )
        self.api = candidate_api(settings)
        self.url = endpoint_url(settings)
        self._api_key = api_key
        self._secrets = [api_key, *(secret_headers or {}).values()]
        self._semaphore = asyncio.Semaphore(settings.max_concurrency)
        self._limiter = RateLimiter(settings.rate_limit_rps) if settings.rate_limit_rps else None
        self._rng = rng or random.Random()
        headers = {
            "content-type": "application/json",
            "user-agent": f"shadow/{__version__}",
            # Only what read_body can decompress within limits (httpx would also offer br or zstd when installed).
            "accept-encoding": "gzip, deflate",
            **settings.headers,
            **{name: value.get_secret_value() for name, value in (secret_headers or {}).items()},
        }
        if api_key is not None:
            if self.api is not Api.ANTHROPIC_MESSAGES:
                headers["authorization"] = f"Bearer {api_key.get_secret_value()}"
            else:
                headers["x-api-key"] = api_key.get_secret_value()
        if self.api is Api.ANTHROPIC_MESSAGES:
            headers.setdefault("anthropic-version", settings.anthropic_version)
        self._sender: _Sender = (
            _AiohttpSender(settings, self.url, headers)
            if transport is None
            else _HttpxSender(settings, self.url, headers, transport)
        )
        self._allow_params = frozenset(settings.allow_params)

    async def aclose(self) -> None:
        await self._sender.aclose()

    def _scrub(self, text: str) -> str:
        secrets = [secret.get_secret_value() for secret in self._secrets if secret is not None]
        return scrub_secrets(text, secrets)[:MAX_ERROR_CHARS]

    def _model_for(self, event: MirrorEvent) -> str:
        return self.settings.model or event.production_model

    def build_request(self, event: MirrorEvent) -> CandidateRequest:
        """The request this candidate receives for ``event`` and what differs from production's.

        Raises:
            TranslationError: when the request cannot be expressed in the candidate's format.
        """
        return rewrite_request(
            event.request,
            source=event.api,
            target=self.api,
            model=self._model_for(event),
            overrides=self.settings.overrides,
            max_output_tokens=self.settings.max_output_tokens,
            allow_params=self._allow_params,
            default_max_tokens=self.settings.default_max_tokens,
            remote_urls=self.settings.remote_urls,
        )

    def _retriable(self, kind: ErrorKind) -> bool:
        return kind in RETRIABLE_KINDS or (kind is ErrorKind.TIMEOUT and self.settings.retry_timeouts)

    async def replay(self, event: MirrorEvent) -> ReplayResult:
        """Send ``event``'s request to this candidate, retrying retriable failures with backoff.

        A control lane sends nothing for an event whose model is not in its ``control_models``: the
        result says ``model_not_allowed`` with no attempt made. The result's latency and loop lag are
        the last attempt's (the one whose answer, or failure, it holds).
        """
        name, model = self.settings.name, self._model_for(event)
        started_at = datetime.now(UTC)
        if self.settings.model is None and model not in self.settings.control_models:
            return ReplayResult(
                candidate=name,
                model=model,
                output=None,
                error_kind=ErrorKind.MODEL_NOT_ALLOWED,
                error_message=f"the event's model {model[:100]!r} is not in this control lane's control_models",
                attempts=0,
                started_at=started_at,
            )
        try:
            request = self.build_request(event)
            if self.settings.stream:
                ask_for_stream(self.api, request.body)
            content = orjson.dumps(request.body)
        except (TranslationError, orjson.JSONEncodeError) as exc:
            # orjson refuses nesting deeper than 254 levels, which an event may hold.
            return ReplayResult(
                candidate=name,
                model=model,
                output=None,
                error_kind=ErrorKind.TRANSLATION_ERROR,
                error_message=str(exc)[:MAX_ERROR_CHARS],
                attempts=0,
                started_at=started_at,
            )
        limit = output_limit(request.body)
        watch = current_watch()
        attempt = 0
        while True:
            attempt += 1
            clock = _Clock(watch)
            try:
                output = await self._attempt(content, clock, limit)
            except AttemptError as failure:
                latency_ms = clock.elapsed_ms()
                if self._retriable(failure.kind) and attempt <= self.settings.max_retries:
                    await asyncio.sleep(self._backoff(attempt, failure.retry_after_s))
                    continue
                return ReplayResult(
                    candidate=name,
                    model=model,
                    output=None,
                    error_kind=failure.kind,
                    http_status=failure.http_status,
                    error_message=self._scrub(failure.message),
                    latency_ms=latency_ms,
                    loop_lag_ms=clock.loop_lag_ms(),
                    ttft_ms=clock.ttft_ms,
                    attempts=attempt,
                    started_at=started_at,
                    request_changes=request.changes,
                )
            if self._group_limiter is not None:
                usage = output.usage
                self._group_limiter.debit(max(0, usage.input_tokens or 0) + max(0, usage.output_tokens or 0))
            return ReplayResult(
                candidate=name,
                model=model,
                output=output,
                http_status=200,
                latency_ms=clock.elapsed_ms(),
                loop_lag_ms=clock.loop_lag_ms(),
                ttft_ms=clock.ttft_ms,
                attempts=attempt,
                started_at=started_at,
                request_changes=request.changes,
            )

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        cap = self.settings.max_backoff_s
        if retry_after_s is not None:
            return min(retry_after_s, cap)
        base: float = self.settings.retry_backoff_s * 2.0 ** (attempt - 1)
        return min(cap, base * self._rng.uniform(0.5, 1.5))

    async def _attempt(self, content: bytes, clock: _Clock, output_limit: int | None) -> Output:
        settings = self.settings
        async with self._semaphore:
            if self._limiter is not None:
                await self._limiter.wait()
            if self._group_limiter is not None:
                wait = await self._group_limiter.acquire()
                if wait is not None:
                    raise AttemptError(
                        ErrorKind.THROTTLED,
                        f"this worker's share of the group's rate limits is used up for {wait:.1f}s "
                        f"(over rate_limit_max_wait_s {settings.rate_limit_max_wait_s:g}s): not sent",
                    )
            # Latency is the candidate's: the clock starts once our own queue has let the request go.
            stream = StreamWatch(self.api) if settings.stream else None
            clock.start = time.perf_counter()
            try:
                async with asyncio.timeout(settings.timeout_s):
                    status, headers, raw = await self._sender.post(content, stream)
            except TimeoutError as exc:
                raise AttemptError(ErrorKind.TIMEOUT, "no complete answer within timeout_s") from exc
            finally:
                clock.stop()
                if stream is not None:
                    clock.ttft_ms = stream.ttft_ms(clock.start)
        if status >= 300:
            body_text = raw.decode("utf-8", errors="replace").strip().replace("\n", " ")
            message = f"HTTP {status}: {body_text}"
            if status == 429:
                retry_after = parse_retry_after(headers.get("retry-after"))
                raise AttemptError(ErrorKind.RATE_LIMITED, message, status, retry_after)
            if status >= 500:
                raise AttemptError(
                    ErrorKind.HTTP_5XX,
                    message,
                    status,
                    parse_retry_after(headers.get("retry-after")),
                )
            raise AttemptError(ErrorKind.HTTP_4XX, message, status)
        if stream is not None and stream.active:
            return stream.output(self.api, status, output_limit)
        if len(raw) >= PARSE_OFF_LOOP_BYTES:
            # Parsing a big answer (thousands of tool calls, a megabyte of text) takes milliseconds.
            return await off_loop(_parse_answer, self.api, raw, status, output_limit)
        return _parse_answer(self.api, raw, status, output_limit)


def _parse_answer(api: Api, raw: bytes, status: int, output_limit: int | None) -> Output:
    """A successful answer's body as an :class:`Output`, or the ``invalid_response`` attempt it is."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise AttemptError(ErrorKind.INVALID_RESPONSE, f"body is not JSON: {exc}", status) from exc
    try:
        return parse_response(api, body, output_limit=output_limit)
    except ResponseFormatError as exc:
        raise AttemptError(ErrorKind.INVALID_RESPONSE, str(exc), status) from exc
