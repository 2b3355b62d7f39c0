"""One CJK definition: the diff's similarity units and the report's word diff split texts the same way."""

from __future__ import annotations

import pytest

from shadow.diff.text import text_units
from shadow.report.html.textdiff import _tokens


def report_words(text: str) -> list[str]:
    tokens, _, _ = _tokens(text, 10_000)
    return [token for _, token in tokens if token.strip() and any(ch.isalnum() for ch in token)]


def diff_words(text: str) -> list[str]:
    return [u if isinstance(u, str) else u.decode() for u in text_units(text).units]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("退款已经处理", ["退", "款", "已", "经", "处", "理"]),  # Han: one unit per character
        ("ご注文ありがとう", ["ご", "注", "文", "あ", "り", "が", "と", "う"]),  # kana too
        ("주문 취소 완료", ["주문", "취소", "완료"]),  # Hangul is written with spaces: words
        ("order 退款 done", ["order", "退", "款", "done"]),
    ],
)
def test_diff_units_and_report_tokens_agree(text: str, words: list[str]) -> None:
    assert diff_words(text) == words
    assert report_words(text) == words
