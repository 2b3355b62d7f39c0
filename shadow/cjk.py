"""The scripts written without spaces between words, where every character counts as one word.

Han (with its extensions and compatibility ideographs), Hiragana and Katakana. Hangul is not
among them: Korean puts spaces between words. The diff's similarity units and the HTML report's
word diff both read this one definition, so a text is split the same way where it is scored and
where it is shown.
"""

from __future__ import annotations

CJK_CHARACTERS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\U00020000-\U0002ffff"
"""A regular-expression character-class body (use it inside ``[...]``)."""
