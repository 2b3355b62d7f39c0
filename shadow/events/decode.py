"""Decode stage: record bytes → validated :class:`MirrorEvent` plus production's normalized output."""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from shadow.errors import DecodeError, OversizedEventError, ResponseFormatError
from shadow.events.models import MirrorEvent
from shadow.events.output import Output
from shadow.events.wire import check_request, parse_response


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """A valid event and production's output (None when production failed)."""

    event: MirrorEvent
    production: Output | None


_DESCRIBE = reprlib.Repr()  # bounded: 6 levels, a few items per container (keyword options need 3.12)
_DESCRIBE.maxstring = _DESCRIBE.maxother = 50


def _describe_input(value: Any) -> str:
    """The rejected input, quoted in at most 60 characters. As JSON when orjson writes it (it writes
    254 levels of nesting where it reads 1,024, and refuses some values); else a bounded repr."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = orjson.dumps(value).decode()
        except (TypeError, orjson.JSONEncodeError):
            text = _DESCRIBE.repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def format_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """One line per field problem: ``field 'latency_ms': should be a number (got str 'fast')``."""
    problems = []
    for error in exc.errors()[:limit]:
        loc = ".".join(str(part) for part in error["loc"]) or "(event)"
        message = error["msg"]
        if error["type"] == "missing":
            problems.append(f"field '{loc}' is missing")
        else:
            problems.append(f"field '{loc}': {message} (got {_describe_input(error.get('input'))})")
    more = len(exc.errors()) - limit
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)


def decode_event(value: bytes, *, max_bytes: int) -> DecodedEvent:
    """Decode and validate one mirror event.

    Args:
        value: the record's bytes (UTF-8 JSON).
        max_bytes: records larger than this are rejected before parsing.

    Raises:
        DecodeError: with a reason naming the field at fault.
    """
    if len(value) > max_bytes:
        raise OversizedEventError(f"event is {len(value)} bytes, over the limit of {max_bytes} bytes (max_event_bytes)")
    if not value.strip():
        raise DecodeError("empty message", "invalid_json")
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"not valid JSON: {exc}", "invalid_json") from exc
    if not isinstance(data, dict):
        raise DecodeError(f"a mirror event must be a JSON object, got {type(data).__name__}")
    try:
        event = MirrorEvent.model_validate(data)
    except ValidationError as exc:
        raise DecodeError(f"invalid mirror event: {format_validation_error(exc)}") from exc
    try:
        check_request(event.api, event.request)
        production = parse_response(event.api, event.response) if event.response is not None else None
    except ResponseFormatError as exc:
        raise DecodeError(f"invalid {event.api.value} body: {exc}", "invalid_body") from exc
    return DecodedEvent(event, production)
