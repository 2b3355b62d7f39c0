"""Table-driven tests of the diff families with real provider shapes, in English, Chinese and mixed text."""

from __future__ import annotations

import sys

import orjson
import pytest

from shadow.diff import DiffContext, compare
from shadow.diff.behaviour import DEFAULT_REFUSAL_DETECTOR, RefusalDetector
from shadow.diff.cost import Price, request_cost_usd
from shadow.diff.jsondiff import DiffKind, JsonDifference, apply_differences, diff_json, parse_path
from shadow.diff.jsontext import inspect_json, validate_schema
from shadow.diff.text import count_words, normalize_text, similarity_scores
from shadow.diff.tools import compare_tool_calls, tool_schemas, validate_tool_calls
from shadow.events.output import FinishReason, Output, ToolCall, Usage
from shadow.events.wire import parse_anthropic_response, parse_openai_response
from tests.factories import WEATHER_TOOL, anthropic_response, openai_response


def out(text: str = "", *calls: tuple[str, str], finish: FinishReason = FinishReason.STOP, **kw) -> Output:
    return Output(text=text, tool_calls=tuple(ToolCall(n, a) for n, a in calls), finish_reason=finish, **kw)


# --- JSON validity and extraction ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "valid", "extracted", "value"),
    [
        ('{"a": 1}', True, False, {"a": 1}),
        ('  [1, 2.5, "x"]\n', True, False, [1, 2.5, "x"]),
        ('{"城市": "北京"}', True, False, {"城市": "北京"}),
        ("NaN", False, False, None),
        ('{"a": NaN}', False, False, None),
        ("[1, 2,]", False, False, None),
        ('{"a": 1,}', False, False, None),
        ('// note\n{"a": 1}', False, True, {"a": 1}),
        ('"\\ud800"', False, False, None),
        ('{"a": 1}{"b": 2}', False, True, {"a": 1}),
        ('```json\n{"total": 12.5}\n```', False, True, {"total": 12.5}),
        ('Here is the data:\n```\n[{"id": 1}]\n```\nLet me know!', False, True, [{"id": 1}]),
        ('Sure! {"vendor": "Acme", "total": 3}', False, True, {"vendor": "Acme", "total": 3}),
        ('好的，结果如下：{"发票号": "A1"} 希望有帮助', False, True, {"发票号": "A1"}),
        ("The total is 42.", False, False, None),
        ("", False, False, None),
        ('{"a": [1, 2}', False, False, None),
    ],
)
def test_json_validity_is_strict_and_extraction_finds_wrapped_json(text, valid, extracted, value) -> None:
    found = inspect_json(text)
    assert (found.valid, found.extracted) == (valid, extracted)
    assert found.value == value


INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "total": {"type": "number"},
        "currency": {"type": "string", "enum": ["USD", "EUR", "CNY"]},
    },
    "required": ["vendor", "total", "currency"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("value", "valid", "error_fragment"),
    [
        ({"vendor": "Acme", "total": 12.5, "currency": "USD"}, True, None),
        ({"vendor": "Acme", "total": "1,234.50", "currency": "USD"}, False, "$.total"),
        ({"vendor": "Acme", "currency": "USD"}, False, "'total' is a required property"),
        ({"vendor": "Acme", "total": 1, "currency": "RMB"}, False, "$.currency"),
        ({"vendor": "Acme", "total": 1, "currency": "CNY", "note": "x"}, False, "Additional properties"),
    ],
)
def test_schema_conformance_reports_paths(value, valid, error_fragment) -> None:
    ok, errors = validate_schema(value, INVOICE_SCHEMA)
    assert ok is valid
    if error_fragment:
        assert any(error_fragment in e for e in errors)


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


# --- structural JSON diff ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"a": 5}, {"a": 5.0}, []),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, []),
        ({"a": "5"}, {"a": 5}, [("$.a", "type_changed")]),
        ({"a": True}, {"a": 1}, [("$.a", "type_changed")]),
        ({"a": 1}, {}, [("$.a", "missing")]),
        ({}, {"b": None}, [("$.b", "extra")]),
        (
            {"a": [1, 2]},
            {"a": [1, 3, 4]},
            [("$.a", "length_changed"), ("$.a[1]", "value_changed"), ("$.a[2]", "extra")],
        ),
        ({"城市": "北京"}, {"城市": "上海"}, [('$["城市"]', "value_changed")]),
        ({"a b": {"c": 1}}, {"a b": {"c": 2}}, [('$["a b"].c', "value_changed")]),
        (
            {"args": '{"city": "Paris", "days": 2}'},
            {"args": '{"days": 2, "city": "Lyon"}'},
            [("$.args@json.city", "value_changed")],
        ),
        ({"args": '{"x": 1}'}, {"args": '{ "x" : 1.0 }'}, []),
    ],
)
def test_json_differences_are_typed_and_located(before, after, expected) -> None:
    differences = diff_json(before, after)
    assert [(d.path, d.kind.value) for d in differences] == expected


def test_applying_the_differences_reproduces_the_candidate() -> None:
    before = {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}], "total": 3, "note": "x"}
    after = {"items": [{"sku": "A", "qty": "1"}], "total": 3.0, "currency": "EUR"}
    assert apply_differences(before, diff_json(before, after)) == after


def test_paths_parse_back() -> None:
    assert parse_path('$.a["b c"][3]@json.d') == ["a", "b c", 3, "@json", "d"]
    assert JsonDifference("$.a", DiffKind.MISSING, 1).to_dict() == {"path": "$.a", "kind": "missing", "production": 1}


# --- tool calls ---------------------------------------------------------------------------------------


def test_parallel_calls_match_in_any_order() -> None:
    production = (ToolCall("get_weather", '{"city": "Paris"}'), ToolCall("get_weather", '{"city": "Tokyo"}'))
    candidate = (ToolCall("get_weather", '{"city": "Tokyo"}'), ToolCall("get_weather", '{"city":"Paris"}'))
    result = compare_tool_calls(production, candidate)
    assert result.names_match and result.arguments_match
    assert (result.precision, result.recall, result.f1) == (1.0, 1.0, 1.0)


def test_renamed_and_retyped_arguments_are_reported_by_path() -> None:
    production = (ToolCall("search_flights", '{"origin": "SFO", "destination": "NRT", "passengers": 2}'),)
    candidate = (ToolCall("search_flights", '{"origin": "SFO", "dest": "NRT", "passengers": "2"}'),)
    result = compare_tool_calls(production, candidate)
    assert result.names_match and not result.arguments_match
    assert sorted(zip(result.difference_paths, result.difference_kinds, strict=True)) == [
        ("search_flights.dest", "extra"),
        ("search_flights.destination", "missing"),
        ("search_flights.passengers", "type_changed"),
    ]
    assert (result.f1, result.name_f1) == (0.0, 1.0)


def test_a_dropped_parallel_call_lowers_recall_not_precision() -> None:
    production = (ToolCall("get_weather", '{"city": "Paris"}'), ToolCall("get_weather", '{"city": "Rome"}'))
    candidate = (ToolCall("get_weather", '{"city": "Rome"}'),)
    result = compare_tool_calls(production, candidate)
    assert (result.precision, result.recall) == (1.0, 0.5)
    assert [c.arguments for c in result.unmatched_production] == ['{"city": "Paris"}']
    assert not result.arguments_match and not result.names_match


def test_tool_call_versus_text_answer_is_flagged() -> None:
    result = compare_tool_calls((ToolCall("lookup_order", '{"order_id": "A1"}'),), (), candidate_has_text=True)
    assert result.tool_vs_text
    assert (result.precision, result.recall, result.f1) == (0.0, 0.0, 0.0)


def test_invalid_argument_json_is_not_an_argument_match() -> None:
    result = compare_tool_calls((ToolCall("f", '{"a": 1}'),), (ToolCall("f", '{"a": 1'),))
    assert not result.pairs[0].arguments_valid
    assert not result.arguments_match


def test_candidate_arguments_are_validated_against_the_declared_schema() -> None:
    schemas = tool_schemas({"tools": [WEATHER_TOOL]})
    ok, errors = validate_tool_calls((ToolCall("get_weather", '{"city": "Paris", "unit": "kelvin"}'),), schemas)
    assert not ok and any("get_weather.unit" in e for e in errors)
    ok, errors = validate_tool_calls((ToolCall("get_weather", '{"unit": "celsius"}'),), schemas)
    assert not ok and any("'city' is a required property" in e for e in errors)
    ok, errors = validate_tool_calls((ToolCall("book_hotel", "{}"),), schemas)
    assert not ok and errors == ("book_hotel: tool was not declared in the request",)
    assert validate_tool_calls((ToolCall("get_weather", '{"city": "北京"}'),), schemas) == (True, ())


def test_anthropic_tool_use_input_schemas_are_read_too() -> None:
    request = {"tools": [{"name": "lookup_order", "input_schema": {"type": "object", "required": ["order_id"]}}]}
    ok, errors = validate_tool_calls((ToolCall("lookup_order", "{}"),), tool_schemas(request))
    assert not ok and "order_id" in errors[0]


# --- length and similarity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Your refund was processed.", 4),
        ("It's a well-known e-mail issue.", 5),
        ("您的退款已处理。", 7),
        ("我的 invoice 为什么还没到？order #A-1234", 11),
        ("注文番号は A-17 です", 8),
        ("", 0),
    ],
)
def test_words_count_cjk_characters_individually(text, words) -> None:
    assert count_words(text) == words


def test_normalization_folds_width_case_and_space() -> None:
    assert normalize_text("  Ｈｅｌｌｏ\u3000WORLD \n ") == "hello world"


def test_faithful_chinese_paraphrase_scores_far_above_an_unrelated_answer() -> None:
    production = "您好，您的退款已经处理完毕，预计3到5个工作日内退回原支付账户。"
    paraphrase = "您好，退款已处理完成，款项预计会在3-5个工作日内退回到您的原支付方式。"
    unrelated = "请问您想预订哪一天的航班？我们目前有经济舱和商务舱可选。"
    close, far = similarity_scores(production, paraphrase), similarity_scores(production, unrelated)
    assert close[0] > 0.6 > 0.2 > far[0]
    assert close[2] > 0.5 > 0.1 > far[2]
    assert close[1] > 4 * far[1]


def test_a_truncated_answer_is_not_a_perfect_token_set_match() -> None:
    full = "Your refund was approved. It will reach your card in three to five business days."
    assert similarity_scores(full, "Your refund was approved.")[2] < 0.6


def test_similarity_edges() -> None:
    assert similarity_scores("Same text", "same   TEXT") == (1.0, 1.0, 1.0)
    assert similarity_scores("", "") == (1.0, 1.0, 1.0)
    assert similarity_scores("", "something") == (0.0, 0.0, 0.0)


# --- behaviour --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("I’m sorry, but I cannot assist with this request.", True),
        ("I can't help with that request.", True),
        ("As an AI language model, I cannot provide medical advice.", True),
        ("抱歉，我无法协助处理这个请求。", True),
        ("Thanks for asking. I must decline to share internal pricing.", True),
        ("I won't comply with that request.", True),
        ("我无法协助处理这个请求。", True),
        ("申し訳ございませんが、その件はお手伝いできません。", True),
        ("Sure! I can help with that.", False),
        ("很抱歉，我不能提供这方面的信息。", True),
        ("I'm sorry for the delay! Your order ships today.", False),
        ("I can't find order A-12 in our system; could you double-check the number?", False),
        ("抱歉让您久等了，您的订单今天发货。", False),
    ],
)
def test_refusals_in_english_and_chinese(text, refusal) -> None:
    assert DEFAULT_REFUSAL_DETECTOR(out(text)) is refusal


def test_provider_declared_refusal_counts() -> None:
    output = parse_openai_response(openai_response(None, refusal="I can't help with that."))
    assert DEFAULT_REFUSAL_DETECTOR(output)
    assert RefusalDetector.from_patterns([r"^nope"])(out("Nope, not doing that"))


def test_truncation_is_a_stop_to_length_change() -> None:
    production = parse_anthropic_response(anthropic_response("A full answer."))
    candidate = parse_anthropic_response(anthropic_response("A full", stop_reason="max_tokens"))
    result = compare(production, candidate)
    assert result.pair.truncated and result.pair.finish_reason_changed
    assert result.candidate.finish_reason == "length"


# --- cost, latency, whole comparison ----------------------------------------------------------------------


def test_cost_uses_exact_then_prefix_prices() -> None:
    prices = {"gpt-4o": Price(2.5, 10.0), "gpt-4o-mini": Price(0.15, 0.6)}
    assert request_cost_usd(Usage(1000, 100), "gpt-4o-2024-08-06", prices) == pytest.approx(0.0035)
    assert request_cost_usd(Usage(1000, 100), "gpt-4o-mini-2024-07-18", prices) == pytest.approx(0.00021)
    assert request_cost_usd(Usage(1000, 100), "claude-3", prices) is None
    assert request_cost_usd(Usage(None, 100), "gpt-4o", prices) is None


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


@pytest.mark.parametrize(
    "text",
    [
        "According to the policy [1], refunds take 5 days [2, 3].",
        "Use the {name} placeholder in the template.",
        "See [doc-4] and [doc-7] for details.",
        "根据文档[1]，退款需要5个工作日。",
    ],
)
def test_citations_and_placeholders_in_prose_are_not_json(text) -> None:
    assert not inspect_json(text).found
