"""The house's floors: every module of ``shadow/`` imports only floors below its own, and none is huge.

Imports inside functions count too (the CLI imports lazily). Within a package the order of its
modules is kept by that package's own layout test (gate, html, summary).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "shadow"

# Lowest first. A unit is a top-level module or subpackage of shadow.
FLOORS: list[set[str]] = [
    {"shadow", "shadow.errors", "shadow.metrics", "shadow.secrets", "shadow.cjk", "shadow.jsonpath"},
    {"shadow.loopwatch", "shadow.health"},  # the worker's pulse and its HTTP probes: metrics only
    {"shadow.events"},
    {"shadow.config"},
    {"shadow.diff", "shadow.redaction", "shadow.sample"},
    {"shadow.replay", "shadow.storage", "shadow.emit"},  # emit: the producer side, on events, config, redaction
    {"shadow.sink", "shadow.report"},  # the write stage and the read side, both on storage, never on each other
    {"shadow.checkpoint", "shadow.rowbuilder"},  # the commit point; rows from one replayed event
    {"shadow.pipeline"},
    {"shadow.demo"},
    {"shadow.cli"},
    {"shadow.__main__"},
]
FLOOR_OF = {unit: level for level, units in enumerate(FLOORS) for unit in units}
MAX_LINES = 600


def _unit(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def _imports(path: Path) -> set[str]:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "shadow":
                imported |= {_unit(f"shadow.{alias.name}") for alias in node.names}
            elif node.module.startswith("shadow."):
                imported.add(_unit(node.module))
        elif isinstance(node, ast.Import):
            imported |= {_unit(alias.name) for alias in node.names if alias.name.startswith("shadow")}
    return imported


def test_every_unit_has_a_floor() -> None:
    units = {_unit(name) for name, _ in _modules()}
    assert units <= set(FLOOR_OF), f"give these a floor: {sorted(units - set(FLOOR_OF))}"


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[name for name, _ in _modules()])
def test_imports_only_run_down(name: str, path: Path) -> None:
    unit = _unit(name)
    if name == "shadow":
        return  # the package's face: its version
    upward = {
        target
        for target in _imports(path) - {unit}
        if target in FLOOR_OF and FLOOR_OF[target] >= FLOOR_OF[unit] and not (unit != "shadow" and target == "shadow")
    }
    assert not upward, f"{name} (floor {FLOOR_OF[unit]}) imports {sorted(upward)} from its own floor or above"


@pytest.mark.parametrize(("name", "path"), _modules(), ids=[name for name, _ in _modules()])
def test_no_module_over_600_lines(name: str, path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
