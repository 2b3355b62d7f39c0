"""Structural JSON diff: typed, located differences that reproduce the candidate."""

from __future__ import annotations

import pytest

from shadow.diff.jsondiff import DiffKind, JsonDifference, apply_differences, diff_json, parse_path


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
