"""Text length and similarity: CJK-aware word counts, normalization, similarity scores."""

from __future__ import annotations

import pytest

from shadow.diff.text import (
    VECTOR_COUNT_MIN_CHARS,
    count_units,
    count_words,
    normalize_text,
    similarity_of,
    similarity_scores,
    text_units,
)


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


# --- long texts: units compared up to a cap, words counted over the whole text ------------------


@pytest.mark.parametrize(
    "text",
    [
        "Your refund was processed. " * 2_000,
        "您的退款已处理。" * 5_000,
        "我的 invoice 为什么还没到？order #A-1234 " * 2_000,
        "café-au-lait l’été " * 5_000,
        "x" * 1_048_576,
    ],
    ids=["english", "chinese", "mixed", "accents", "1MiB-without-spaces"],
)
def test_a_capped_text_keeps_its_first_units_and_its_whole_word_count(text: str) -> None:
    whole = text_units(text)
    capped = text_units(text, max_units=100)
    assert capped.words == whole.words == count_units(text)
    assert capped.cut
    # The units compared are the first ones; the last may be cut short with the text (800 characters).
    *head, last = capped.units
    assert head == list(whole.units[: len(head)])
    assert whole.units[len(head)].startswith(last)


def test_an_uncapped_text_is_not_cut() -> None:
    units = text_units("Short answer, three words? No: five.", max_units=100)
    assert (units.words, units.cut) == (6, False)


def test_similarity_of_capped_texts_compares_their_prefixes() -> None:
    a = " ".join(["same"] * 50 + ["left"] * 500)
    b = " ".join(["same"] * 50 + ["right"] * 5)
    assert similarity_of(text_units(a, 50), text_units(b, 50)) == (1.0, 1.0, 1.0)
    assert similarity_of(text_units(a), text_units(b))[0] < 0.5


def test_long_non_ascii_texts_are_counted_the_same_vectorized() -> None:
    piece = "我的 invoice 还没到？It's a well-known e-mail issue — ﬁne, Ｈｅｌｌｏ 𠀀 _x_ -y- a--b "
    text = piece * (VECTOR_COUNT_MIN_CHARS // len(piece) + 1)
    short = count_units(piece)
    assert count_units(text) == short * (len(text) // len(piece))
