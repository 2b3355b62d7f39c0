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

from time import perf_counter
from typing import TYPE_CHECKING, Any

from shadow.emit.capture import COMPLETE, Exchange, async_tee, sync_tee
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


def _on_request(request: Any) -> None:
    """Note when a POST starts; everything else waits for its answer (one attribute, one store)."""
    try:
        if request.method == "POST":
            request.extensions[STARTED_KEY] = perf_counter()
    except Exception:  # noqa: BLE001 - nothing here can fail on an httpx request; never the caller's problem
        pass


def _read_already(emitter: Emitter, exchange: Exchange, response: Any) -> bool:
    """A response whose body was read before the hooks (a transport answering from memory, e.g.
    ``MockTransport``): recorded and handed over at once; True when it was."""
    if not getattr(response, "is_stream_consumed", False):
        return False
    exchange.record(response.content)
    if exchange.end(COMPLETE):
        emitter._submit(exchange)
    return True


def _on_response(emitter: Emitter, response: Any, tee: Any) -> None:
    try:
        started = response.request.extensions.pop(STARTED_KEY, None)
        if started is None:
            return
        exchange = emitter._open(response, started)
        if exchange is not None and not _read_already(emitter, exchange, response):
            response.stream = tee(response, exchange, emitter._submit, emitter._fault)
    except Exception as exc:  # noqa: BLE001 - the emitter's fault must never reach the caller
        emitter._fault(exc)


def httpx_hooks(emitter: Emitter) -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.Client`` that calls the LLM APIs directly.

    Example: ``httpx.Client(event_hooks=httpx_hooks(emitter))``; to add them to an existing client,
    extend its ``client.event_hooks["request"]`` and ``["response"]`` lists.
    """

    def request_hook(request: Any) -> None:
        _on_request(request)

    def response_hook(response: Any) -> None:
        _on_response(emitter, response, sync_tee)

    request_hook.__shadow_emit__ = True  # type: ignore[attr-defined]
    return {"request": [request_hook], "response": [response_hook]}


def async_httpx_hooks(emitter: Emitter) -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.AsyncClient`` (its hooks must be coroutine functions)."""

    async def request_hook(request: Any) -> None:
        _on_request(request)

    async def response_hook(response: Any) -> None:
        _on_response(emitter, response, async_tee)

    request_hook.__shadow_emit__ = True  # type: ignore[attr-defined]
    return {"request": [request_hook], "response": [response_hook]}


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
