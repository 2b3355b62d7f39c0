"""The gate package's shape: its exports, and imports that go one way (policy ← rules ← evaluation ← render)."""

from __future__ import annotations

import ast
from pathlib import Path

import shadow.report.gate as gate

FLOORS = ["policy", "rules", "evaluation", "render"]
BESIDE = ["simulation"]  # seeded simulations of the rules' error rates: they import no floor
PACKAGE = Path(gate.__file__).parent


def test_callers_names_are_exported() -> None:
    # Imported by shadow.cli, shadow.report.data, shadow.report.serve and the integration tests.
    for name in ("EXIT_CODES", "GateResult", "Outcome", "PolicySettings", "Verdict", "evaluate_gate", "load_policy",
                 "render_gate"):  # fmt: skip
        assert name in gate.__all__ and hasattr(gate, name)
    assert sorted(gate.__all__) == sorted(set(gate.__all__))


def test_each_floor_imports_only_the_floors_below() -> None:
    assert sorted(p.stem for p in PACKAGE.glob("*.py")) == sorted([*FLOORS, *BESIDE, "__init__"])
    for level, floor in [*enumerate(FLOORS), *((0, name) for name in BESIDE)]:
        tree = ast.parse((PACKAGE / f"{floor}.py").read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{floor} has no module docstring"
        imported = {
            node.module.rsplit(".", 1)[1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shadow.report.gate.")
        }
        assert imported <= set(FLOORS[:level]), f"{floor} imports {imported - set(FLOORS[:level])}"
