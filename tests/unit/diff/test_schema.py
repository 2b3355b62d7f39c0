"""Schema checks of answers: schemas the event chose can neither crash the comparison nor stall it."""

from __future__ import annotations

import pytest

from shadow.diff.limits import JSON_DEPTH, SCHEMA_NODES, SCHEMA_PATTERNS
from shadow.diff.schema import TOO_DEEP_SCHEMA, check_schema, pattern_cost, schema_key, validate_schema
from tests.unit.diff.values import INVOICE_SCHEMA

pytestmark = pytest.mark.timeout(60)


def check(value, schema, **caps):
    return check_schema(value, schema_key(schema), **caps)


def test_a_valid_and_an_invalid_answer() -> None:
    assert check({"vendor": "Acme", "total": 1, "currency": "USD"}, INVOICE_SCHEMA).valid is True
    result = check({"vendor": "Acme", "total": "1", "currency": "USD"}, INVOICE_SCHEMA)
    assert result.valid is False and result.cap is None
    assert result.errors == ('$.total: expected type "number"',)  # the answer's value is not quoted


def test_an_invalid_schema_counts_as_no_schema() -> None:
    assert validate_schema({"a": 1}, {"type": "no-such-type"}) == (True, ("schema: invalid JSON Schema, not checked",))


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        pytest.param({"$ref": "https://example.com/schema.json"}, "Unresolvable", id="remote-ref"),
        pytest.param({"$ref": "#/$defs/nowhere"}, "not checked", id="dangling-ref"),
    ],
)
def test_a_ref_that_resolves_nowhere_is_not_checked(schema, fragment) -> None:
    result = check({"a": 1}, schema)
    assert result.valid is None
    assert fragment in result.errors[0]


def test_a_ref_cycle_is_not_checked() -> None:
    result = check(1, {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})
    assert (result.valid, result.cap) == (None, JSON_DEPTH)


def test_a_schema_too_deep_to_serialize_is_not_checked() -> None:
    schema: dict = {"type": "integer"}
    for _ in range(200):
        schema = {"type": "object", "properties": {"a": schema}}
    assert schema_key(schema) == TOO_DEEP_SCHEMA
    result = check_schema({"a": 1}, TOO_DEEP_SCHEMA)
    assert (result.valid, result.cap) == (None, JSON_DEPTH)


def test_an_answer_over_the_node_cap_is_not_checked() -> None:
    result = check(list(range(100)), {"type": "array", "items": {"type": "integer"}}, max_nodes=50)
    assert (result.valid, result.cap) == (None, SCHEMA_NODES)
    assert check(list(range(40)), {"type": "array", "items": {"type": "integer"}}, max_nodes=50).valid is True


def test_an_answer_over_the_depth_cap_is_not_checked() -> None:
    value: list = [1]
    for _ in range(30):
        value = [value]
    result = check(value, {"type": "array"}, max_depth=10)
    assert (result.valid, result.cap) == (None, JSON_DEPTH)


@pytest.mark.parametrize(
    "pattern",
    ["^(a+)+$", "(a|ab)*c", r"(\w)\1", "(x*)*y", "^(?:a?){40}$"],
)
def test_patterns_that_can_backtrack_exponentially_are_never_run(pattern: str) -> None:
    assert pattern_cost(pattern) is None
    result = check("a" * 40 + "!", {"type": "string", "pattern": pattern})
    assert (result.valid, result.cap) == (None, SCHEMA_PATTERNS)
    assert "not checked" in result.errors[0]


@pytest.mark.parametrize(
    ("pattern", "cost"),
    [
        (r"^\d{3}-\d{4}$", (1, 0)),
        (r"^[A-Z]{2}\d+$", (1, 1)),
        (r"\d+", (1, 2)),
        (r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$", (1, 3)),
        (r"^colou?r$", (2, 0)),
    ],
)
def test_the_cost_of_a_safe_pattern(pattern: str, cost: tuple[int, int]) -> None:
    assert pattern_cost(pattern) == cost


def test_safe_patterns_are_checked() -> None:
    schema = {"type": "object", "properties": {"zip": {"type": "string", "pattern": r"^\d{5}$"}}}
    assert check({"zip": "12345"}, schema).valid is True
    result = check({"zip": "1234x"}, schema)
    assert result.valid is False and "expected pattern" in result.errors[0]


def test_strings_too_long_for_a_patterns_budget_are_not_checked() -> None:
    schema = {"type": "string", "pattern": r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$"}
    assert check("jane@example.com", schema).valid is True
    result = check("a" * 50_000, schema)
    assert (result.valid, result.cap) == (None, SCHEMA_PATTERNS)


def test_pattern_properties_keys_are_screened_too() -> None:
    schema = {"type": "object", "patternProperties": {"^(a+)+$": {"type": "integer"}}}
    result = check({"a" * 30 + "!": 1}, schema)
    assert (result.valid, result.cap) == (None, SCHEMA_PATTERNS)
