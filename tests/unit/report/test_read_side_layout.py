"""The shape of the report and summary packages: small modules, imports one way, a pure renderer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shadow.report.html as html
import shadow.report.summary as summary

REPORT = Path(html.__file__).parents[1]
# Each module imports only those before it in its package.
HTML_FLOORS = ["model", "markup", "charts", "textdiff", "sections", "page"]
SUMMARY_FLOORS = ["query", "wide", "screen"]
STDLIB_ONLY = {"__future__", "collections", "dataclasses", "datetime", "decimal", "difflib", "html", "itertools",
               "json", "math", "numbers", "re", "typing"}  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize(("package", "floors"), [("html", HTML_FLOORS), ("summary", SUMMARY_FLOORS)])
def test_each_module_imports_only_those_below(package: str, floors: list[str]) -> None:
    directory = REPORT / package
    assert sorted(p.stem for p in directory.glob("*.py")) == sorted([*floors, "__init__"])
    prefix = f"shadow.report.{package}."
    for level, floor in enumerate(floors):
        imported = {m.removeprefix(prefix) for m in _imports(directory / f"{floor}.py") if m.startswith(prefix)}
        assert imported <= set(floors[:level]), f"{floor} imports {imported - set(floors[:level])}"


def test_the_html_renderer_is_pure() -> None:
    # Stdlib, the shared formatting and the one CJK definition only: no rich, no store, no queries.
    for path in (REPORT / "html").glob("*.py"):
        for module in _imports(path):
            top = module.split(".")[0]
            assert top in STDLIB_ONLY or module.startswith(
                ("shadow.report.html", "shadow.report.formatting", "shadow.cjk")
            ), f"{path.name} imports {module}"
    assert {m.split(".")[0] for m in _imports(REPORT / "formatting.py")} <= STDLIB_ONLY


@pytest.mark.parametrize("path", sorted([*(REPORT / "html").glob("*.py"), *(REPORT / "summary").glob("*.py")]))
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name


def test_callers_names_are_exported() -> None:
    # shadow.cli, shadow.demo, shadow.report.data and the tests import these.
    for name in ("query_summary", "render_table", "render_markdown", "scorecard", "coverage", "difference_paths"):
        assert name in summary.__all__ and hasattr(summary, name)
    for name in ("render_report", "ReportData", "format_rate", "format_value"):
        assert name in html.__all__ and hasattr(html, name)
