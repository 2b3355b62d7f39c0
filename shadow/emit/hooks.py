"""httpx event hooks that mirror LLM calls, and :func:`instrument` for the official SDK clients.

The ``openai`` and ``anthropic`` SDKs send every call through an httpx client of their own (``httpx``
or its fork ``httpx2``, which work alike); its event hooks see each HTTP exchange:

1. the request hook notes when a POST starts (``perf_counter``, in ``request.extensions``) and nothing
   else;
2. the response hook picks the API from the URL path (``…/chat/completions``, ``…/messages``,
   ``…/responses``; any other request passes untouched), takes the call's context, samples, and for a
   sampled exchange keeps references to the request and the response's headers (no parsing, no
   copying) and replaces ``response.stream`` with a tee (:mod:`shadow.emit.capture`) that passes every
   chunk on and records it; when the body ends, the exchange goes to the emitter's buffer.

The request path does as little as it can because it is paid cold: a service's call comes after its
thread waited on something else, and on a shared machine every line of Python then costs microseconds
(``benchmarks/emitter_overhead.py``).

Retries: each HTTP exchange is one production attempt. An attempt answered 408, 409, 429 or 5xx is
one the SDKs retry (and most services calling the APIs directly do): it is not emitted, only counted
(``retried``), so a call retried twice and then answered is one event, not three replays. The
answered attempt's event carries ``shadow.retries`` in its tags (from the SDKs'
``x-stainless-retry-count`` header). An exchange that gets no HTTP answer at all (connection refused,
timeout before the headers) emits nothing. ``EmitterSettings.emit_retriable_errors`` emits those
failed attempts too, each as its own error event.

Every hook body is guarded: an emitter fault is counted (``hook_errors``) and never reaches the
caller, whose request and response pass exactly as they would without the emitter.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from shadow.emit.capture import ASYNC_TEES, COMPLETE, SYNC_TEES, Exchange, async_tee_class, sync_tee_class
from shadow.emit.context import _CURRENT
from shadow.events.models import Api

if TYPE_CHECKING:
    from shadow.emit.emitter import Emitter

__all__ = ["api_for_path", "async_httpx_hooks", "httpx_hooks", "instrument"]

STARTED_KEY = "shadow.emit.started"
"""Where the request hook leaves a POST's start time for the response hook (``request.extensions``)."""

RETRIED_STATUSES = frozenset({408, 409, 429})
"""Statuses the SDKs retry, besides every 5xx."""


def api_for_path(path: str) -> Api | None:
    """The API a request path calls, or None for any other path."""
    if path.endswith("/chat/completions"):
        return Api.OPENAI_CHAT
    if path.endswith("/messages"):
        return Api.ANTHROPIC_MESSAGES
    if path.endswith("/responses"):
        return Api.OPENAI_RESPONSES
    return None


def _note_start(request: Any) -> None:
    """The sync request hook: note when a POST starts; everything else waits for its answer."""
    try:
        if request.method == "POST":
            request.extensions[STARTED_KEY] = perf_counter()
    except Exception:  # noqa: BLE001 - nothing here can fail on an httpx request; never the caller's problem
        pass


class _Ready(tuple):  # type: ignore[type-arg]
    """An awaitable that is done at once, with no coroutine: ``await`` takes its iterator, an empty tuple's
    (C code), which ends at once. An async client's hooks return it instead of being coroutine functions
    (httpx does ``await hook(request)``, and any awaitable will do): a coroutine object and a frame fewer per
    hook, on the request path."""

    __slots__ = ()
    __await__ = tuple.__iter__


_READY = _Ready()


def _note_start_async(request: Any) -> Any:
    """The async request hook: :func:`_note_start`'s body; returns an awaitable done at once."""
    try:
        if request.method == "POST":
            request.extensions[STARTED_KEY] = perf_counter()
    except Exception:  # noqa: BLE001 - as in _note_start
        pass
    return _READY


_note_start.__shadow_emit__ = True  # type: ignore[attr-defined]
_note_start_async.__shadow_emit__ = True  # type: ignore[attr-defined]


def _response_hook(
    emitter: Emitter, tees: dict[type, type], make_tee_class: Callable[[Any], type], done: Any = None
) -> Callable[[Any], Any]:
    """The response hook's work as one function: for an answered POST on a mirrored path, count it, take
    the context, sample, and for a sampled exchange record it (an :class:`Exchange`, and a tee of the
    tee class ``tees`` holds for the response's type in place of ``response.stream``).

    Written inline, in one frame, rather than as a chain of small functions: it runs cold on the
    service's request path, where every Python call costs microseconds (``benchmarks/emitter_overhead.py``).
    It reads the emitter's parts at each call (a forked child gets new ones), and returns ``done``: None for
    a sync client, an awaitable done at once for an async one."""
    context_var = _CURRENT

    def on_response(response: Any) -> Any:
        try:
            request = response.request
            started = request.extensions.pop(STARTED_KEY, None)
            if started is None:
                return done
            path = request.url.path
            if path.endswith("/chat/completions"):
                api = Api.OPENAI_CHAT
            elif path.endswith("/messages"):
                api = Api.ANTHROPIC_MESSAGES
            elif path.endswith("/responses"):
                api = Api.OPENAI_RESPONSES
            else:
                return done
            outbox = emitter._outbox
            next(outbox.seen)
            status = response.status_code
            if 300 <= status < 400:
                return done  # a redirect: the request that follows it is the attempt
            if (status in RETRIED_STATUSES or status >= 500) and not emitter._emit_retried:
                outbox.count("retried")
                return done
            ctx = context_var.get()
            workflow = ctx.workflow or emitter._workflow
            subject = ctx.subject
            if subject and emitter._redact_subject:
                subject = emitter._subject_token(subject)
            event_id = ""
            sampler = emitter.sampler
            if sampler.rates.get(workflow, sampler.default_rate) < 1.0:
                if not subject:
                    event_id = emitter._ids.next()
                if not sampler.sampled(workflow, subject or event_id):
                    next(outbox.sampled_out)
                    return done
            size = len(request.content)
            limit = emitter._capture_limit
            if size > limit:
                outbox.count("too_large")
                return done
            exchange = Exchange(api, ctx, workflow, subject, started, request, limit, size, status, response.headers)
            if event_id:
                exchange.event_id = event_id
            if getattr(response, "is_stream_consumed", False):
                # Read before the hooks (a transport answering from memory, e.g. MockTransport):
                # recorded and handed over at once.
                exchange.record(response.content)
                if exchange.end(COMPLETE):
                    emitter._submit(exchange)
                return done
            kind = type(response)
            tee = tees.get(kind) or make_tee_class(response)
            response.stream = tee(response.stream, exchange, outbox.put, emitter._fault)
        except Exception as exc:  # noqa: BLE001 - the emitter's fault must never reach the caller
            emitter._fault(exc)
        return done

    return on_response


def httpx_hooks(emitter: Emitter) -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.Client`` that calls the LLM APIs directly.

    Example: ``httpx.Client(event_hooks=httpx_hooks(emitter))``; to add them to an existing client,
    extend its ``client.event_hooks["request"]`` and ``["response"]`` lists.
    """
    return {"request": [_note_start], "response": [_response_hook(emitter, SYNC_TEES, sync_tee_class)]}


def async_httpx_hooks(emitter: Emitter) -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.AsyncClient`` (httpx awaits what its hooks return: these return an
    awaitable done at once)."""
    return {"request": [_note_start_async], "response": [_response_hook(emitter, ASYNC_TEES, async_tee_class, _READY)]}


def instrument(client: Any, emitter: Emitter) -> Any:
    """Mirror every call of an SDK client: ``OpenAI``, ``AsyncOpenAI``, ``Anthropic``, ``AsyncAnthropic``
    (or an ``httpx.Client``/``AsyncClient`` itself). Returns the client.

    The hooks go on the SDK's own httpx client, which ``client.with_options(...)`` copies share.
    Instrumenting a client twice adds nothing the second time.

    Raises:
        TypeError: ``client`` holds no httpx client with event hooks.
    """
    http = getattr(client, "_client", client)
    hooks = getattr(http, "event_hooks", None)
    if not isinstance(hooks, dict) or "request" not in hooks or "response" not in hooks:
        raise TypeError(
            f"cannot instrument {type(client).__name__}: expected an openai/anthropic SDK client or an httpx client"
        )
    if any(getattr(hook, "__shadow_emit__", False) for hook in hooks["request"]):
        return client
    is_async = callable(getattr(http, "aclose", None))
    ours = async_httpx_hooks(emitter) if is_async else httpx_hooks(emitter)
    http.event_hooks = {
        "request": [*hooks["request"], *ours["request"]],
        "response": [*ours["response"], *hooks["response"]],
    }
    return client
