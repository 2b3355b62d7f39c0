"""Structural JSON diff: typed, located differences that reproduce the candidate, within caps."""

from __future__ import annotations

import pytest

from shadow.diff.jsondiff import (
    EQUAL,
    DiffKind,
    JsonDifference,
    apply_differences,
    bounded_diff,
    count_leaves,
    diff_json,
    json_shape,
    parse_path,
)
from shadow.diff.limits import JSON_DEPTH, JSON_NODES, JSON_PATHS


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


# --- bounded diffs: caps, any depth, equal values without a walk ----------------------------------


def deep(depth: int, leaf) -> list:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_the_unbounded_diff_has_no_recursion_limit() -> None:
    (difference,) = diff_json(deep(5_000, 1), deep(5_000, 2))
    assert difference.kind is DiffKind.VALUE_CHANGED
    assert apply_differences(deep(3, 1), diff_json(deep(3, 1), deep(3, 2))) == deep(3, 2)
    assert count_leaves(deep(5_000, 1)) == 1
    assert json_shape(deep(5_000, 1), 10**6) == (5_001, 5_000)


def test_a_difference_below_the_depth_cap_is_one_change_of_the_subtree() -> None:
    before, after = {"a": deep(50, 1)}, {"a": deep(50, 2)}
    result = bounded_diff(before, after, max_paths=10, max_nodes=10_000, max_depth=4)
    (difference,) = result.differences
    assert difference.path == "$.a[0][0][0]"
    assert (difference.kind, difference.before, difference.after) == (DiffKind.VALUE_CHANGED, deep(47, 1), deep(47, 2))
    assert result.caps == {JSON_DEPTH} and not result.equal
    assert apply_differences(before, list(result.differences)) == after


def test_equal_subtrees_below_the_depth_cap_are_no_difference() -> None:
    result = bounded_diff(
        {"a": deep(50, 1), "b": 1}, {"a": deep(50, 1), "b": 2}, max_paths=10, max_nodes=None, max_depth=4
    )
    assert [d.path for d in result.differences] == ["$.b"]
    assert JSON_DEPTH not in result.caps


def test_the_paths_cap_stops_the_walk() -> None:
    result = bounded_diff(list(range(100)), [-1] * 100, max_paths=5, max_nodes=None, max_depth=None)
    assert [d.path for d in result.differences] == ["$[0]", "$[1]", "$[2]", "$[3]", "$[4]"]
    assert result.caps == {JSON_PATHS} and not result.equal


def test_the_nodes_cap_stops_the_walk_and_the_values_count_as_different() -> None:
    before = [{"x": i} for i in range(1_000)]
    after = [*before[:-1], {"x": -1}]
    result = bounded_diff(before, after, max_paths=None, max_nodes=100, max_depth=None)
    assert result.differences == () and not result.equal
    assert result.caps == {JSON_NODES}
    found = bounded_diff(before, after, max_paths=None, max_nodes=10_000, max_depth=None)
    assert [d.path for d in found.differences] == ["$[999].x"] and not found.caps


def test_equal_values_are_recognized_by_their_canonical_bytes() -> None:
    value = {"b": [1, {"c": "x"}], "a": None}
    assert bounded_diff(value, {"a": None, "b": [1, {"c": "x"}]}, max_paths=1, max_nodes=1, max_depth=1) is EQUAL
    # 5 and 5.0 are spelled differently but equal: the walk decides.
    assert bounded_diff([5] * 3, [5.0] * 3, max_paths=1, max_nodes=10, max_depth=1).equal


def test_json_in_strings_costs_nodes_by_length() -> None:
    before = {"args": '{"x": "' + "a" * 100_000 + '"}'}
    after = {"args": '{"x": "' + "b" * 100_000 + '"}'}
    result = bounded_diff(before, after, max_paths=None, max_nodes=100, max_depth=None)
    assert result.caps == {JSON_NODES}
    assert [
        d.path for d in bounded_diff(before, after, max_paths=None, max_nodes=10_000, max_depth=None).differences
    ] == ["$.args@json.x"]
