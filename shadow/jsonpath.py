"""A small JSONPath subset, for the redaction's configured paths: ``$.a.b``, ``$['a b']``, ``$.items[*].name``,
``$..name`` (``name`` at any depth) and ``$.*``.

It lives on the lowest floor so the configuration can check paths when it is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY = object()  # a step matching any key or index


@dataclass(frozen=True, slots=True)
class Step:
    key: object  # a str key, ANY
    descendant: bool  # ``..``: the key at any depth below


@dataclass(frozen=True, slots=True)
class JsonPath:
    text: str
    steps: tuple[Step, ...]


_STEP = re.compile(
    r"""(\.\.|\.)(\*|[A-Za-z_][\w-]*)"""  # .key .* ..key ..*
    r"""|\[\*\]|\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]"""  # [*] ['key'] ["key"]
    r"""|\.\.(?=\[)"""  # .. before a bracket
)


def parse_path(text: str) -> JsonPath:
    """A path of the supported subset, or ValueError naming what is wrong."""
    if not text.startswith("$"):
        raise ValueError(f"JSON path {text!r} must start with $")
    steps: list[Step] = []
    pos, descendant = 1, False
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            raise ValueError(f"JSON path {text!r}: cannot read {text[pos:]!r} (supported: .key ..key [*] ['key'] .*)")
        pos = match.end()
        if match.group(0) == "..":  # ..['key'] or ..[*]
            descendant = True
            continue
        if match.group(2) is not None:
            key: object = ANY if match.group(2) == "*" else match.group(2)
            steps.append(Step(key, descendant or match.group(1) == ".."))
        elif match.group(0) == "[*]":
            steps.append(Step(ANY, descendant))
        else:
            quoted = match.group(3) if match.group(3) is not None else match.group(4)
            steps.append(Step(re.sub(r"\\(.)", r"\1", quoted), descendant))
        descendant = False
    if not steps:
        raise ValueError(f"JSON path {text!r} names no field")
    return JsonPath(text, tuple(steps))
