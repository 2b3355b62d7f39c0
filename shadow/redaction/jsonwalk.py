"""Redaction inside JSON: every string (keys too) through the rules, values at configured paths replaced.

The walk is iterative (an explicit stack: no depth reaches Python's recursion limit; orjson itself
refuses documents nested deeper than 1024) and builds a new document of the same shape: a string stays
a string, a number a number (a card number written as a JSON number becomes a same-length pseudonym
that fails the Luhn check), ``true``/``false``/``null`` stay.

Paths (:mod:`shadow.jsonpath`) are matched on the way down; every scalar at or below a matched path
is replaced by a ``[FIELD:...]`` token (an int by a same-length int, a float by 0.0).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from shadow.jsonpath import ANY, JsonPath
from shadow.redaction.tokens import Pseudonyms, luhn_valid

_FIELD_TOKEN = re.compile(r"\[FIELD:[a-p]{12}\]")

# (path index, step index) pairs: how far each path has matched on the way to a node.
States = frozenset[tuple[int, int]]


def _advance(paths: tuple[JsonPath, ...], states: States, key: object) -> tuple[States, bool]:
    """The states of a child reached through ``key`` (a str or an int index), and whether a path ends there."""
    result: set[tuple[int, int]] = set()
    matched = False
    for p, s in states:
        step = paths[p].steps[s]
        if step.descendant:
            result.add((p, s))  # still looking deeper
        if step.key is ANY or step.key == key:
            if s + 1 == len(paths[p].steps):
                matched = True
            else:
                result.add((p, s + 1))
    return frozenset(result), matched


def redact_document(
    document: Any,
    text_rule: Callable[[str], str],
    names: Pseudonyms,
    paths: tuple[JsonPath, ...] = (),
) -> tuple[Any, bool]:
    """(the document redacted, whether anything changed); ``text_rule`` redacts one string."""
    start: States = frozenset((p, 0) for p in range(len(paths)))
    changed = False

    def scalar(value: Any, whole: bool) -> Any:
        nonlocal changed
        if isinstance(value, str):
            if whole:  # a token already (redacted twice) stays as it is
                new: Any = value if _FIELD_TOKEN.fullmatch(value) else names.token("FIELD", value)
            else:
                new = text_rule(value)
        elif isinstance(value, bool) or value is None:
            return value
        elif isinstance(value, int):
            new = _redact_int(value, whole, names)
        elif isinstance(value, float) and whole:
            new = 0.0
        else:
            return value
        changed = changed or new != value
        return new

    # Each frame: (value, the new container to fill, its slot there, the value's path states, whole).
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, States, bool]] = [(document, root, 0, start, False)]
    while stack:
        value, parent, slot, states, whole = stack.pop()
        if isinstance(value, dict):
            new_dict: dict[str, Any] = {}
            parent[slot] = new_dict
            for key, child in value.items():
                new_key = text_rule(key)  # a key is a text even below a path: the rules apply to it
                if new_key != key:
                    changed = True
                    # Two keys may be one value written two ways (Bob@ and bob@, spaced and bare card
                    # numbers): they keep apart, so the object keeps every member.
                    while new_key in new_dict or (new_key != key and new_key in value):
                        new_key += "'"
                new_dict[new_key] = None  # the key's place, so the order stays
                child_states, matched = _advance(paths, states, key) if states else (states, False)
                stack.append((child, new_dict, new_key, child_states, whole or matched))
        elif isinstance(value, list):
            new_list: list[Any] = [None] * len(value)
            parent[slot] = new_list
            for index, child in enumerate(value):
                child_states, matched = _advance(paths, states, index) if states else (states, False)
                stack.append((child, new_list, index, child_states, whole or matched))
        else:
            parent[slot] = scalar(value, whole)
    return root[0], changed


def _redact_int(value: int, whole: bool, names: Pseudonyms) -> int:
    """An int at a redacted path, or one that is a card number: a pseudonym of as many digits."""
    digits = str(abs(value))
    if not whole and not (13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)):
        return value
    if len(digits) < 2:
        return 0
    pseudonym = int(names.digits("FIELD" if whole else "CARD", digits))
    return -pseudonym if value < 0 else pseudonym
