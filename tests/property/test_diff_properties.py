"""Invariants of the scorers, checked on generated values (fixed max_examples, no deadline flakiness)."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadow.diff import compare
from shadow.diff.jsondiff import apply_differences, bounded_diff, diff_json
from shadow.diff.jsontext import _OPENER, _first_opener
from shadow.diff.limits import DEFAULT_LIMITS, DiffLimits
from shadow.diff.text import count_units, count_units_regex, count_units_vectorized, similarity_scores, text_units
from shadow.diff.tools import _compare_calls, compare_tool_calls
from shadow.events.output import Output, ToolCall

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(list("的是我你好中文退款订单")),
    max_size=80,
)


def shuffled_keys(value, data):
    if isinstance(value, dict):
        items = list(value.items())
        order = data.draw(st.permutations(range(len(items))))
        return {items[i][0]: shuffled_keys(items[i][1], data) for i in order}
    if isinstance(value, list):
        return [shuffled_keys(v, data) for v in value]
    return value


@SETTINGS
@given(json_values)
def test_a_value_has_no_differences_with_itself(value) -> None:
    assert diff_json(value, value) == []


@SETTINGS
@given(json_values, json_values)
def test_applying_differences_to_production_reproduces_the_candidate(before, after) -> None:
    patched = apply_differences(before, diff_json(before, after, parse_strings=False))
    assert diff_json(patched, after, parse_strings=False) == []


@SETTINGS
@given(json_values, st.data())
def test_key_order_never_matters(value, data) -> None:
    assert diff_json(value, shuffled_keys(value, data)) == []


@SETTINGS
@given(st.dictionaries(keys, st.integers(-1000, 1000), max_size=5))
def test_number_spelling_does_not_matter(value) -> None:
    as_floats = {k: float(v) for k, v in value.items()}
    assert diff_json(value, as_floats) == []
    calls_a = (ToolCall("f", orjson.dumps(value).decode()),)
    calls_b = (ToolCall("f", orjson.dumps(as_floats).decode()),)
    assert compare_tool_calls(calls_a, calls_b).arguments_match


@SETTINGS
@given(texts, texts)
def test_similarity_is_symmetric_and_bounded(a, b) -> None:
    forward, backward = similarity_scores(a, b), similarity_scores(b, a)
    assert forward == backward
    assert all(0.0 <= score <= 1.0 for score in forward)


@SETTINGS
@given(texts)
def test_identical_texts_score_one(text) -> None:
    assert similarity_scores(text, text) == (1.0, 1.0, 1.0)


tool_calls = st.lists(
    st.tuples(st.sampled_from(["get_weather", "search", "book"]), st.dictionaries(keys, scalars, max_size=3)),
    max_size=4,
).map(lambda calls: tuple(ToolCall(n, orjson.dumps(a).decode()) for n, a in calls))


@SETTINGS
@given(tool_calls, st.randoms(use_true_random=False))
def test_identical_tool_calls_in_any_order_match_perfectly(calls, rng) -> None:
    shuffled = list(calls)
    rng.shuffle(shuffled)
    result = compare_tool_calls(calls, tuple(shuffled))
    assert result.arguments_match and result.names_match
    assert (result.precision, result.recall, result.f1, result.name_f1) == (1.0, 1.0, 1.0, 1.0)


@SETTINGS
@given(tool_calls, tool_calls)
def test_tool_f1_is_symmetric(a, b) -> None:
    forward, backward = compare_tool_calls(a, b), compare_tool_calls(b, a)
    assert forward.f1 == backward.f1 and forward.name_f1 == backward.name_f1
    assert (forward.precision, forward.recall) == (backward.recall, backward.precision)


@SETTINGS
@given(texts, tool_calls)
def test_identical_outputs_give_perfect_scores_and_no_differences(text, calls) -> None:
    output = Output(text=text, tool_calls=calls)
    pair = compare(output, output).pair
    assert pair is not None
    assert (pair.similarity, pair.levenshtein_similarity, pair.token_set_similarity) == (1.0, 1.0, 1.0)
    assert pair.json_differences == () and pair.json_equal in (None, True)
    assert pair.tools.arguments_match and pair.tools.f1 == 1.0
    assert not (pair.finish_reason_changed or pair.truncated or pair.new_refusal)


# --- the caps keep the scorers' meaning ------------------------------------------------------------


long_texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(list("的是我 ab-'’_.")),
    max_size=400,
)


@SETTINGS
@given(long_texts)
def test_word_counts_without_units_equal_the_units(text) -> None:
    assert count_units(text) == text_units(text).words == len(text_units(text).units)
    folded = text.casefold()
    if folded:
        assert count_units_vectorized(folded) == count_units_regex(folded)


@SETTINGS
@given(long_texts, st.integers(1, 60))
def test_capped_units_are_the_first_units(text, max_units) -> None:
    whole, capped = text_units(text), text_units(text, max_units)
    assert capped.words == whole.words
    if len(text) <= max_units * 8:
        assert list(capped.units) == list(whole.units[:max_units])
        assert capped.cut == (whole.words > max_units)


@SETTINGS
@given(json_values, json_values, st.integers(0, 5), st.integers(1, 4))
def test_bounded_differences_are_the_first_differences(before, after, max_paths, max_depth) -> None:
    full = diff_json(before, after, parse_strings=False)
    capped = bounded_diff(before, after, max_paths=max_paths, max_nodes=None, max_depth=None, parse_strings=False)
    assert list(capped.differences) == full[:max_paths]
    assert capped.equal == (not full)
    located = bounded_diff(before, after, max_paths=None, max_nodes=None, max_depth=max_depth, parse_strings=False)
    assert (
        apply_differences(before, list(located.differences)) == after
        or diff_json(apply_differences(before, list(located.differences)), after, parse_strings=False) == []
    )


# --- JSON extraction finds its openers as the regular expression's search did ----------------------

bracket_texts = st.text(st.sampled_from([*'{}[]" \n\t\u3000\u00a0x0-tfn:,']) | st.characters(), max_size=200)


@SETTINGS
@given(bracket_texts, st.integers(0, 40))
def test_json_openers_are_where_the_pattern_search_finds_them(text, start) -> None:
    match = _OPENER.search(text, start)
    assert _first_opener(text, start) == (-1 if match is None else match.start())


# --- one call against one: the shortcut compares as the matching does ------------------------------

one_call = st.tuples(
    st.sampled_from(["get_weather", "search"]),
    st.dictionaries(keys, json_values, max_size=4).map(lambda a: orjson.dumps(a).decode())
    | st.sampled_from(["", "  ", "{", '{"a": 1', "[1, 2]", '"text"', "null", '{"a": "{\\"b\\": 1}"}']),
).map(lambda call: ToolCall(*call))
small_limits = st.builds(
    DiffLimits,
    max_json_paths=st.integers(1, 4),
    max_json_nodes=st.integers(1, 100),
    max_json_depth=st.integers(1, 4),
)


@SETTINGS
@given(one_call, one_call, st.just(DEFAULT_LIMITS) | small_limits)
def test_one_call_each_compares_as_the_matching_does(production, candidate, limits) -> None:
    fast = compare_tool_calls((production,), (candidate,), limits=limits)
    assert fast == _compare_calls((production,), (candidate,), False, False, limits)
