"""The whole comparison: context from the request, every metric family, a failed candidate, no I/O imports."""

from __future__ import annotations

import sys

import orjson

from shadow.diff import DiffContext, compare
from shadow.diff.jsondiff import DiffKind
from shadow.events.output import Usage
from shadow.events.wire import parse_openai_response
from tests.factories import openai_response
from tests.unit.diff.values import INVOICE_SCHEMA, out


def test_response_format_schema_comes_from_the_request_and_beats_the_workflow_schema() -> None:
    request = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "extract"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "inv", "schema": INVOICE_SCHEMA}},
    }
    context = DiffContext.from_request(request, workflow_schema={"type": "array"})
    production = parse_openai_response(openai_response('{"vendor": "Acme", "total": 3, "currency": "EUR"}'))
    candidate = parse_openai_response(openai_response('{"vendor": "Acme", "total": "3", "currency": "EUR"}'))
    result = compare(production, candidate, context)
    assert result.production.schema_valid is True
    assert result.candidate.schema_valid is False
    assert [(d.path, d.kind) for d in result.pair.json_differences] == [("$.total", DiffKind.TYPE_CHANGED)]


def test_identical_outputs_compare_perfectly() -> None:
    body = openai_response('{"a": [1, 2]}', tool_calls=[("get_weather", {"city": "Paris"})])
    production = parse_openai_response(body)
    result = compare(production, parse_openai_response(body))
    pair = result.pair
    assert (pair.similarity, pair.levenshtein_similarity, pair.token_set_similarity) == (1.0, 1.0, 1.0)
    assert pair.json_equal and not pair.json_differences
    assert pair.tools.arguments_match and pair.tools.f1 == 1.0
    assert not pair.finish_reason_changed and not pair.truncated and not pair.new_refusal
    assert pair.length_ratio == 1.0


def test_failed_candidate_still_reports_production_side() -> None:
    result = compare(out('{"a": 1}'), None)
    assert result.pair is None and result.candidate is None
    assert result.production.json_valid


def test_diff_imports_no_io_libraries() -> None:
    import subprocess

    code = "import sys, shadow.diff; print(sorted(m for m in ('httpx', 'aiokafka', 'clickhouse_connect', 'aiohttp') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_comparison_json_has_every_family() -> None:
    result = compare(
        out("hi", usage=Usage(3, 1), model="m"),
        out("hello", usage=Usage(3, 2), model="m"),
        production_latency_ms=100,
        candidate_latency_ms=150,
    )
    data = orjson.loads(orjson.dumps(result.to_dict()))
    assert set(data) == {
        "comparator_version",
        "caps",
        "json",
        "tool_calls",
        "length",
        "similarity",
        "behaviour",
        "latency",
        "tokens",
        "cost",
    }
    assert data["latency"] == {"production_ms": 100, "candidate_ms": 150, "ratio": 1.5}
    assert data["tokens"]["output"] == {"production": 1, "candidate": 2}
