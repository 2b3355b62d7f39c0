"""Who a production LLM call is for: workflow, tenant, subject and tags, set around the call.

The emitter's hooks read the context current when a request starts (a :class:`contextvars.ContextVar`):
each thread has its own, each asyncio task starts with a copy of its creator's, so a ``with context(...)``
around a call (or around a request handler) labels every LLM call made inside it and nothing else. A
thread pool does not carry the submitter's context into its workers: enter the context inside the
function the pool runs, or run it with ``contextvars.copy_context().run``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = ["CallContext", "context", "current_context"]


@dataclass(frozen=True, slots=True)
class CallContext:
    """The labels of the calls made inside one :func:`context` (None: the emitter's default)."""

    workflow: str | None = None
    tenant: str | None = None
    subject: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


_EMPTY = CallContext()
_CURRENT: ContextVar[CallContext] = ContextVar("shadow_emit_context", default=_EMPTY)


def current_context() -> CallContext:
    """The context the next call made here would be labelled with (without the emitter's defaults)."""
    return _CURRENT.get()


@contextmanager
def context(
    *,
    workflow: str | None = None,
    tenant: str | None = None,
    subject: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[CallContext]:
    """Label the LLM calls made inside the block.

    Nested blocks inherit what they do not set; their tags are added to the outer block's (a key set
    again wins). ``subject`` is the conversation or user key that makes sampling sticky: every call of
    one subject is mirrored or none is.

    Args:
        workflow: unit of sampling, routing and gating (e.g. ``support_chat``); default: the emitter's.
        tenant: customer or tenant, for per-tenant views.
        subject: conversation or user key (at most 256 characters).
        tags: free-form labels (e.g. ``prompt_version``); keys and values are strings.
    """
    outer = _CURRENT.get()
    merged = CallContext(
        workflow=workflow if workflow is not None else outer.workflow,
        tenant=tenant if tenant is not None else outer.tenant,
        subject=subject if subject is not None else outer.subject,
        tags={**outer.tags, **{str(k): str(v) for k, v in tags.items()}} if tags else outer.tags,
    )
    token = _CURRENT.set(merged)
    try:
        yield merged
    finally:
        _CURRENT.reset(token)
