"""The CLI's shared parts: every ``--help`` shows each default once, and library request logs stay quiet."""

from __future__ import annotations

import argparse
import logging
import re

import pytest

from shadow.cli import build_parser
from shadow.cli.common import configure_logging


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_group_registers_its_commands() -> None:
    assert list(_subcommands()) == [
        "run",
        "migrate",
        "produce",
        "ctl",
        "diff",
        "summary",
        "gate",
        "serve",
        "report",
        "rollup",
        "rescore",
        "demo",
        "schema",
        "config",
        "candidate-server",
    ]


@pytest.mark.parametrize("command", list(_subcommands()))
def test_help_shows_each_default_once_and_never_none(command: str) -> None:
    text = _subcommands()[command].format_help()
    # Options are listed one per entry; an entry runs until the next line that starts an option.
    entries = re.split(r"\n  (?=-)", text)
    for entry in entries:
        assert entry.count("(default") <= 1, entry
    assert "(default: None)" not in text
    assert "(default: False)" not in text
    assert "%%" not in text


def test_help_keeps_meaningful_defaults() -> None:
    commands = _subcommands()
    assert "(default: 24h)" in commands["gate"].format_help()
    assert "(default: 8080)" in commands["serve"].format_help()
    assert "(default: kafka.topic)" in commands["produce"].format_help()


@pytest.mark.parametrize("name", ["httpx", "httpcore", "aiokafka"])
def test_request_logs_are_silent_at_the_default_level(name: str) -> None:
    root = logging.getLogger()
    saved = root.level, logging.getLogger(name).level
    try:
        root.setLevel(logging.NOTSET)
        configure_logging("INFO")
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
        assert logging.getLogger("shadow").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(saved[0])
        logging.getLogger(name).setLevel(saved[1])


def test_the_serve_token_comes_from_a_file_or_the_environment(tmp_path, monkeypatch) -> None:
    from shadow.cli.read import serve_token
    from shadow.errors import ConfigError

    monkeypatch.delenv("SHADOW_SERVE_TOKEN", raising=False)
    assert serve_token(None) is None
    monkeypatch.setenv("SHADOW_SERVE_TOKEN", "  from-env \n")
    assert serve_token(None) == "from-env"
    token = tmp_path / "token"
    token.write_text("from-file\nignored\n")
    assert serve_token(str(token)) == "from-file"  # the file wins over the environment
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        serve_token(str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=r"--token-file .*missing"):
        serve_token(str(tmp_path / "missing"))
