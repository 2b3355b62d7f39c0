"""The similarity units and scores as shadow computed them before issue 10 (commit bdf3166).

Kept verbatim (but for this docstring, the error handler's name and two noqa comments) as the oracle of
``test_text_equivalence.py``: the faster ``shadow.diff.text`` must give the same units, bags,
word counts and scores. Do not optimize this module.
"""

from __future__ import annotations

import codecs
import re
import string
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Indel, Levenshtein

from shadow.cjk import CJK_CHARACTERS

_CJK_RUNS = re.compile(rf"([{CJK_CHARACTERS}]+)")
_CJK_CHARACTER = re.compile(rf"[{CJK_CHARACTERS}]")
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
# Whitespace (what bytes.split splits on) to a space, any other byte to "x".
_SPACE_OR_UNIT = bytes(0x20 if chr(b) in " \t\n\r\x0b\x0c" else ord("x") for b in range(256))
_EDGES = (b" '", b"' ", b" -", b"- ")


# Units are read from at most this many characters per unit compared (English words average
# about six characters with their space, so the prefix holds every unit compared).
CHARS_PER_UNIT = 8


@dataclass(frozen=True, slots=True)
class TextUnits:
    """A text cut into comparison units (computed once per output, shared by every comparison).

    ``words`` counts the whole text's units; ``units`` and ``bag`` may hold only the first
    ones, and then ``cut`` is true.
    """

    units: Sequence[str] | Sequence[bytes]
    bag: frozenset[str] | frozenset[bytes]  # distinct set units for the token-set score
    words: int
    cut: bool = False


EMPTY_UNITS = TextUnits([], frozenset(), 0)


def _placeholder(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)
    return "\x1a" * (error.end - error.start), error.end


codecs.register_error("shadow-reference-placeholder", _placeholder)


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed to single spaces, trimmed (for display and tests)."""
    if text.isascii():
        return " ".join(text.lower().split())
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_units(text: str, max_units: int | None = None) -> TextUnits:
    """Cut ``text`` into units (see the module docstring); at most ``max_units`` of them, if given."""
    if not text:
        return EMPTY_UNITS
    whole = text
    if max_units is not None and len(text) > max_units * CHARS_PER_UNIT:
        text = text[: max_units * CHARS_PER_UNIT]
    units, bag, complete = _units(text, max_units)
    if complete and text is whole:
        return TextUnits(units, bag, len(units))
    return TextUnits(units, bag, count_units(whole), cut=True)


def _plain(text: str) -> str:
    if not text.isascii():
        # English with typographic quotes and dashes is still ASCII words: keep it on the fast path.
        for typographic, plain in _TYPOGRAPHIC:
            if typographic in text:
                text = text.replace(typographic, plain)
    return text


def _fast_bytes(text: str) -> bytes | None:
    """The text as bytes for the byte-level path (None when it needs the Unicode path)."""
    if text.isascii():
        encoded = text.encode()
    elif len(text.encode()) - len(text) <= len(text) // 50 and not _CJK_RUNS.search(text):
        # A few accented letters or emoji in space-delimited text: stand each for a placeholder
        # byte that stays inside its word ("café" → one word) and keep the fast path.
        encoded = text.encode("ascii", "shadow-reference-placeholder")
    else:
        return None
    raw = b" " + encoded.translate(_ASCII_TRANSLATE) + b" "
    # Quotes and dashes at the edge of a word are punctuation, not part of it.
    for edge in _EDGES:
        if edge in raw:
            raw = raw.replace(edge, b"  ")
    return raw


def _folded(text: str) -> str:
    if _COMPATIBILITY.search(text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def _units(text: str, max_units: int | None) -> tuple[list[Any], frozenset[Any], bool]:
    """(units, bag, every unit of ``text`` kept)."""
    text = _plain(text)
    raw = _fast_bytes(text)
    if raw is not None:
        units = raw.split()
        complete = max_units is None or len(units) <= max_units
        if not complete:
            del units[max_units:]
        return units, frozenset(units), complete
    limit = max_units if max_units is not None else sys.maxsize
    sequence: list[str] = []
    bag: set[str] = set()
    # Split keeps the CJK runs at odd positions and the text between them at even ones.
    for i, part in enumerate(_CJK_RUNS.split(_folded(text))):
        if not part:
            continue
        room = limit - len(sequence)
        if i % 2:
            kept = part[:room]
            sequence.extend(kept)
            if len(kept) == 1:
                bag.add(kept)
            else:
                bag.update(map(str.__add__, kept, kept[1:]))
            if len(kept) < len(part):
                return sequence, frozenset(bag), False
        else:
            words = _WORD.findall(part)
            cut = len(words) > room
            if cut:
                del words[room:]
            sequence.extend(words)
            bag.update(words)
            if cut:
                return sequence, frozenset(bag), False
    return sequence, frozenset(bag), True


def count_units(text: str) -> int:
    """How many units :func:`text_units` would make of ``text``, without making them (for long texts)."""
    if not text:
        return 0
    text = _plain(text)
    raw = _fast_bytes(text)
    if raw is not None:
        # Units are runs of non-space bytes, and raw starts with a space: count where one starts,
        # without making a bytes object per unit.
        return raw.translate(_SPACE_OR_UNIT).count(b" x")
    folded = _folded(text)
    if len(folded) >= VECTOR_COUNT_MIN_CHARS:
        return count_units_vectorized(folded)
    return count_units_regex(folded)


def count_units_regex(folded: str) -> int:
    """Units of a case-folded text on the Unicode path: each CJK character, and the words between them."""
    # The CJK characters are counted and stand for spaces; subn counts without a match object or a
    # string per unit.
    spaced, cjk = _CJK_CHARACTER.subn(" ", folded)
    return cjk + _WORD.subn("", spaced)[1]


# Long non-ASCII texts are counted with numpy: the regular expressions cost about 0.3 µs per unit.
VECTOR_COUNT_MIN_CHARS = 32_768
_JOINERS = (ord("'"), ord("’"), ord("-"))
_OTHER, _ALNUM, _CJK = 0, 1, 2
_bmp_classes: Any = None


def _classes(codes: Any) -> Any:
    """_OTHER, _ALNUM or _CJK per code point: a table for the BMP (built once), a lookup per distinct other."""
    import numpy as np

    global _bmp_classes  # noqa: PLW0603 -- a lazily built, read-only table
    if _bmp_classes is None:
        bmp = "".join(map(chr, range(0x10000)))
        table = np.fromiter(map(str.isalnum, bmp), dtype=np.uint8, count=0x10000)
        table[[m.start() for m in _CJK_CHARACTER.finditer(bmp)]] = _CJK
        _bmp_classes = table
    classes = np.zeros(len(codes), dtype=np.uint8)
    low = codes < 0x10000
    classes[low] = _bmp_classes[codes[low]]
    if not low.all():
        astral, where = np.unique(codes[~low], return_inverse=True)
        looked_up = np.array([_class_of(chr(c)) for c in astral.tolist()], dtype=np.uint8)
        classes[~low] = looked_up[where]
    return classes


def _class_of(char: str) -> int:
    if _CJK_CHARACTER.match(char):
        return _CJK
    return _ALNUM if char.isalnum() else _OTHER


def count_units_vectorized(folded: str) -> int:
    """:func:`count_units_regex` in numpy.

    A word is a run of letters or digits (what ``[^\\W_]`` matches) in which ``'``, ``’`` or ``-``
    may stand between two of them; each CJK character is a unit of its own.
    """
    import numpy as np

    codes = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    classes = _classes(codes)
    word = classes == _ALNUM
    inside = word.copy()
    if len(codes) > 2:
        middle = codes[1:-1]
        joiner = (middle == _JOINERS[0]) | (middle == _JOINERS[1]) | (middle == _JOINERS[2])
        inside[1:-1] |= joiner & word[:-2] & word[2:]
    starts = inside.copy()
    starts[1:] &= ~inside[:-1]
    return int(np.count_nonzero(classes == _CJK)) + int(np.count_nonzero(starts))


def count_words(text: str) -> int:
    """Words in ``text``; each Chinese/Japanese character counts as one word."""
    return count_units(text)


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
