"""The fault suite's figures: run every scenario at the figures' size, print the table, write the JSON.

    python -m tests.faults                  # HEAVY sizes (5,000+ events, 10 kills…), about 12 minutes
    python -m tests.faults --quick          # the CI sizes, a few minutes
    python -m tests.faults --readme         # also rewrite the README's table from the figures

Runs ``pytest tests/faults`` with ``SHADOW_FAULTS_HEAVY=1`` (unless ``--quick``) and every scenario's
figures collected through ``$SHADOW_FAULT_FIGURES``; then the scenarios that need a Docker engine
(a real ClickHouse server stopped and started), which say why when none answers. Kafka: as for the
tests (``KAFKA_BOOTSTRAP_SERVERS``, else a local broker from Maven Central jars). Exits non-zero when
a scenario fails or any figure shows a loss or a duplicate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "tests" / "faults" / "figures.json"
README = ROOT / "README.md"
START, END = "<!-- fault-figures:start -->", "<!-- fault-figures:end -->"
COLUMNS = ("scenario", "runs", "events", "lost", "duplicates_after_final", "dead_letters", "max_rss_mib", "recovery_s")
HEADINGS = ("scenario", "runs", "events", "lost", "duplicates after FINAL", "dead letters", "max RSS MiB", "recovery s")


def run_suite(quick: bool, figures_file: Path) -> int:
    env = {**os.environ, "SHADOW_FAULT_FIGURES": str(figures_file), "SHADOW_REQUIRE_SERVICES": "1"}
    if not quick:
        env["SHADOW_FAULTS_HEAVY"] = "1"
    command = [sys.executable, "-m", "pytest", "tests/faults", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def docker_rows() -> list[dict[str, Any]]:
    """The scenarios that need a Docker engine; each a figures row, or a row saying why it did not run."""
    rows = []
    try:
        from tests.faults.test_clickhouse_failures import docker_server_scenario
    except ImportError as exc:
        return [{"scenario": "ClickHouse server stopped and started (Docker)", "note": f"not run: {exc}"}]
    try:
        rows.append(asdict(docker_server_scenario()))
    except RuntimeError as exc:
        rows.append({"scenario": "ClickHouse server stopped and started (Docker)", "note": str(exc)})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADINGS) + " |", "|" + "---|" * len(HEADINGS)]
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = row.get(column)
            cells.append("—" if value is None else str(value))
        if row.get("note") and row.get("events") is None:
            cells[1:] = [row["note"]] + ["—"] * (len(COLUMNS) - 2)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_readme(document: dict[str, Any]) -> None:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} … {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    body = (
        f"\n{table(document['scenarios'])}\n\n"
        f"_{document['mode']} run of {document['date'][:10]} at commit {document['commit']}, "
        f"{document['machine']}; `tests/faults/figures.json` has every field"
        + (f"; {document['note']}" if document.get("note") else "")
        + "._\n"
    )
    README.write_text(head + START + body + END + tail, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the CI sizes instead of the figures' sizes")
    parser.add_argument("--out", type=Path, default=FIGURES, help=f"figures file (default {FIGURES.relative_to(ROOT)})")
    parser.add_argument("--readme", action="store_true", help="rewrite the README's fault figures table")
    args = parser.parse_args()

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        lines = Path(scratch) / "figures.jsonl"
        lines.touch()
        code = run_suite(args.quick, lines)
        rows = [json.loads(line) for line in lines.read_text().splitlines() if line.strip()]
    rows += docker_rows()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip() or "unknown",
        "mode": "quick (CI sizes)" if args.quick else "full",
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        "suite_exit_code": code,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "scenarios": rows,
    }
    args.out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n" + table(rows))
    print(f"\n{len(rows)} scenarios in {document['minutes']} min; figures in {args.out}")
    if args.readme:
        write_readme(document)
        print(f"README.md table rewritten from {args.out}")
    bad = [r["scenario"] for r in rows if (r.get("lost") or 0) or (r.get("duplicates_after_final") or 0)]
    if code or bad:
        raise SystemExit(f"fault suite failed (pytest exit {code}); losses or duplicates in: {bad or 'none'}")


if __name__ == "__main__":
    main()
