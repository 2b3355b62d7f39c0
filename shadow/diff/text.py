"""Length and similarity families: counting and comparing answer texts in any script.

Texts are normalized (Unicode NFKC, case-folded, punctuation and whitespace runs
treated as separators) and cut into *units*: a run of letters or digits (with
inner ``'`` and ``-``, so "it's" and "e-mail" are one word) in space-delimited
scripts, and each Chinese or Japanese character, since those scripts put no spaces
between words. Units are what words are counted in and what similarity is
measured on: rapidfuzz's normalized Indel and Levenshtein similarities over the
unit sequences, and a token-set score (Dice overlap) of the unit sets, where Chinese
and Japanese runs contribute character bigrams — two faithful Chinese answers share
bigrams, unrelated ones share little beyond common characters.

ASCII texts (most answers) take a byte-level fast path with the same result.
"""

from __future__ import annotations

import codecs
import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Indel, Levenshtein

from shadow.cjk import CJK_CHARACTERS

_CJK_RUNS = re.compile(rf"([{CJK_CHARACTERS}]+)")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_SPACE = re.compile(r"\s+")
_TYPOGRAPHIC = (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("—", " "), ("–", "-"), ("…", "..."), ("\u00a0", " "))
# Characters NFKC changes in ways that matter to words: fullwidth letters and digits, halfwidth
# katakana, ligatures, enclosed and squared forms. Fullwidth punctuation (everywhere in Chinese)
# is dropped as punctuation anyway, so texts without these skip the costly normalization.
_COMPATIBILITY = re.compile(
    "[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff65-\uff9f\ufb00-\ufb06\u2460-\u24ff\u3200-\u33ff]"
)

# ASCII fast path: one table lower-cases letters and turns punctuation (but ' and -) into spaces.
_ASCII_TABLE = bytearray(range(256))
for _c in string.ascii_uppercase:
    _ASCII_TABLE[ord(_c)] = ord(_c.lower())
for _c in string.punctuation:
    if _c not in "'-":
        _ASCII_TABLE[ord(_c)] = ord(" ")
_ASCII_TRANSLATE = bytes(_ASCII_TABLE)
_EDGES = (b" '", b"' ", b" -", b"- ")


@dataclass(frozen=True, slots=True)
class TextUnits:
    """A text cut into comparison units (computed once per output, shared by every comparison)."""

    units: Sequence[str] | Sequence[bytes]
    bag: frozenset[str] | frozenset[bytes]  # distinct set units for the token-set score

    @property
    def words(self) -> int:
        return len(self.units)


EMPTY_UNITS = TextUnits([], frozenset())


def _placeholder(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)
    return "\x1a" * (error.end - error.start), error.end


codecs.register_error("shadow-placeholder", _placeholder)


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed to single spaces, trimmed (for display and tests)."""
    if text.isascii():
        return " ".join(text.lower().split())
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_units(text: str) -> TextUnits:
    """Cut ``text`` into units (see the module docstring)."""
    if not text:
        return EMPTY_UNITS
    if not text.isascii():
        # English with typographic quotes and dashes is still ASCII words: keep it on the fast path.
        for typographic, plain in _TYPOGRAPHIC:
            if typographic in text:
                text = text.replace(typographic, plain)
    encoded: bytes | None = None
    if text.isascii():
        encoded = text.encode()
    elif len(text.encode()) - len(text) <= len(text) // 50 and not _CJK_RUNS.search(text):
        # A few accented letters or emoji in space-delimited text: stand each for a placeholder
        # byte that stays inside its word ("café" → one word) and keep the fast path.
        encoded = text.encode("ascii", "shadow-placeholder")
    if encoded is not None:
        raw = b" " + encoded.translate(_ASCII_TRANSLATE) + b" "
        # Quotes and dashes at the edge of a word are punctuation, not part of it.
        for edge in _EDGES:
            if edge in raw:
                raw = raw.replace(edge, b"  ")
        units = raw.split()
        return TextUnits(units, frozenset(units))
    if _COMPATIBILITY.search(text):
        text = unicodedata.normalize("NFKC", text)
    sequence: list[str] = []
    bag: set[str] = set()
    # Split keeps the CJK runs at odd positions and the text between them at even ones.
    for i, part in enumerate(_CJK_RUNS.split(text.casefold())):
        if i % 2:
            sequence.extend(part)
            if len(part) == 1:
                bag.add(part)
            else:
                bag.update(map(str.__add__, part, part[1:]))
        elif part:
            words = _WORD.findall(part)
            sequence.extend(words)
            bag.update(words)
    return TextUnits(sequence, frozenset(bag))


def count_words(text: str) -> int:
    """Words in ``text``; each Chinese/Japanese character counts as one word."""
    return text_units(text).words


def similarity_of(a: TextUnits, b: TextUnits) -> tuple[float, float, float]:
    """(Indel similarity, Levenshtein similarity, token-set score) of two unit sequences, each in [0, 1].

    Indel and Levenshtein are rapidfuzz's normalized similarities over the unit sequences.
    The token-set score is the Dice overlap of the unit sets, 2|A∩B| / (|A|+|B|): unlike
    rapidfuzz's token_set_ratio, it does not give 1.0 to an answer whose words are merely a
    subset of the other's (a truncated answer), and it costs a set intersection.
    Two empty texts are identical (1.0); an empty and a non-empty text score 0.
    """
    if a.units == b.units:
        return 1.0, 1.0, 1.0
    if not a.units or not b.units:
        return 0.0, 0.0, 0.0
    shared = len(a.bag & b.bag)
    return (
        Indel.normalized_similarity(a.units, b.units),
        Levenshtein.normalized_similarity(a.units, b.units),
        2 * shared / (len(a.bag) + len(b.bag)),
    )


def similarity_scores(a: str, b: str) -> tuple[float, float, float]:
    """:func:`similarity_of` for two texts."""
    return similarity_of(text_units(a), text_units(b))


def ratio(candidate: float | int | None, production: float | int | None) -> float | None:
    """candidate / production; None when either is unknown or production is zero (unless both are)."""
    if candidate is None or production is None:
        return None
    if production == 0:
        return 1.0 if candidate == 0 else None
    return candidate / production
