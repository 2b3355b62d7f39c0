"""The faster similarity units and scores equal the old ones (``reference_text``) on generated and real texts.

What changed in ``shadow.diff.text`` is how the values are computed, never what they are: long texts
on the Unicode path are cut into units with numpy, and long pairs are scored on strings of unit
codes instead of lists of units. Each new path is checked on its own (called directly, or with its
size threshold lowered to zero) and through ``text_units``/``similarity_of`` with the defaults, for
exact equality of units (and their types), bags, word counts, cut flags and the three scores.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from unittest import mock

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadow.demo.server import recording_key
from shadow.diff import text
from shadow.events.models import Api
from shadow.events.wire import parse_response
from tests.property import reference_text as old

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Long texts are slow to generate: fewer of them (the short ones reach the same paths with the
# thresholds lowered).
LONG = settings(SETTINGS, max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Pieces that exercise every branch: ASCII words and punctuation, edge quotes and dashes, the
# typographic characters, accents and emoji (placeholder path), CJK (Han, kana, astral Han),
# Hangul, fullwidth letters and ligatures (NFKC), case folding (ß), control characters, all kinds
# of whitespace, and underscores.
PIECES = [
    "the", "The", "refund", "REFUND", "order", "a", "I", "it's", "e-mail", "well-known", "don't", "12", "A-1234",
    "'quoted'", "''x", "x''", "-dash", "dash-", "a--b", "a-'b", "snake_case", "_", "'", "-", "’", "‘", "“", "”",
    "—", "–", "…", "\u00a0", "café", "naïve", "straße", "ÉCOLE", "😀", "退款", "您好", "已", "处理", "订单", "的",
    "。", "，", "？", "ご注文", "ありがとう", "カタカナ", "𠀀", "𠀁", "주문", "취소", "Ｈｅｌｌｏ", "ﬁne", "①", "\x01", "\x1a",
    " ", "  ", "\n", "\t", "\r\n", "\u3000", ".", ",", "!", "?", ":", "(", ")", "[1]", "{", "}", "#", "$5", "5.0", "𐐀𐐁",
    "ΟΔΟΣ", "İstanbul", "ǅ", "ﬆ",
]  # fmt: skip
pieces = st.sampled_from(PIECES) | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
separators = st.sampled_from([" ", " ", " ", "", "\n", ", ", "。", "\t"])
texts = st.lists(st.tuples(pieces, separators), max_size=120).map(lambda parts: "".join(a + b for a, b in parts))
# Long texts (hundreds of units) for the numpy and coded paths with their default thresholds.
long_texts = st.lists(st.tuples(pieces, separators), min_size=100, max_size=700).map(
    lambda parts: "".join(a + b for a, b in parts)
)
caps = st.none() | st.integers(1, 400)


def assert_same_units(new: text.TextUnits, ref: old.TextUnits) -> None:
    assert list(new.units) == list(ref.units)
    assert [type(u) for u in new.units] == [type(u) for u in ref.units]
    assert new.bag == ref.bag
    assert (new.words, new.cut) == (ref.words, ref.cut)


def assert_same_scores(a: str, b: str, max_units: int | None = None) -> None:
    new = text.similarity_of(text.text_units(a, max_units), text.text_units(b, max_units))
    ref = old.similarity_of(old.text_units(a, max_units), old.text_units(b, max_units))
    assert new == ref  # exactly: same floats


@SETTINGS
@given(texts, caps)
def test_units_are_the_old_units(value: str, max_units: int | None) -> None:
    assert_same_units(text.text_units(value, max_units), old.text_units(value, max_units))
    with mock.patch.object(text, "VECTOR_UNITS_MIN_CHARS", 0):
        assert_same_units(text.text_units(value, max_units), old.text_units(value, max_units))


@SETTINGS
@given(texts, caps)
def test_vectorized_units_equal_the_regular_expressions(value: str, max_units: int | None) -> None:
    plain = text._plain(value)
    if not plain:
        return
    units, cjk, total = text.units_vectorized(plain, max_units)
    ref_units, ref_bag, ref_total = text.units_regex(text._folded(plain), max_units)
    assert (units, total) == (ref_units, ref_total)
    assert text.TextUnits(units, total, cjk=cjk).bag == (ref_bag if ref_bag is not None else frozenset(ref_units))
    ref_cjk = text._cjk_keys(ref_units, ref_bag) if ref_bag is not None else None
    if cjk is None or ref_cjk is None:
        assert cjk is ref_cjk is None
    else:
        assert [k.tolist() for k in cjk] == [k.tolist() for k in ref_cjk]


@LONG
@given(long_texts, caps)
def test_long_units_are_the_old_units(value: str, max_units: int | None) -> None:
    assert_same_units(text.text_units(value, max_units), old.text_units(value, max_units))


@SETTINGS
@given(texts, texts, caps)
def test_scores_are_the_old_scores(a: str, b: str, max_units: int | None) -> None:
    assert_same_scores(a, b, max_units)
    with (
        mock.patch.object(text, "CODED_MIN_PAIRS", 0),
        mock.patch.object(text, "CODED_MIN_PAIRS_CJK", 0),
        mock.patch.object(text, "VECTOR_UNITS_MIN_CHARS", 0),
    ):
        assert_same_scores(a, b, max_units)


@SETTINGS
@given(texts, st.data())
def test_scores_of_edited_texts_are_the_old_scores(a: str, data: st.DataObject) -> None:
    # An edited copy shares most units (the usual candidate), unlike two independent texts.
    words = a.split(" ")
    edits = data.draw(st.lists(st.tuples(st.integers(0, max(0, len(words) - 1)), pieces), max_size=8))
    for where, piece in edits:
        words[where : where + 1] = [piece] if len(words) % 2 else [piece, words[where] if words else ""]
    b = " ".join(words)
    with mock.patch.object(text, "CODED_MIN_PAIRS", 0), mock.patch.object(text, "CODED_MIN_PAIRS_CJK", 0):
        assert_same_scores(a, b)
        assert_same_scores(b, a)


@LONG
@given(long_texts, long_texts)
def test_long_scores_are_the_old_scores(a: str, b: str) -> None:
    assert_same_scores(a, b)
    assert_same_scores(a, b, 150)


def test_many_distinct_units_are_coded_past_one_byte_and_the_surrogates() -> None:
    # More than 256 distinct units (codes past a byte) and, with a large cap, past U+D800.
    a = " ".join(f"w{i}" for i in range(40_000))
    b = " ".join(f"w{i}" for i in range(0, 80_000, 2))
    assert_same_scores(a, b, 100_000)
    chinese = "".join(chr(0x4E00 + i % 20_000) for i in range(30_000))
    assert_same_scores(chinese, chinese[::-1], 100_000)


# --- real answers: every recorded demo answer against production's, alone and concatenated --------

DATA = Path(__file__).resolve().parents[2] / "shadow" / "demo" / "data"


@functools.cache
def demo_answers() -> list[tuple[str, str]]:
    recordings = orjson.loads((DATA / "recordings.json").read_bytes())["models"]
    pairs = []
    for line in (DATA / "events.ndjson").read_bytes().splitlines():
        event = orjson.loads(line)
        if event["response"] is None:
            continue
        production = parse_response(Api(event["api"]), event["response"]).text
        key = recording_key(Api(event["api"]), event["request"])
        for answers in recordings.values():
            answer = answers.get(key)
            if production and answer and answer.get("kind") == "ok" and answer.get("text"):
                pairs.append((production, answer["text"]))
    assert len(pairs) > 50
    return pairs


def test_real_answers_score_as_before() -> None:
    for a, b in demo_answers():
        assert_same_units(text.text_units(a), old.text_units(a))
        assert_same_scores(a, b)
        assert_same_scores(a, b, 40)
        with (
            mock.patch.object(text, "CODED_MIN_PAIRS", 0),
            mock.patch.object(text, "CODED_MIN_PAIRS_CJK", 0),
            mock.patch.object(text, "VECTOR_UNITS_MIN_CHARS", 0),
        ):
            assert_same_units(text.text_units(a, 40), old.text_units(a, 40))
            assert_same_scores(a, b)


@pytest.mark.parametrize("chars", [2_048, 8_192, 50_000])
def test_real_answers_concatenated_score_as_before(chars: int) -> None:
    pairs = demo_answers()
    for start in range(0, len(pairs), max(1, len(pairs) // 6)):
        chosen = list(itertools.islice(itertools.cycle(pairs[start:] + pairs[:start]), 400))
        a = "\n\n".join(p for p, _ in chosen)[:chars]
        b = "\n\n".join(c for _, c in chosen)[: chars * 3 // 2]
        for max_units in (5_000, 300):
            assert_same_units(text.text_units(a, max_units), old.text_units(a, max_units))
            assert_same_scores(a, b, max_units)
