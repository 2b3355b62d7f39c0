"""The ``shadow`` command line as users call it: help, diff, schema, config, demo and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.factories import WEATHER_TOOL, anthropic_response, make_event, openai_request, openai_response

ROOT = Path(__file__).resolve().parents[2]
SHADOW = [sys.executable, "-m", "shadow"]
COMMANDS = ["run", "migrate", "produce", "diff", "summary", "rescore", "demo", "schema", "config", "candidate-server"]


def shadow(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run([*SHADOW, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def test_help_explains_every_command() -> None:
    top = shadow("--help")
    assert top.returncode == 0
    for command in COMMANDS:
        assert command in top.stdout
        done = shadow(command, "--help")
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.split()) > 25, f"{command} --help says too little"


def write(path: Path, data: object) -> str:
    path.write_bytes(orjson.dumps(data))
    return str(path)


def test_diff_prints_every_first_cut_metric_for_openai_tool_calls(tmp_path: Path) -> None:
    request = openai_request("Weather in Paris and Tokyo?", tools=[WEATHER_TOOL])
    production = openai_response(
        None, tool_calls=[("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Tokyo"})]
    )
    candidate = openai_response(
        None,
        tool_calls=[("get_weather", {"city": "Tokyo", "unit": "kelvin"}), ("get_weather", {"town": "Paris"})],
        completion_tokens=30,
    )
    done = shadow(
        "diff",
        write(tmp_path / "p.json", production),
        write(tmp_path / "c.json", candidate),
        "--request",
        write(tmp_path / "r.json", request),
        "--production-latency-ms",
        "800",
        "--candidate-latency-ms",
        "1200",
    )
    assert done.returncode == 0, done.stderr
    metrics = orjson.loads(done.stdout)
    assert metrics["json"]["valid"] == {"production": False, "candidate": False}
    assert metrics["length"]["chars"] == {"production": 0, "candidate": 0}
    assert "char_ratio" in metrics["length"]
    tools = metrics["tool_calls"]
    assert tools["count"] == {"production": 2, "candidate": 2}
    assert tools["names_match"] is True and tools["arguments_match"] is False
    assert sorted(tools["difference_paths"]) == ["get_weather.city", "get_weather.town", "get_weather.unit"]
    assert tools["schema_valid"]["candidate"] is False
    assert metrics["behaviour"]["finish_reason"] == {"production": "tool_calls", "candidate": "tool_calls"}
    assert metrics["latency"] == {"production_ms": 800.0, "candidate_ms": 1200.0, "ratio": 1.5}
    assert metrics["tokens"]["output"] == {"production": 9, "candidate": 30}
    assert set(metrics["similarity"]) == {"indel", "levenshtein", "token_set"}


def test_diff_of_anthropic_answers_with_json_and_truncation(tmp_path: Path) -> None:
    production = anthropic_response('{"vendor": "上海示例科技有限公司", "total": 1280.5}')
    candidate = anthropic_response(
        '```json\n{"vendor": "上海示例科技有限公司", "total": "1280.50"', stop_reason="max_tokens"
    )
    done = shadow("diff", write(tmp_path / "p.json", production), write(tmp_path / "c.json", candidate))
    assert done.returncode == 0, done.stderr
    metrics = orjson.loads(done.stdout)
    assert metrics["json"]["valid"] == {"production": True, "candidate": False}
    assert metrics["behaviour"]["truncated"] is True
    assert metrics["behaviour"]["finish_reason"] == {"production": "stop", "candidate": "length"}
    assert 0 < metrics["similarity"]["indel"] < 1
    assert metrics["length"]["char_ratio"] > 1


def test_diff_accepts_mirror_events_and_reads_their_latency(tmp_path: Path) -> None:
    event = make_event(latency_ms=640)
    candidate = openai_response("Hello! How can I help you?")
    done = shadow("diff", write(tmp_path / "e.json", event), write(tmp_path / "c.json", candidate))
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["latency"]["production_ms"] == 640


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"{oops", "is not valid JSON"),
        (b'{"hello": 1}', "cannot tell the API"),
        (b'{"choices": []}', "response.choices must be a non-empty array"),
    ],
)
def test_diff_names_what_is_wrong_with_its_input(tmp_path: Path, content: bytes | None, message: str) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_bytes(content)
    good = write(tmp_path / "good.json", openai_response())
    done = shadow("diff", str(bad), good)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_schema_command_prints_the_committed_schema() -> None:
    done = shadow("schema")
    assert orjson.loads(done.stdout) == orjson.loads((ROOT / "schemas" / "mirror_event.v1.schema.json").read_bytes())


def test_config_masks_secrets(tmp_path: Path) -> None:
    env = {**os.environ, "SHADOW_CLICKHOUSE__PASSWORD": "hunter2-very-secret", "SHADOW_KAFKA__TOPIC": "from-env"}
    done = shadow("config", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "hunter2" not in done.stdout
    config = orjson.loads(done.stdout)
    assert config["clickhouse"]["password"] == "**********"
    assert config["kafka"]["topic"] == "from-env"


def test_produce_without_its_file_says_so(tmp_path: Path) -> None:
    done = shadow("produce", str(tmp_path / "missing.ndjson"), "--topic", "t")
    assert done.returncode == 2 and "missing.ndjson does not exist" in done.stderr


@pytest.mark.timeout(180)
def test_demo_prints_one_line_per_candidate_with_every_family_nonzero(tmp_path: Path) -> None:
    done = shadow("demo", "--format", "json", cwd=tmp_path, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = orjson.loads(done.stdout)
    candidates = {row["candidate"]: row for row in summary["candidates"]}
    assert set(candidates) == {"gpt-4.1-mini", "claude-haiku-4-5", "control-gpt-4o", "control-claude-sonnet"}
    assert (tmp_path / ".shadow" / "chdb").is_dir()
    for name in ("gpt-4.1-mini", "claude-haiku-4-5"):
        row = candidates[name]
        assert row["compared"] == 232
        assert row["candidate_errors"] > 0 and row["timeouts"] > 0 and row["rate_limited"] > 0  # errors
        assert row["json_broken"] + row["candidate_json_wrapped"] > 0  # JSON
        assert row["tool_argument_mismatches"] > 0  # tool calls
        assert row["longer"] + row["shorter"] > 0  # length
        assert row["similarity_p10"] < 1.0  # similarity
        assert row["finish_changes"] > 0  # behaviour
        assert row["candidate_refusals"] > 0  # refusals
        assert row["candidate_latency_p95_ms"] > 0 and row["production_latency_p95_ms"] > 0  # latency
        assert row["candidate_cost_per_request_usd"] > 0 and row["production_cost_per_request_usd"] > 0  # cost
    assert candidates["gpt-4.1-mini"]["candidate_schema_failures"] > 0
    assert sum(w["consumed"] for w in summary["coverage"]["workflows"]) == 232
    assert sum(w["replayed"] for w in summary["coverage"]["workflows"]) == 232

    # The Grafana dashboard's every query runs against the demo's store and returns rows.
    dashboard = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "grafana" / "check_dashboard.py"), "--dsn",
         f"chdb://{tmp_path / '.shadow' / 'chdb'}", "--from", "2026-11-23T00:00:00Z", "--to", "2026-11-24T00:00:00Z"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert dashboard.returncode == 0, dashboard.stdout[-2000:] + dashboard.stderr[-2000:]

    # The on-call screen fits an 80-column terminal: one line per candidate in each band of the overall table.
    table = shadow("summary", cwd=tmp_path, env={**os.environ, "COLUMNS": "80"})
    assert table.returncode == 0, table.stderr
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    overall = table.stdout.split("Candidates, all workflows\n", 1)[1].split("\n\n", 1)[0].splitlines()
    bands = sum(line.startswith("candidate ") for line in overall)
    for name in candidates:
        assert sum(line.startswith(name + " ") for line in overall) == bands, name
    for width in (120, 200):
        fitted = shadow("summary", cwd=tmp_path, env={**os.environ, "COLUMNS": str(width)})
        assert max(len(line) for line in fitted.stdout.splitlines()) <= width
    markdown = shadow("summary", "--format", "markdown", cwd=tmp_path)
    assert all(f"| {name}" in markdown.stdout for name in candidates)
    # --wide keeps the full table with every column, whatever the terminal.
    wide = shadow("summary", "--wide", cwd=tmp_path, env={**os.environ, "COLUMNS": "80"})
    assert wide.returncode == 0, wide.stderr
    assert max(len(line) for line in wide.stdout.splitlines()) > 200
    assert "cost $/1k requests" in wide.stdout and "latency p95 ms" in wide.stdout
