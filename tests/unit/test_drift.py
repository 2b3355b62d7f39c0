"""Generated artifacts stay equal to the code: JSON Schema, DDL column list, README configuration reference."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from shadow.config import ClickHouseSettings, config_reference
from shadow.events.models import mirror_event_json_schema
from shadow.sink.rows import COMPARISON_COLUMNS, INGEST_COLUMNS
from shadow.storage.migrate import load_migrations

ROOT = Path(__file__).resolve().parents[2]


def ddl_columns(table: str) -> tuple[str, ...]:
    """The table's columns after every migration: its CREATE TABLE, then each ``ADD COLUMN`` appended."""
    columns: list[str] | None = None
    for migration in load_migrations():
        for statement in migration.statements(ClickHouseSettings(database="db")):
            if re.search(rf"CREATE TABLE IF NOT EXISTS db\.{table}\b", statement):
                body = statement[statement.index("(") + 1 : statement.rindex(")")]
                columns = [m.group(1) for m in re.finditer(r"^\s*([a-z_][a-z0-9_]*)\s+[A-Z]", body, re.MULTILINE)]
            elif columns is not None and re.search(rf"ALTER TABLE db\.{table}\b", statement):
                columns += re.findall(r"ADD COLUMN (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", statement)
    assert columns is not None, f"no CREATE TABLE for {table}"
    return tuple(columns)


def test_committed_json_schema_equals_the_model() -> None:
    committed = orjson.loads((ROOT / "schemas" / "mirror_event.v1.schema.json").read_bytes())
    assert committed == mirror_event_json_schema(), "run `make schemas` and commit the result"


def test_comparison_columns_equal_the_ddl() -> None:
    assert ddl_columns("comparisons") == COMPARISON_COLUMNS


def test_ingest_columns_equal_the_ddl() -> None:
    assert ddl_columns("ingest_log") == INGEST_COLUMNS


def test_readme_configuration_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- config-reference:start -->\n", "\n<!-- config-reference:end -->"
    block = readme[readme.index(start) + len(start) : readme.index(end)]
    assert block == config_reference(), "run `make readme` and commit the result"


def test_bundled_demo_data_is_what_its_generator_makes(tmp_path: Path) -> None:
    # The generator writes next to its own checkout: run a copy of scripts/ in a scratch tree.
    shutil.copytree(ROOT / "scripts" / "demo_content", tmp_path / "scripts" / "demo_content")
    shutil.copy2(ROOT / "scripts" / "make_demo_data.py", tmp_path / "scripts" / "make_demo_data.py")
    (tmp_path / "shadow" / "demo" / "data").mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "make_demo_data.py")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for name in ("events.ndjson", "recordings.json"):
        generated = (tmp_path / "shadow" / "demo" / "data" / name).read_bytes()
        assert generated == (ROOT / "shadow" / "demo" / "data" / name).read_bytes(), (
            f"{name}: run `python scripts/make_demo_data.py` and commit the result"
        )
