"""``shadow ctl`` without Kafka: its arguments, who ``--by`` names, the name check and the ``show`` rendering."""

from __future__ import annotations

import argparse
import getpass
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from shadow.cli import build_parser, control, main
from shadow.config import load_settings
from shadow.errors import ConfigError
from shadow.events.control import ALL, ControlRecord


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["ctl", *argv])


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def config(tmp_path: Path, *names: str, bootstrap: str = "127.0.0.1:1") -> Path:
    lane = {"provider": "openai", "base_url": "http://127.0.0.1:1", "model": "m"}
    path = tmp_path / "shadow.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": bootstrap, "control_topic": "ctl-unit"},
                "candidates": [{"name": name, **lane} for name in names],
            }
        )
    )
    return path


def record(candidate: str, state: str, reason: str = "", by: str = "alice@host") -> ControlRecord:
    return ControlRecord.model_validate(
        {
            "candidate": candidate,
            "state": state,
            "reason": reason,
            "by": by,
            "at": datetime(2026, 11, 30, 9, 15, tzinfo=UTC),
        }
    )


def test_the_global_key_is_the_control_planes() -> None:
    assert control.GLOBAL == ALL


def test_each_change_parses_to_its_state() -> None:
    disable = parse("disable", "cand-a", "--reason", "  bad JSON  ", "--by", "bob")
    assert (disable.state, disable.name, disable.all, disable.reason, disable.by) == (
        "disabled",
        "cand-a",
        False,
        "bad JSON",
        "bob",
    )
    assert disable.handler is control.cmd_change and disable.format == "text"
    pause = parse("pause", "--all", "--reason", "budget", "--format", "json")
    assert (pause.state, pause.name, pause.all, pause.format) == ("paused", None, True, "json")
    enable = parse("enable", "cand-a")  # a reason is optional when enabling
    assert (enable.state, enable.reason, enable.by, enable.force) == ("enabled", None, None, False)
    show = parse("show", "--format", "json", "--config", "x.yaml")
    assert show.handler is control.cmd_show and (show.format, show.config) == ("json", "x.yaml")


@pytest.mark.parametrize("action", ["disable", "pause"])
def test_disable_and_pause_require_a_reason(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "the following arguments are required: --reason" in usage_error(capsys, action, "cand-a")
    assert "reason must not be empty" in usage_error(capsys, action, "cand-a", "--reason", "   ")
    assert "at most 1000" in usage_error(capsys, action, "cand-a", "--reason", "x" * 1001)


def test_a_change_names_one_candidate_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert "one of the arguments NAME --all is required" in usage_error(capsys, "enable")
    assert "not allowed with argument NAME" in usage_error(capsys, "disable", "cand-a", "--all", "--reason", "r")
    assert "invalid choice" in usage_error(capsys, "kill", "cand-a")
    assert "by must not be empty" in usage_error(capsys, "enable", "cand-a", "--by", "")


def test_by_defaults_to_user_at_host_and_survives_missing_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    monkeypatch.setattr(socket, "gethostname", lambda: "ops-1")
    assert control.default_by() == "alice@ops-1"

    def no_user() -> str:
        raise OSError("No username set in the environment")

    def no_host() -> str:
        raise OSError("no hostname")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert control.default_by() == "ops-1"
    monkeypatch.setattr(socket, "gethostname", no_host)
    assert control.default_by() == "unknown"


def test_only_configured_candidates_unless_forced(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, "cand-a", "cand-b"))
    assert control.target(parse("disable", "cand-a", "--reason", "r"), settings) == "cand-a"
    assert control.target(parse("disable", "--all", "--reason", "r"), settings) == ALL
    assert control.target(parse("disable", "*", "--reason", "r"), settings) == ALL
    with pytest.raises(ConfigError, match=r"'ghost' is not a candidate .*configured candidates: cand-a, cand-b"):
        control.target(parse("disable", "ghost", "--reason", "r"), settings)
    assert control.target(parse("disable", "ghost", "--reason", "r", "--force"), settings) == "ghost"
    with pytest.raises(ConfigError, match="configured candidates: none"):
        control.target(parse("enable", "ghost"), load_settings(config(tmp_path)))


def test_an_unknown_name_is_refused_before_kafka_is_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The broker address is a closed port: reaching Kafka would fail with exit 1, not 2.
    path = config(tmp_path, "cand-a")
    assert main(["ctl", "disable", "ghost", "--reason", "r", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("shadow ctl: 'ghost' is not a candidate") and "--force" in err
    assert main(["ctl", "disable", "cand-a", "--reason", "r", "--config", str(path)]) == 1
    assert "shadow ctl: Kafka" in capsys.readouterr().err


def test_show_lists_the_switch_every_configured_candidate_and_other_keys() -> None:
    records = {"cand-a": record("cand-a", "disabled", "bad JSON"), "zz-other": record("zz-other", "paused", "budget")}
    rows = control.show_rows(["cand-b", "cand-a"], records)
    assert [(r["candidate"], r["state"], r["effective"], r["record"], r["configured"]) for r in rows] == [
        (ALL, "enabled", "enabled", False, False),
        ("cand-b", "enabled", "enabled", False, True),
        ("cand-a", "disabled", "disabled", True, True),
        ("zz-other", "paused", "paused", True, False),
    ]
    assert rows[2]["reason"] == "bad JSON" and rows[2]["by"] == "alice@host"
    assert rows[2]["at"] == "2026-11-30T09:15:00+00:00" and rows[1]["at"] is None

    table = control.render_table(rows, "shadow.control").splitlines()
    assert table[0].split() == ["CANDIDATE", "STATE", "BY", "AT", "REASON"]
    assert table[2].split() == ["cand-b", "enabled", "-", "(no", "record)", "-"]
    assert table[3].split() == ["cand-a", "disabled", "alice@host", "2026-11-30T09:15:00+00:00", "bad", "JSON"]
    assert table[4].startswith("zz-other (not configured here)")
    assert table[-1] == "control topic shadow.control"
    # Columns line up: every row's state starts where the header's does.
    assert {
        line.index(word)
        for line, word in zip(table[:5], ["STATE", "enabled", "enabled", "disabled", "paused"], strict=True)
    } == {table[0].index("STATE")}


def test_show_says_when_the_global_switch_overrides_a_candidate() -> None:
    records = {ALL: record(ALL, "paused", "incident"), "cand-a": record("cand-a", "disabled", "bad")}
    rows = control.show_rows(["cand-a", "cand-b"], records)
    assert [(r["candidate"], r["state"], r["effective"]) for r in rows] == [
        (ALL, "paused", "paused"),
        ("cand-a", "disabled", "paused"),  # the global switch comes first, as in the workers
        ("cand-b", "enabled", "paused"),
    ]
    text = control.render_table(rows, "t")
    assert "enabled → paused" in text and "disabled → paused" in text
    assert "the global switch is paused: every candidate is paused whatever its own state" in text


def test_a_worker_report_key_is_never_a_candidate_name() -> None:
    from shadow.config import CandidateSettings

    with pytest.raises(ValueError, match="must not start with 'worker:'"):
        CandidateSettings(name="worker:g:1", provider="openai", base_url="http://c.invalid/v1", model="m")
