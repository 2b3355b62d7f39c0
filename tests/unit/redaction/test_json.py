"""JSON stays JSON: redacted answers and tool arguments parse, keep their shape, and hide what the rules and the
configured JSON paths find; equal values keep equal tokens so the diff still tells them apart."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadow.config import RedactionSettings
from shadow.jsonpath import parse_path
from shadow.redaction import Redactor

KEY = {"SHADOW_REDACTION_KEY": "test-key"}
SEEDS = ["jane.doe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32",
         "sk-proj-abcdefghijklmnop1234", "123-45-6789"]  # fmt: skip


def make(**options: Any) -> Redactor:
    return Redactor.from_settings(RedactionSettings.model_validate(options), KEY)


def shape(value: Any) -> Any:
    """The document with every scalar replaced by its type name: what redaction must keep."""
    if isinstance(value, dict):
        return [shape(item) for item in value.values()]  # keys may be redacted; their number and order stay
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(SEEDS), st.text(max_size=12), st.sampled_from([4111111111111111, 1733011200000]),
    ),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.one_of(st.text(max_size=6), st.sampled_from(SEEDS)), children, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(json_values.filter(lambda v: isinstance(v, (dict, list))), st.booleans())
def test_redacted_json_parses_keeps_its_shape_and_hides_every_seed(document: Any, pretty: bool) -> None:
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2 if pretty else 0).decode()
    redacted = make().cut(text, 1_000_000)
    parsed = orjson.loads(redacted)
    assert shape(parsed) == shape(document)
    for seed in SEEDS:
        assert seed not in redacted
    assert "4111111111111111" not in redacted


def test_escapes_cannot_hide_a_value_or_break_the_json() -> None:
    redact = make()
    text = '{"a": "line\\nbob@example.com", "b": "bob\\u0040example.com", "c": "\\"jane@example.com\\""}'
    parsed = orjson.loads(redact.cut(text, 10_000))
    assert [re.sub(r"[a-p]{12}", "x", v) for v in parsed.values()] == ["line\n[EMAIL:x]", "[EMAIL:x]", '"[EMAIL:x]"']
    assert parsed["a"].endswith(parsed["b"])  # the same address, the same token


def test_a_card_number_written_as_a_json_number_stays_a_number() -> None:
    redacted = orjson.loads(make().cut('{"card": 4111111111111111, "ts": 1733011200000, "n": 42}', 1000))
    assert isinstance(redacted["card"], int) and redacted["card"] != 4111111111111111
    assert len(str(redacted["card"])) == 16 and redacted["ts"] == 1733011200000 and redacted["n"] == 42


def test_unchanged_json_keeps_its_text() -> None:
    text = '{\n  "status": "ok",  "items": [1, 2, 3]\n}'
    assert make().cut(text, 1000) is text or make().cut(text, 1000) == text


def test_a_json_text_longer_than_what_is_kept_is_cut_as_text() -> None:
    text = orjson.dumps({"email": "jane@example.com", "pad": "x" * 500}).decode()
    stored = make().cut(text, 100)
    assert "jane@example.com" not in stored and stored.endswith("…[truncated]")


def test_nesting_deeper_than_the_recursion_limit_is_no_error() -> None:
    text = "[" * 5000 + '"jane@example.com"' + "]" * 5000  # orjson refuses it: redacted as text
    stored = make().cut(text, 100_000)
    assert "jane@example.com" not in stored
    deep = "[" * 1000 + '"jane@example.com"' + "]" * 1000  # orjson reads it; the walk has no recursion
    assert orjson.loads(make().cut(deep, 100_000))


# --- JSON paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "document", "expected"),
    [
        ("$.user.name", {"user": {"name": "Ada Lovelace", "id": 7}, "name": "tool"}, {"user": {"name": "F", "id": 7}, "name": "tool"}),
        ("$..name", {"a": [{"name": "Ada"}, {"b": {"name": "Alan"}}]}, {"a": [{"name": "F"}, {"b": {"name": "F"}}]}),
        ("$.items[*].owner", {"items": [{"owner": "Ada", "n": 1}, {"owner": "Alan"}]}, {"items": [{"owner": "F", "n": 1}, {"owner": "F"}]}),
        ("$['full name']", {"full name": "Ada Lovelace", "other": "x"}, {"full name": "F", "other": "x"}),
        ("$.address", {"address": {"street": "1 Main St", "city": "Leeds"}}, {"address": {"street": "F", "city": "F"}}),
        ("$.*", {"a": "x", "b": ["y"]}, {"a": "F", "b": ["F"]}),
    ],
)  # fmt: skip
def test_json_paths_replace_every_value_at_or_below_them(path: str, document: Any, expected: Any) -> None:
    redacted = orjson.loads(make(json_paths=[path]).cut(orjson.dumps(document).decode(), 10_000))

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, str) and re.fullmatch(r"\[FIELD:[a-p]{12}\]", value):
            return "F"
        return value

    assert norm(redacted) == expected


def test_numbers_at_a_json_path_stay_numbers_of_as_many_digits() -> None:
    redacted = orjson.loads(make(json_paths=["$.user"]).cut('{"user": {"zip": 12345, "geo": 51.5, "ok": true}}', 1000))
    assert isinstance(redacted["user"]["zip"], int) and redacted["user"]["zip"] != 12345
    assert len(str(redacted["user"]["zip"])) == 5 and redacted["user"]["geo"] == 0.0 and redacted["user"]["ok"] is True


def test_json_paths_apply_to_tool_arguments_and_keep_equal_values_equal() -> None:
    redact = make(json_paths=["$..customer_name"])
    one = orjson.loads(redact.cut('{"customer_name": "Ada Lovelace", "qty": 2}', 1000))
    two = orjson.loads(redact.cut('{"customer_name": "Ada Lovelace", "qty": 3}', 1000))
    three = orjson.loads(redact.cut('{"customer_name": "Alan Turing", "qty": 3}', 1000))
    assert one["customer_name"] == two["customer_name"] != three["customer_name"]
    assert "Ada" not in str(one) and one["qty"] == 2


@pytest.mark.parametrize("path", ["user.name", "$.", "$[0]", "$..", "$.a[", "$.a b"])
def test_a_json_path_outside_the_subset_is_refused_by_name(path: str) -> None:
    with pytest.raises(ValueError, match="JSON path"):
        RedactionSettings.model_validate({"json_paths": [path]})
    with pytest.raises(ValueError):
        parse_path(path)


def test_schemas_are_redacted_by_the_rules_never_by_json_paths() -> None:
    redact = make(json_paths=["$..name"])
    schema = {"type": "object", "properties": {"name": {"type": "string", "enum": ["jane@example.com"]}}}
    redacted = redact.schema(schema)
    assert redacted["properties"]["name"]["type"] == "string"  # the path did not touch the schema
    assert redacted["properties"]["name"]["enum"][0] == redact("jane@example.com")  # the same token as an answer


# --- no text at all -------------------------------------------------------------------------------------


def test_store_text_false_keeps_metrics_only() -> None:
    from tests.unit.redaction.test_redactor import stored_row

    redactor = make(store_text=False)
    row = stored_row(redactor, '{"jane@example.com": 1}', '{"jane@example.com": 2}', calls=2)
    assert row["production_text"] == row["candidate_text"] == row["error_message"] == ""
    assert row["request_context"] == "" and row["json_diff_paths"] == []
    assert all(call["arguments"] == "" for call in orjson.loads(row["candidate_output"])["tool_calls"])
    assert row["json_equal"] is False and row["production_tool_calls"] == 2  # the metrics are all there
    assert "text_not_stored" in row["caps"]
