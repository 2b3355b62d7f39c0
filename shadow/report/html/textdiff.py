"""Word-level differences between two answers, as escaped HTML with ``<del>`` and ``<ins>`` marks.

Words are runs of letters and digits; CJK characters count one each (those scripts put no spaces
between words), punctuation one each. Each side is cut at about ``TEXT_LIMIT_CHARS`` characters,
with a note saying so.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from shadow.cjk import CJK_CHARACTERS
from shadow.report.html.markup import esc

__all__ = ["TEXT_LIMIT_CHARS", "diff_html"]

TEXT_LIMIT_CHARS = 1500

# Scripts without spaces between words: each character is a token of its own, as in the diff's units.
_TOKEN = re.compile(rf"(\s*)([{CJK_CHARACTERS}]|[^\W{CJK_CHARACTERS}]+|[^\w\s])")


def _tokens(text: str, limit: int) -> tuple[list[tuple[str, str]], str, bool]:
    """``(leading whitespace, token)`` pairs covering at most ``limit`` characters, the trailing
    whitespace, and whether the text was cut."""
    tokens: list[tuple[str, str]] = []
    used = 0
    end = 0
    for match in _TOKEN.finditer(text):
        space, token = match.group(1), match.group(2)
        if used + len(space) + len(token) > limit:
            room = limit - used - len(space)
            if room > 0 and not tokens:  # one giant token: show its start rather than nothing
                tokens.append((space, token[:room]))
            return tokens, "", True
        tokens.append((space, token))
        used += len(space) + len(token)
        end = match.end()
    return tokens, text[end:], False


def _marked(tokens: Sequence[tuple[str, str]], tag: str) -> str:
    """Tokens inside one ``<del>``/``<ins>``, keeping the first token's leading space outside."""
    if not tokens:
        return ""
    inner = tokens[0][1] + "".join(space + token for space, token in tokens[1:])
    return f"{esc(tokens[0][0])}<{tag}>{esc(inner)}</{tag}>"


def _plain(tokens: Sequence[tuple[str, str]]) -> str:
    return esc("".join(space + token for space, token in tokens))


def diff_html(production: str, candidate: str, limit: int = TEXT_LIMIT_CHARS) -> tuple[str, str, str, str]:
    """Both texts as escaped HTML with deleted words in ``<del>`` (production side) and inserted
    words in ``<ins>`` (candidate side), plus a truncation note per side ("" when shown whole)."""
    a, a_tail, a_cut = _tokens(production, limit)
    b, b_tail, b_cut = _tokens(candidate, limit)
    matcher = difflib.SequenceMatcher(None, [t for _, t in a], [t for _, t in b], autojunk=False)
    left, right = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(_plain(a[i1:i2]))
            right.append(_plain(b[j1:j2]))
        else:
            left.append(_marked(a[i1:i2], "del"))
            right.append(_marked(b[j1:j2], "ins"))
    left.append(esc(a_tail))
    right.append(esc(b_tail))
    return "".join(left), "".join(right), _cut_note(production, a, a_cut), _cut_note(candidate, b, b_cut)


def _cut_note(text: str, tokens: Sequence[tuple[str, str]], cut: bool) -> str:
    if not cut:
        return ""
    shown = sum(len(space) + len(token) for space, token in tokens)
    return f"Truncated: showing the first {shown:,} of {len(text):,} characters."
