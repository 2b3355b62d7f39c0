"""Who a production LLM call is for: workflow, tenant, subject and tags, set around the call.

The emitter's hooks read the context current when a request starts (a :class:`contextvars.ContextVar`):
each thread has its own, each asyncio task starts with a copy of its creator's, so a ``with context(...)``
around a call (or around a request handler) labels every LLM call made inside it and nothing else. A
thread pool does not carry the submitter's context into its workers: enter the context inside the
function the pool runs, or run it with ``contextvars.copy_context().run``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import NamedTuple

__all__ = ["CallContext", "context", "current_context"]

_NO_TAGS: Mapping[str, str] = MappingProxyType({})


class CallContext(NamedTuple):
    """The labels of the calls made inside one :func:`context` (None: the emitter's default).

    A named tuple rather than a dataclass: one is built per ``with context(...)`` on the service's request
    path, and a tuple is the cheapest immutable record Python builds."""

    workflow: str | None = None
    tenant: str | None = None
    subject: str | None = None
    tags: Mapping[str, str] = _NO_TAGS


_EMPTY = CallContext()
_new_context = tuple.__new__
"""Builds a CallContext from its four fields without the named tuple's own ``__new__`` (a Python frame)."""
_CURRENT: ContextVar[CallContext] = ContextVar("shadow_emit_context", default=_EMPTY)


def current_context() -> CallContext:
    """The context the next call made here would be labelled with (without the emitter's defaults)."""
    return _CURRENT.get()


class context:
    """Label the LLM calls made inside the block: ``with context(workflow=..., subject=...) as labels:``.

    Nested blocks inherit what they do not set; their tags are added to the outer block's (a key set
    again wins). ``subject`` is the conversation or user key that makes sampling sticky: every call of
    one subject is mirrored or none is. The block yields the merged :class:`CallContext`. (A class, not a
    generator-based context manager: entering and leaving costs about a fifth as much, on the service's
    request path.)

    Args:
        workflow: unit of sampling, routing and gating (e.g. ``support_chat``); default: the emitter's.
        tenant: customer or tenant, for per-tenant views.
        subject: conversation or user key (at most 256 characters).
        tags: free-form labels (e.g. ``prompt_version``); keys and values are strings.
    """

    __slots__ = ("_subject", "_tags", "_tenant", "_token", "_workflow")

    def __init__(
        self,
        *,
        workflow: str | None = None,
        tenant: str | None = None,
        subject: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self._workflow = workflow
        self._tenant = tenant
        self._subject = subject
        self._tags = tags
        self._token: Token[CallContext] | None = None

    def __enter__(self) -> CallContext:
        outer = _CURRENT.get()
        tags = self._tags
        merged = _new_context(
            CallContext,
            (
                outer.workflow if self._workflow is None else self._workflow,
                outer.tenant if self._tenant is None else self._tenant,
                outer.subject if self._subject is None else self._subject,
                MappingProxyType({**outer.tags, **{str(k): str(v) for k, v in tags.items()}}) if tags else outer.tags,
            ),
        )
        self._token = _CURRENT.set(merged)
        return merged

    def __exit__(self, *exc_info: object) -> None:
        token, self._token = self._token, None
        if token is not None:
            _CURRENT.reset(token)
