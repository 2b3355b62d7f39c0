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

ASCII texts (most answers) take a byte-level path: its units are ``bytes`` and it
reads a few edge cases differently ("a--b" is one unit there, two on the Unicode
path). A text on one path compared with a text on the other keeps the scores it has
always had: the token-set score finds no shared unit (bytes never equal str), and
Indel and Levenshtein match units as rapidfuzz hashes list elements (ASCII words of
two or more letters match across the paths, one-letter words do not). Long texts on
the Unicode path are cut with numpy instead of regular expressions, into the same units.

Indel and Levenshtein cost the product of the two lengths, so similarity compares at
most the first ``max_units`` units of each text (read from a prefix of the text); word
counts still cover the whole text, counted without building the units. Past a few
hundred thousand unit pairs (a few thousand with Chinese or Japanese units), the two
scores run on strings of codes, one per distinct unit, rather than on lists of units:
rapidfuzz hashes every list element on every call and looks the hashes up in hash
maps, while on a string of small codes it reads tables. The scores depend only on
which units are equal, so they are the same (lists compare units by their 64-bit
hash, codes by equality: they differ only if two distinct units of one pair share a
hash, which Python's keyed string hash makes vanishingly rare).
"""

from __future__ import annotations

import codecs
import re
import string
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count
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


# Units are read from at most this many characters per unit compared (English words average
# about six characters with their space, so the prefix holds every unit compared).
CHARS_PER_UNIT = 8

# Unicode-path texts at least this long are cut into units with numpy: the regular expressions
# cost about 0.3 µs per character, numpy a fixed ~50 µs and a few ns per character.
VECTOR_UNITS_MIN_CHARS = 256

# Indel and Levenshtein run on strings of codes (see the module docstring) from this many unit
# pairs (len(a) * len(b)) on; below it, coding the units costs more than it saves. With Chinese or
# Japanese characters among the units, rapidfuzz's lists are slower still and coding pays sooner.
CODED_MIN_PAIRS = 300_000
CODED_MIN_PAIRS_CJK = 5_000

# A CJK bigram's key: its first character's code point shifted past any code point, plus the second's.
_BIGRAM_SHIFT = 21


@dataclass(frozen=True, slots=True)
class TextUnits:
    """A text cut into comparison units (computed once per output, shared by every comparison).

    ``words`` counts the whole text's units; ``units`` and ``bag`` may hold only the first
    ones, and then ``cut`` is true. Units are ``bytes`` on the byte-level path, ``str`` otherwise.
    """

    units: Sequence[str] | Sequence[bytes]
    words: int
    cut: bool = False
    # Chinese/Japanese characters among the units, and what their runs put in the bag (lone
    # characters and bigrams), as sorted distinct keys (see _cjk_keys): None without any.
    cjk: tuple[Any, Any] | None = None
    # Computed on first use and kept, as production's side serves every candidate: the bag and the
    # units' codes (see _codes).
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def bag(self) -> frozenset[str] | frozenset[bytes]:
        """What the token-set score compares: the distinct units, but Chinese/Japanese runs as
        their bigrams (a lone character as itself)."""
        bag = self.memo.get("bag")
        if bag is None:
            if self.cjk is None:
                bag = frozenset(self.units)
            else:
                characters, entries = self.cjk
                words = set(self.units).difference(map(chr, characters.tolist()))
                bag = frozenset(words.union(map(_entry_text, entries.tolist())))
            self.memo["bag"] = bag
        return bag


def _entry_text(key: int) -> str:
    if key >> _BIGRAM_SHIFT:
        return chr(key >> _BIGRAM_SHIFT) + chr(key & ((1 << _BIGRAM_SHIFT) - 1))
    return chr(key)


EMPTY_UNITS = TextUnits([], 0)


def _placeholder(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)
    return "\x1a" * (error.end - error.start), error.end


codecs.register_error("shadow-placeholder", _placeholder)


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
    units, cjk, total, bag = _units(text, max_units)
    memo = {} if bag is None else {"bag": bag}
    if total == len(units) and text is whole:
        return TextUnits(units, total, cjk=cjk, memo=memo)
    return TextUnits(units, total if text is whole else count_units(whole), cut=True, cjk=cjk, memo=memo)


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
        encoded = text.encode("ascii", "shadow-placeholder")
    else:
        return None
    raw = b" " + encoded.translate(_ASCII_TRANSLATE) + b" "
    # Quotes and dashes at the edge of a word are punctuation, not part of it: " '", "' ", " -" and
    # "- " become two spaces, in this order (a missing byte skips its two searches).
    if b"'" in raw:
        raw = raw.replace(b" '", b"  ").replace(b"' ", b"  ")
    if b"-" in raw:
        raw = raw.replace(b" -", b"  ").replace(b"- ", b"  ")
    return raw


def _folded(text: str) -> str:
    if _COMPATIBILITY.search(text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def _units(text: str, max_units: int | None) -> tuple[list[Any], tuple[Any, Any] | None, int, frozenset[str] | None]:
    """(the first ``max_units`` units, their CJK keys, how many units ``text`` holds, their bag if known)."""
    text = _plain(text)
    raw = _fast_bytes(text)
    if raw is not None:
        units = raw.split()
        total = len(units)
        if max_units is not None and total > max_units:
            del units[max_units:]
        return units, None, total, None
    if len(text) >= VECTOR_UNITS_MIN_CHARS:
        return *units_vectorized(text, max_units), None
    sequence, bag, total = units_regex(_folded(text), max_units)
    return sequence, (_cjk_keys(sequence, bag) if bag is not None else None), total, bag


def units_regex(folded: str, max_units: int | None) -> tuple[list[str], frozenset[str] | None, int]:
    """(units, bag when CJK runs were read, how many units) of a case-folded text on the Unicode path."""
    limit = max_units if max_units is not None else sys.maxsize
    sequence: list[str] = []
    bag: set[str] = set()
    cjk = False
    # Split keeps the CJK runs at odd positions and the text between them at even ones.
    for i, part in enumerate(_CJK_RUNS.split(folded)):
        if not part:
            continue
        room = limit - len(sequence)
        if i % 2:
            cjk = True
            kept = part[:room]
            sequence.extend(kept)
            if len(kept) == 1:
                bag.add(kept)
            else:
                bag.update(map(str.__add__, kept, kept[1:]))
            if len(kept) < len(part):
                return sequence, frozenset(bag), count_units_regex(folded)
        else:
            words = _WORD.findall(part)
            cut = len(words) > room
            if cut:
                del words[room:]
            sequence.extend(words)
            bag.update(words)
            if cut:
                return sequence, frozenset(bag) if cjk else None, count_units_regex(folded)
    return sequence, frozenset(bag) if cjk else None, len(sequence)


def _cjk_keys(units: list[str], bag: frozenset[str]) -> tuple[Any, Any] | None:
    """The CJK keys of :class:`TextUnits` from the units and bag (short texts)."""
    import numpy as np  # noqa: PLC0415 -- see _classes

    characters = sorted({ord(u) for u in units if len(u) == 1 and _CJK_CHARACTER.match(u)})
    if not characters:
        return None
    # Words hold no CJK character: the bag's strings that start with one are lone characters and bigrams.
    entries = sorted(
        ord(e[0]) << _BIGRAM_SHIFT | ord(e[1]) if len(e) == 2 else ord(e) for e in bag if _CJK_CHARACTER.match(e)
    )
    return np.array(characters, dtype=np.int64), np.array(entries, dtype=np.int64)


def units_vectorized(text: str, max_units: int | None) -> tuple[list[str], tuple[Any, Any] | None, int]:
    """The units of ``text`` on the Unicode path (the case-folded :func:`units_regex`) in numpy.

    Each character is case-folded and classified at once; characters outside units become spaces,
    and a space goes before a unit that follows another without one (a CJK character, or a word
    after one); splitting that on whitespace gives the units (no unit holds whitespace). The bag
    is kept as keys: the CJK characters among the units, and the lone CJK characters and bigrams
    of CJK runs, up to where the last unit kept ends.
    """
    import numpy as np  # noqa: PLC0415 -- see _classes

    codes = _folded_codes(text)
    classes = _classes(codes)
    cjk = classes == _CJK
    word = _inside_words(codes, classes == _ALNUM)
    kept = word | cjk
    starts = kept.copy()  # the first character of each unit
    starts[1:] &= ~(word[1:] & word[:-1])
    total = int(np.count_nonzero(starts))
    if max_units is not None and total > max_units:
        end = int(np.flatnonzero(starts)[max_units])  # where the first unit left out starts
        codes, cjk, kept, starts = codes[:end], cjk[:end], kept[:end], starts[:end]
    glued = starts.copy()  # the first characters that follow the previous unit's last character
    glued[:1] = False
    glued[1:] &= kept[:-1]
    spaced = np.where(kept, codes, 0x20)
    where = np.flatnonzero(glued)
    if len(where):
        # np.insert(spaced, where, 0x20), for less
        at = where + np.arange(len(where))
        others = np.ones(len(spaced) + len(where), dtype=bool)
        others[at] = False
        widened = np.empty(len(others), dtype=spaced.dtype)
        widened[others] = spaced
        widened[at] = 0x20
        spaced = widened
    units = _decoded(spaced).split()
    positions = np.flatnonzero(cjk)
    if not len(positions):
        return units, None, total
    characters = codes[positions].astype(np.int64)
    # Consecutive positions are CJK runs: a bigram for each pair, a lone character where none.
    paired = positions[1:] == positions[:-1] + 1
    alone = np.ones(len(positions), dtype=bool)
    alone[1:] &= ~paired
    alone[:-1] &= ~paired
    bigrams = characters[:-1][paired] << _BIGRAM_SHIFT | characters[1:][paired]
    return units, (_distinct(characters), _distinct(np.concatenate((characters[alone], bigrams)))), total


def _distinct(keys: Any) -> Any:
    """np.unique(keys), for less."""
    import numpy as np  # noqa: PLC0415 -- see _classes

    keys = np.sort(keys)
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return keys[first]


def _folded_codes(text: str) -> Any:
    """The code points of :func:`_folded` ``(text)``: case-folded by table, unless a character needs more."""
    import numpy as np  # noqa: PLC0415 -- see _classes

    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    folds = _bmp_tables().folds
    if codes.max() < 0x10000:
        folded = np.take(folds, codes)
        if folded.max() != _UNFOLDABLE:
            return folded
    else:
        low = codes < 0x10000
        folded = codes.copy()
        folded[low] = np.take(folds, codes[low])
        astral = np.unique(codes[~low]).tolist()
        if folded.max() != _UNFOLDABLE and all(chr(c).casefold() == chr(c) for c in astral):
            return folded
    # NFKC, or a character that folds to several (ß → ss): fold the string.
    return np.frombuffer(_folded(text).encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _decoded(codes: Any) -> str:
    """The text of an array of code points (none a surrogate)."""
    return codes.tobytes().decode("utf-32-le")  # type: ignore[no-any-return]


def _inside_words(codes: Any, alnum: Any) -> Any:
    """Characters inside words: letters and digits, and ``'``, ``’`` or ``-`` between two of them."""
    inside = alnum.copy()
    if len(codes) > 2:
        middle = codes[1:-1]
        joiner = (middle == _JOINERS[0]) | (middle == _JOINERS[1]) | (middle == _JOINERS[2])
        inside[1:-1] |= joiner & alnum[:-2] & alnum[2:]
    return inside


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


@dataclass(frozen=True, slots=True)
class _BmpTables:
    """Per code point of the Basic Multilingual Plane (built once, read-only)."""

    classes: Any  # _OTHER, _ALNUM or _CJK
    folds: Any  # the case-folded code point, or _UNFOLDABLE: casefold gives several, or _folded applies NFKC


_UNFOLDABLE = 0xFFFF_FFFF
_tables: list[_BmpTables] = []


def _bmp_tables() -> _BmpTables:
    import numpy as np  # noqa: PLC0415 -- only long non-ASCII texts need it; shadow diff starts faster without

    if not _tables:
        bmp = "".join(map(chr, range(0x10000)))
        classes = np.fromiter(map(str.isalnum, bmp), dtype=np.uint8, count=0x10000)
        classes[[m.start() for m in _CJK_CHARACTER.finditer(bmp)]] = _CJK
        folds = np.array([ord(f) if len(f) == 1 else _UNFOLDABLE for f in map(str.casefold, bmp)], dtype=np.uint32)
        folds[[m.start() for m in _COMPATIBILITY.finditer(bmp)]] = _UNFOLDABLE
        _tables.append(_BmpTables(classes, folds))
    return _tables[0]


def _classes(codes: Any) -> Any:
    """_OTHER, _ALNUM or _CJK per code point: by table in the BMP, a lookup per distinct other."""
    import numpy as np  # noqa: PLC0415 -- see _bmp_tables

    table = _bmp_tables().classes
    if not len(codes) or codes.max() < 0x10000:
        return np.take(table, codes)
    classes = np.zeros(len(codes), dtype=np.uint8)
    low = codes < 0x10000
    classes[low] = np.take(table, codes[low])
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
    import numpy as np  # noqa: PLC0415 -- see _classes

    codes = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    classes = _classes(codes)
    inside = _inside_words(codes, classes == _ALNUM)
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
    pairs = len(a.units) * len(b.units)
    least = CODED_MIN_PAIRS if a.cjk is None and b.cjk is None else CODED_MIN_PAIRS_CJK
    # Units of the two paths (bytes and str) only compare as rapidfuzz hashes them: on lists.
    if pairs >= least and type(a.units[0]) is type(b.units[0]) and len(a.units) + len(b.units) <= _MAX_CODES:
        return coded_similarity(a, b)
    shared = len(a.bag & b.bag)
    return (
        Indel.normalized_similarity(a.units, b.units),
        Levenshtein.normalized_similarity(a.units, b.units),
        2 * shared / (len(a.bag) + len(b.bag)),
    )


# Codes become code points (skipping the surrogates); more units than this stay on lists.
_MAX_CODES = 0x10FFFF - 0x800
_NO_CJK: tuple[Any, Any] = ((), ())


def coded_similarity(a: TextUnits, b: TextUnits) -> tuple[float, float, float]:
    """:func:`similarity_of` of two non-empty texts whose units are of one type, on strings of codes.

    Each distinct unit gets a code: first the position where it first occurs in ``a`` (kept with
    ``a``, which is production's side and serves every candidate), then past ``len(a.units)`` in
    ``b``. Indel and Levenshtein only ask whether a unit of ``a`` equals a unit of ``b``, so the
    units only one text holds, which never match, all take one code per text (0 in ``a``, 1 in
    ``b``), and the shared ones are numbered from 2, most frequent first: most units then take
    codes below 256, which rapidfuzz looks up in a table rather than a hash map.
    """
    import numpy as np  # noqa: PLC0415 -- see _classes

    first, codes_a = _codes(a)
    seen = first.copy()
    codes_b = np.fromiter(map(seen.setdefault, b.units, count(len(a.units))), dtype=np.int64, count=len(b.units))
    in_a = np.bincount(codes_a, minlength=len(a.units) + len(b.units))
    in_b = np.bincount(codes_b, minlength=len(a.units) + len(b.units))
    shared = np.flatnonzero((in_a > 0) & (in_b > 0))
    rank = np.zeros(len(in_a), dtype=np.int64)
    rank[in_b > 0] = 1
    frequency = in_a[shared] + in_b[shared]
    # Most frequent first (stable, so ties keep their order; int16 when the counts fit: a radix sort).
    order = np.argsort(
        np.negative(frequency.astype(np.int16 if len(frequency) and frequency.max() < 2**15 else np.int64)),
        kind="stable",
    )
    rank[shared[order]] = np.arange(2, len(shared) + 2)
    ranked = np.concatenate((rank[codes_a], rank[codes_b]))
    seq_a: str | bytes
    seq_b: str | bytes
    if len(shared) + 2 <= 256:
        as_bytes = ranked.astype(np.uint8).tobytes()
        seq_a, seq_b = as_bytes[: len(a.units)], as_bytes[len(a.units) :]
    else:
        as_text = ranked.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
        seq_a, seq_b = as_text[: len(a.units)], as_text[len(a.units) :]
    # The bags, from the codes; where CJK runs put bigrams in the bag instead of their characters,
    # those are counted apart.
    common, sizes = len(shared), len(first) + int(np.count_nonzero(in_b))
    if a.cjk is not None or b.cjk is not None:
        characters_a, entries_a = a.cjk or _NO_CJK
        characters_b, entries_b = b.cjk or _NO_CJK
        common += len(np.intersect1d(entries_a, entries_b, assume_unique=True))
        common -= len(np.intersect1d(characters_a, characters_b, assume_unique=True))
        sizes += len(entries_a) + len(entries_b) - len(characters_a) - len(characters_b)
    return (
        Indel.normalized_similarity(seq_a, seq_b),
        Levenshtein.normalized_similarity(seq_a, seq_b),
        2 * common / sizes,
    )


def _codes(units: TextUnits) -> tuple[dict[Any, int], Any]:
    """Each distinct unit's first position, and the units as those positions (computed once)."""
    import numpy as np  # noqa: PLC0415 -- see _classes

    memo = units.memo.get("codes")
    if memo is None:
        first: dict[Any, int] = {}
        codes = np.fromiter(map(first.setdefault, units.units, count()), dtype=np.int64, count=len(units.units))
        memo = units.memo["codes"] = (first, codes)
    return memo


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
