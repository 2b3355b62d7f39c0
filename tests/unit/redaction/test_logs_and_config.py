"""Log lines pass the same redaction as rows and lose every secret value; `shadow config` says what lets data out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from shadow.cli import main
from shadow.config import Settings
from shadow.redaction import logs


@pytest.fixture
def handler() -> Iterator[logging.Handler]:
    """A handler on the root logger, as configure_logging makes one, removed afterwards."""
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    handler.stream_text = stream  # type: ignore[attr-defined]
    yield handler
    root.removeHandler(handler)


def test_log_lines_are_redacted_and_secret_values_scrubbed(
    handler: logging.Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHADOW_TEST_KEY", "sk-live-value-that-matches-no-rule")
    monkeypatch.setenv("SHADOW_SERVE_TOKEN", "gate-token-0123456789")
    monkeypatch.setenv("SHADOW_REDACTION_KEY", "the-redaction-key")
    settings = Settings.model_validate(
        {"candidates": [{"name": "c", "provider": "openai", "base_url": "http://x", "model": "m",
                         "api_key_env": "SHADOW_TEST_KEY"}]}
    )  # fmt: skip
    logs.install(settings)
    logs.install(settings)  # again: wrapped once, not twice
    log = logging.getLogger("shadow.test")
    log.warning("bad event from %s card %s", "jane@example.com", "4111 1111 1111 1111")
    try:
        raise ValueError("token gate-token-0123456789 and key sk-live-value-that-matches-no-rule")
    except ValueError:
        log.exception("failed for the-redaction-key")
    text = handler.stream_text.getvalue()  # type: ignore[attr-defined]
    assert "[EMAIL:" in text and "[CARD:" in text and "jane@example.com" not in text and "4111" not in text
    for secret in ("gate-token-0123456789", "sk-live-value-that-matches-no-rule", "the-redaction-key"):
        assert secret not in text
    assert text.count("[SECRET]") >= 3 and "Traceback" in text
    assert isinstance(handler.formatter, logs.RedactingFormatter)
    assert not isinstance(handler.formatter.inner, logs.RedactingFormatter)


@pytest.mark.parametrize(
    ("config", "warning"),
    [
        ("redaction:\n  enabled: false\n", "redaction is disabled"),
        ("{}\n", "no redaction key"),
        ("redaction:\n  raw_dead_letters: true\n", "raw_dead_letters"),
    ],
)
def test_shadow_config_says_what_lets_personal_data_out(
    tmp_path, capsys, monkeypatch, config: str, warning: str
) -> None:
    monkeypatch.delenv("SHADOW_CONFIG", raising=False)
    monkeypatch.delenv("SHADOW_REDACTION_KEY", raising=False)
    path = tmp_path / "shadow.yaml"
    path.write_text(config)
    assert main(["config", "--config", str(path)]) == 0
    captured = capsys.readouterr()
    shown = orjson.loads(captured.out)
    assert any(warning in w for w in shown["warnings"]) and warning in captured.err


def test_shadow_config_has_no_warning_with_a_key_and_redaction_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHADOW_CONFIG", raising=False)
    monkeypatch.setenv("SHADOW_REDACTION_KEY", "k" * 32)
    path = tmp_path / "shadow.yaml"
    path.write_text("{}\n")
    assert main(["config", "--config", str(path)]) == 0
    assert "warnings" not in orjson.loads(capsys.readouterr().out)
