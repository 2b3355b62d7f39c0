"""JSON in model text: strict validity, extraction of wrapped JSON, JSON Schema conformance."""

from __future__ import annotations

import pytest

from shadow.diff.jsontext import inspect_json
from shadow.diff.schema import validate_schema
from tests.unit.diff.values import INVOICE_SCHEMA


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


@pytest.mark.parametrize(
    ("value", "valid", "error_fragment"),
    [
        ({"vendor": "Acme", "total": 12.5, "currency": "USD"}, True, None),
        ({"vendor": "Acme", "total": "1,234.50", "currency": "USD"}, False, "$.total"),
        ({"vendor": "Acme", "currency": "USD"}, False, "'total' is a required property"),
        ({"vendor": "Acme", "total": 1, "currency": "RMB"}, False, "$.currency"),
        ({"vendor": "Acme", "total": 1, "currency": "CNY", "note": "x"}, False, "expected additionalProperties false"),
    ],
)
def test_schema_conformance_reports_paths(value, valid, error_fragment) -> None:
    ok, errors = validate_schema(value, INVOICE_SCHEMA)
    assert ok is valid
    if error_fragment:
        assert any(error_fragment in e for e in errors)


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


# --- hostile texts: extraction stays linear and finds what it found before ---------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("`" * 1_048_576, id="1MiB-backticks"),
        pytest.param("```" + "`" * 100_000 + "\n" + "x" * 10, id="backticks-then-a-line"),
        pytest.param("```\n" * 200_000, id="fence-lines"),
        pytest.param("[x" * 500_000, id="brackets-without-json"),
        pytest.param("{ " * 500_000, id="braces-without-json"),
        pytest.param("Sure: " + "[" * 1_000_000, id="1M-openers"),
    ],
)
def test_hostile_texts_are_not_json(text: str) -> None:
    assert not inspect_json(text).found


def test_the_fence_scan_finds_the_same_bodies_as_before() -> None:
    text = 'intro ```json\n{"a": 1}\n  ```\nand ```\n[{"b": 2}]\n```'
    assert inspect_json(text).value == {"a": 1}
    assert inspect_json('```\n```\n{"x": 2}\n```').value == {"x": 2}  # the first fence holds "```"
    assert inspect_json('```json\n{"open": true}').value == {"open": True}  # an unclosed fence runs to the end
    assert inspect_json('```json no newline {"a": 1}').value == {"a": 1}  # no fence body: found in prose


def test_json_in_a_fence_after_many_others_is_still_found() -> None:
    # The first five fences are tried as fences; past them the prose scan finds the JSON.
    assert inspect_json("```\nnot json\n```\n" * 4 + '```\n{"in": 1}\n```').value == {"in": 1}
    assert inspect_json("```\nnot json\n```\n" * 50 + '```\n{"late": 1}\n```').value == {"late": 1}


def test_extracted_numbers_that_overflow_are_not_json() -> None:
    assert not inspect_json('Here: {"a": 1e400}').found
    assert inspect_json('Here: {"a": 1e300}').value == {"a": 1e300}
