"""httpx event hooks that mirror LLM calls, and :func:`instrument` for the official SDK clients.

The ``openai`` and ``anthropic`` SDKs send every call through an httpx client of their own (``httpx``
or its fork ``httpx2``, which work alike); a response hook sees each HTTP exchange (there is no request
hook). For an answered POST it picks the API from the URL path (``…/chat/completions``, ``…/messages``,
``…/responses``; any other request passes untouched), takes the call's context, samples, and for a
sampled exchange keeps references to the request and the response's headers (no parsing, no copying)
and replaces ``response.stream`` with a tee (:mod:`shadow.emit.capture`) that passes every chunk on and
records it; when the body ends, the exchange goes to the emitter's buffer.

When the call started is httpx's own clock: the ``perf_counter()`` it takes just before sending the
request, kept on the response's stream (``BoundSyncStream``/``BoundAsyncStream``, in httpx and httpx2
alike; ``tests/unit/emit/test_httpx_hooks.py`` checks both). A client whose response stream lacks it
(none of the SDKs') gets the moment the answer's headers arrived instead.

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


class _Ready(tuple):  # type: ignore[type-arg]
    """An awaitable that is done at once, with no coroutine: ``await`` takes its iterator, an empty tuple's
    (C code), which ends at once. An async client's hook returns it instead of being a coroutine function
    (httpx does ``await hook(response)``, and any awaitable will do): a coroutine object and a frame fewer
    per call, on the request path."""

    __slots__ = ()
    __await__ = tuple.__iter__


_READY = _Ready()


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
    chat, messages, responses = Api.OPENAI_CHAT, Api.ANTHROPIC_MESSAGES, Api.OPENAI_RESPONSES  # locals: no enum lookup

    def on_response(response: Any) -> Any:
        try:
            request = response.request
            if request.method != "POST":
                return done
            url = request.url
            try:  # the parsed path, still percent-encoded (the APIs' suffixes have no escapes): no unquoting
                path = url._uri_reference.path
            except AttributeError:
                path = url.path
            if path.endswith("/chat/completions"):
                api = chat
            elif path.endswith("/messages"):
                api = messages
            elif path.endswith("/responses"):
                api = responses
            else:
                return done
            try:  # httpx's perf_counter() just before it sent the request (see the module's docstring)
                started = response.stream._start
            except AttributeError:
                started = perf_counter()
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

    on_response.__shadow_emit__ = True  # type: ignore[attr-defined]
    return on_response


def httpx_hooks(emitter: Emitter) -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.Client`` that calls the LLM APIs directly.

    Example: ``httpx.Client(event_hooks=httpx_hooks(emitter))``; to add them to an existing client,
    extend its ``client.event_hooks["request"]`` and ``["response"]`` lists.
    """
    return {"request": [], "response": [_response_hook(emitter, SYNC_TEES, sync_tee_class)]}


def async_httpx_hooks(emitter: Emitter) -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.AsyncClient`` (httpx awaits what its hook returns: this one returns an
    awaitable done at once)."""
    return {"request": [], "response": [_response_hook(emitter, ASYNC_TEES, async_tee_class, _READY)]}


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
    if any(getattr(hook, "__shadow_emit__", False) for hook in hooks["response"]):
        return client
    is_async = callable(getattr(http, "aclose", None))
    ours = async_httpx_hooks(emitter) if is_async else httpx_hooks(emitter)
    http.event_hooks = {
        "request": [*hooks["request"], *ours["request"]],
        "response": [*ours["response"], *hooks["response"]],
    }
    return client
