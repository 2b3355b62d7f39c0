"""``shadow diff``: compare two saved provider responses and print every metric as JSON."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson

from shadow.cli.common import (
    EXIT_OK,
    add_command,
    add_common_options,
    cli_settings,
    print_json,
)
from shadow.errors import ConfigError

if TYPE_CHECKING:
    from shadow.cli.common import Subparsers
    from shadow.diff.cost import Price


def _read_json_file(path: str, what: str) -> Any:
    try:
        return orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{what} file {path} does not exist") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON: {exc}") from None


def _detect_api(body: Any, forced: str | None, what: str) -> Any:
    from shadow.events.models import Api

    if forced:
        return {"openai": Api.OPENAI_CHAT, "responses": Api.OPENAI_RESPONSES}.get(forced, Api.ANTHROPIC_MESSAGES)
    if isinstance(body, dict) and "choices" in body:
        return Api.OPENAI_CHAT
    if isinstance(body, dict) and (isinstance(body.get("output"), list) or body.get("object") == "response"):
        return Api.OPENAI_RESPONSES
    if isinstance(body, dict) and isinstance(body.get("content"), list):
        return Api.ANTHROPIC_MESSAGES
    raise ConfigError(f"{what}: cannot tell the API (no 'choices', 'output' or 'content' array); pass --api")


def cmd_diff(args: argparse.Namespace) -> int:
    from shadow.diff.behaviour import DEFAULT_REFUSAL_DETECTOR
    from shadow.diff.compare import DiffContext, compare
    from shadow.diff.limits import DEFAULT_LIMITS
    from shadow.errors import ResponseFormatError
    from shadow.events.models import MirrorEvent
    from shadow.events.wire import parse_response

    sides = []
    request: dict[str, Any] | None = None
    latencies: list[float | None] = [args.production_latency_ms, args.candidate_latency_ms]
    for index, (path, what) in enumerate(((args.production, "production"), (args.candidate, "candidate"))):
        data = _read_json_file(path, what)
        if isinstance(data, dict) and "schema_version" in data and "api" in data:
            event = MirrorEvent.model_validate(data)
            request = request or event.request
            latencies[index] = latencies[index] if latencies[index] is not None else event.latency_ms
            body, api = event.response, event.api
            if body is None:
                raise ConfigError(f"{what} file {path} is a mirror event without a response")
        else:
            body = data
            api = _detect_api(body, args.api, f"{what} file {path}")
        try:
            sides.append(parse_response(api, body))
        except ResponseFormatError as exc:
            raise ConfigError(f"{what} file {path}: {exc}") from None
    if args.request:
        request = _read_json_file(args.request, "request")
    schema = _read_json_file(args.schema, "schema") if args.schema else None
    refusal, prices, limits = DEFAULT_REFUSAL_DETECTOR, cast("Mapping[str, Price]", {}), DEFAULT_LIMITS
    if args.config or os.environ.get("SHADOW_CONFIG"):
        from shadow.rowbuilder import comparator_options

        refusal, prices, limits = comparator_options(cli_settings(args))
    context = DiffContext.from_request(request, workflow_schema=schema, refusal=refusal, prices=prices, limits=limits)
    comparison = compare(
        sides[0], sides[1], context, production_latency_ms=latencies[0], candidate_latency_ms=latencies[1]
    )
    print_json(comparison.to_dict())
    return EXIT_OK


def register(sub: Subparsers) -> None:
    """Add ``diff``."""
    diff = add_command(
        sub,
        "diff",
        help="compare two saved provider responses and print every metric as JSON",
        description="Compare a production response with a candidate response (OpenAI chat completion, OpenAI "
        "Responses or Anthropic message bodies, or whole mirror events) and print the metrics of every diff family "
        "as JSON. The request (or a mirror event) supplies the response schema and tool schemas to validate against.",
    )
    add_common_options(diff)
    diff.add_argument("production", metavar="PROD.json", help="production's response body (or a mirror event)")
    diff.add_argument("candidate", metavar="CAND.json", help="the candidate's response body (or a mirror event)")
    diff.add_argument("--request", metavar="REQ.json", help="the request body (response_format or text, tools)")
    diff.add_argument("--schema", metavar="SCHEMA.json", help="JSON Schema the answer must follow")
    diff.add_argument(
        "--api",
        choices=["openai", "responses", "anthropic"],
        help="wire format of both files: OpenAI chat completions, OpenAI Responses, Anthropic messages "
        "(default: detect)",
    )
    diff.add_argument("--production-latency-ms", type=float, help="production latency")
    diff.add_argument("--candidate-latency-ms", type=float, help="candidate latency")
    diff.set_defaults(handler=cmd_diff)
