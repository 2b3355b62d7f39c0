"""Log lines pass the same redaction as rows, and known secret values are scrubbed from them.

:func:`install` wraps the formatter of every handler on the root logger: the formatted line (message,
arguments and traceback alike) goes through the :class:`~shadow.redaction.Redactor` of the loaded
settings, then through :func:`shadow.secrets.scrub_secrets` with the secret values the settings name
(candidates' API keys and secret headers, the ClickHouse and Kafka passwords, the gate's token, the
redaction key). A line is cut to :data:`MAX_LOG_CHARS` characters first, so logging stays cheap.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable

from shadow.config import Settings, read_api_key, read_secret_headers
from shadow.errors import ConfigError
from shadow.redaction import KEY_ENV, Redactor
from shadow.secrets import scrub_secrets

MAX_LOG_CHARS = 16_384


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner``, then redacts and scrubs the line."""

    def __init__(self, inner: logging.Formatter | None, redactor: Redactor, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.redactor = redactor
        self.secrets = tuple(secret for secret in secrets if len(secret) >= 4)

    def format(self, record: logging.LogRecord) -> str:
        # Secrets first, on the whole line (a secret cut in two would show its first part), then the rules.
        return self.redactor.cut(scrub_secrets(self.inner.format(record), self.secrets), MAX_LOG_CHARS)


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret value the settings lead to (those that cannot be read are left out: nothing to leak)."""
    values: list[str | None] = [os.environ.get(KEY_ENV), os.environ.get("SHADOW_SERVE_TOKEN")]
    with contextlib.suppress(ConfigError, OSError):
        values.append(settings.clickhouse.password_value())
    with contextlib.suppress(ConfigError):
        values.append(settings.kafka.sasl_password_value())
    for candidate in settings.candidates:
        with contextlib.suppress(ConfigError):
            key = read_api_key(candidate)
            values.append(key.get_secret_value() if key is not None else None)
        with contextlib.suppress(ConfigError):
            values.extend(value.get_secret_value() for value in read_secret_headers(candidate).values())
    return [value for value in values if value]


def install(settings: Settings) -> None:
    """Redact every log line of this process from now on (again with the latest settings when called again)."""
    redactor = Redactor.from_settings(settings.redaction)
    secrets = settings_secrets(settings)
    for handler in logging.getLogger().handlers:
        current = handler.formatter
        inner = current.inner if isinstance(current, RedactingFormatter) else current
        handler.setFormatter(RedactingFormatter(inner, redactor, secrets))
