"""Length and similarity families: counting and comparing answer texts in any script.

Words: a run of letters or digits in space-delimited scripts is one word; each
Chinese or Japanese character is one word (those scripts put no spaces between
words). Similarity compares normalized text (NFKC, case-folded, whitespace
collapsed) with rapidfuzz; the token-set score uses words for space-delimited
scripts and character bigrams for Chinese/Japanese runs, so two faithful Chinese
answers share units while unrelated ones do not.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, Levenshtein

# Han (incl. extensions A and compatibility ideographs), Hiragana, Katakana.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\U00020000-\U0002ffff"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}_]+(?:['’.-][^\W{_CJK}_]+)*")
_UNIT = re.compile(rf"[{_CJK}]+|[^\W{_CJK}_]+")
_CJK_RUN = re.compile(rf"[{_CJK}]")
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed to single spaces, trimmed."""
    if text.isascii():
        return " ".join(text.lower().split())
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def count_words(text: str) -> int:
    """Words in ``text``; each Chinese/Japanese character counts as one word."""
    return len(_WORD.findall(text))


def units(normalized: str) -> list[str]:
    """Comparison units of normalized text: words, and bigrams inside Chinese/Japanese runs."""
    out: list[str] = []
    for match in _UNIT.finditer(normalized):
        unit = match.group()
        if _CJK_RUN.match(unit):
            if len(unit) == 1:
                out.append(unit)
            else:
                out.extend(unit[i : i + 2] for i in range(len(unit) - 1))
        else:
            out.append(unit)
    return out


def similarity_scores(a: str, b: str) -> tuple[float, float, float]:
    """(Indel similarity, Levenshtein similarity, token-set score) of two texts, each in [0, 1].

    Two empty texts are identical (1.0); an empty and a non-empty text score 0.
    """
    na, nb = normalize_text(a), normalize_text(b)
    if na == nb:
        return 1.0, 1.0, 1.0
    if not na or not nb:
        return 0.0, 0.0, 0.0
    indel = Indel.normalized_similarity(na, nb)
    levenshtein = Levenshtein.normalized_similarity(na, nb)
    ua, ub = units(na), units(nb)
    token_set = fuzz.token_set_ratio(" ".join(ua), " ".join(ub), processor=None) / 100.0 if ua and ub else 0.0
    return indel, levenshtein, token_set


def ratio(candidate: float | int | None, production: float | int | None) -> float | None:
    """candidate / production; None when either is unknown or production is zero (unless both are)."""
    if candidate is None or production is None:
        return None
    if production == 0:
        return 1.0 if candidate == 0 else None
    return candidate / production
