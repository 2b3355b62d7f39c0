"""Caps that keep one comparison's work bounded, whatever the answers hold.

Every diff family is linear in its input or runs on a capped part of it. When a cap
changes what was compared, the comparison says so in ``caps`` (stored in the row's
``caps`` column), with one of the names below.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

TEXT_CUT = "text_cut"
"""Similarity scores were computed on the first ``max_similarity_units`` units of a text."""
TOOL_CALLS = "tool_calls"
"""A side made more than ``max_tool_calls`` calls: only the first ones were matched, diffed and validated."""
JSON_PATHS = "json_paths"
"""More than ``max_json_paths`` differences: the list of differing paths stops there."""
JSON_NODES = "json_nodes"
"""A JSON diff stopped after ``max_json_nodes`` nodes before finding out whether the values are equal."""
JSON_DEPTH = "json_depth"
"""JSON nested deeper than ``max_json_depth``: differences below are reported at that depth, and the
schema is not checked."""
SCHEMA_NODES = "schema_nodes"
"""A JSON answer or tool arguments larger than ``max_schema_nodes`` nodes: the schema is not checked."""
SCHEMA_PATTERNS = "schema_patterns"
"""The schema's regular expressions could backtrack too long on this value: the schema is not checked."""

CAP_NAMES = (TEXT_CUT, TOOL_CALLS, JSON_PATHS, JSON_NODES, JSON_DEPTH, SCHEMA_NODES, SCHEMA_PATTERNS)


@dataclass(frozen=True, slots=True)
class DiffLimits:
    """The caps of one comparison (``diff:`` settings; the defaults keep a pair well under 100 ms).

    Attributes:
        max_similarity_units: words (or Chinese/Japanese characters) of each text that the
            similarity scores compare; their cost grows with the product of the two lengths.
        max_tool_calls: tool calls per side that are matched, diffed and schema-checked; counts
            and name agreement cover every call.
        max_json_paths: differences kept per JSON diff (answer, and tool calls together).
        max_json_nodes: nodes one JSON diff walks (the answer's; the tool calls' together).
        max_json_depth: nesting depth down to which differences are located and schemas checked.
        max_schema_nodes: nodes of one JSON value checked against a JSON Schema (jsonschema costs
            about 10 µs per node).
    """

    max_similarity_units: int = 5_000
    max_tool_calls: int = 32
    max_json_paths: int = 200
    max_json_nodes: int = 20_000
    max_json_depth: int = 64
    max_schema_nodes: int = 5_000

    @classmethod
    def of(cls, settings: Any) -> DiffLimits:
        """The caps an object with the same attribute names holds (``Settings.diff``)."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


DEFAULT_LIMITS = DiffLimits()
